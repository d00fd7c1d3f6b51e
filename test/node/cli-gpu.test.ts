// The CLI's GPU route end to end: headless Chromium with WebGPU (SwiftShader here), never a mock and never
// the CPU path: the output must name the adapter that ran the WGSL.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testTempDir } from '../temp-dir.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

async function nabla(...args: string[]) {
  const r = await run('node', ['bin/nabla.mjs', ...args], { cwd: root, timeout: 120_000 });
  return JSON.parse(r.stdout);
}

// float32 GPU arithmetic vs float64 CPU on tiny files: parameters agree to ~1e-6 after convergence,
// gradients at a given point to float32 rounding of the sums.
const REL = 1e-5;

describe('nabla --device gpu', () => {
  it('train --json on CSV matches the CPU path and names the adapter', async () => {
    const common = ['train', '--data', 'test/fixtures/good.csv', '--target', 'y', '--json'];
    const gpu = await nabla(...common, '--device', 'gpu');
    const cpu = await nabla(...common, '--device', 'cpu');
    expect(gpu.device).toBe('gpu');
    expect(typeof gpu.adapter).toBe('string');
    expect(gpu.adapter.length).toBeGreaterThan(0);
    expect(gpu.weights.x1).toBeCloseTo(cpu.weights.x1, 4);
    expect(gpu.weights.x2).toBeCloseTo(cpu.weights.x2, 4);
    expect(gpu.bias).toBeCloseTo(cpu.bias, 4);
    expect(gpu.rows).toBe(9);
  }, 180_000);

  it('gradient --json on JSON with missing values matches the CPU path', async () => {
    const common = ['gradient', '--data', 'test/fixtures/missing.json', '--target', 'y', '--features', 'x1,x2',
      '--weights', '0.5,-1', '--bias', '2', '--json'];
    const gpu = await nabla(...common, '--device', 'gpu');
    const cpu = await nabla(...common, '--device', 'cpu');
    expect(gpu.device).toBe('gpu');
    expect(gpu.rows).toBe(cpu.rows);
    expect(gpu.droppedRows).toBe(cpu.droppedRows);
    for (const k of ['x1', 'x2', 'bias']) {
      expect(Math.abs(gpu.gradient[k] - cpu.gradient[k])).toBeLessThanOrEqual(REL * Math.max(1, Math.abs(cpu.gradient[k])));
    }
    expect(Math.abs(gpu.loss - cpu.loss)).toBeLessThanOrEqual(REL * cpu.loss);
  }, 180_000);
});

describe('nabla train --model on the GPU', () => {
  it('an MLP on XOR-like data trains on the adapter and lands where the CPU path does', async () => {
    const file = join(testTempDir('gpu-model'), 'xor.csv');
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const rows = ['a,b,label'];
    for (let i = 0; i < 300; i++) {
      const a = rand();
      const b = rand();
      rows.push(`${a.toFixed(4)},${b.toFixed(4)},${a * b > 0 ? 'same' : 'diff'}`);
    }
    writeFileSync(file, rows.join('\n'));
    const common = ['train', '--model', 'mlp', '--hidden', '12', '--activation', 'tanh', '--optimizer', 'adam', '--lr', '0.05',
      '--epochs', '200', '--data', file, '--target', 'label', '--json'];
    const gpu = await nabla(...common, '--device', 'gpu');
    const cpu = await nabla(...common, '--device', 'cpu');
    expect(gpu.device).toBe('gpu');
    expect(gpu.adapter).toBeTruthy();
    expect(gpu.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
    // Same seeded init and optimizer; float32 vs float64 drift over 200 Adam steps stays small.
    expect(Math.abs(gpu.loss - cpu.loss)).toBeLessThan(1e-3 * Math.max(1, cpu.loss));
    // Mini-batches of 64 (the last of 300 rows holds 44), in the same seeded order on both paths.
    const batched = [...common.map((a) => (a === '200' ? '40' : a)), '--batch-size', '64'];
    const gpuB = await nabla(...batched, '--device', 'gpu');
    const cpuB = await nabla(...batched, '--device', 'cpu');
    expect([gpuB.device, gpuB.updates, cpuB.updates, gpuB.batchSize]).toEqual(['gpu', 200, 200, 64]);
    expect(Math.abs(gpuB.loss - cpuB.loss)).toBeLessThan(1e-3 * Math.max(1, cpuB.loss));
    expect(gpuB.metrics.accuracy).toBeGreaterThanOrEqual(0.9);
  }, 300_000);
});

describe('nabla train --stream', () => {
  it('streams a CSV to the GPU in many chunks and lands where in-memory training does', async () => {
    const file = join(testTempDir('stream'), 'big.csv');
    const rows = ['a,b,y'];
    for (let i = 0; i < 3_001; i++) {
      const a = (i % 97) / 10;
      const b = ((i * 7) % 53) / 5;
      rows.push(`${a},${b},${(1.5 * a - 0.5 * b + 3 + ((i % 11) - 5) / 50).toFixed(5)}`);
    }
    writeFileSync(file, rows.join('\n'));
    // 5 KiB chunks of 2 features: 652 rows each, so 5 chunks, the last one ragged.
    const common = ['train', '--data', file, '--target', 'y', '--device', 'gpu', '--chunk-mb', '0.005', '--json'];
    const streamed = await nabla(...common, '--stream');
    const memory = await nabla(...common);
    expect(streamed.device).toBe('gpu');
    expect(streamed.rows).toBe(3_001);
    expect(streamed.epochs).toBe(memory.epochs);
    // Same chunking; standardization statistics from a streaming pass agree with the in-memory ones to
    // ~1e-12, so the results agree to float32 precision.
    for (const k of ['a', 'b']) expect(Math.abs(streamed.weights[k] - memory.weights[k])).toBeLessThan(1e-5);
    expect(Math.abs(streamed.bias - memory.bias)).toBeLessThan(1e-5);
  }, 240_000);
});

describe('nabla train --model --stream on the GPU', () => {
  it('an MLP by mini-batches inside streamed chunks lands where the float64 twin does on the same stream', async () => {
    const file = join(testTempDir('mstream'), 'rings.csv');
    const rows = ['u,v,label'];
    for (let i = 0; i < 600; i++) {
      const t = (i * 2.399963) % (2 * Math.PI);
      const r = i % 2 ? 1 : 0.4;
      rows.push(`${(r * Math.cos(t)).toFixed(4)},${(r * Math.sin(t)).toFixed(4)},${i % 2 ? 'outer' : 'inner'}`);
    }
    writeFileSync(file, rows.join('\n'));
    // 0.002 MiB chunks of 2 features + label: 174 rows each, 4 chunks (the last ragged); batches of 32 inside them.
    const common = ['train', '--data', file, '--target', 'label', '--model', 'mlp', '--hidden', '8', '--activation', 'tanh',
      '--optimizer', 'adam', '--lr', '0.05', '--epochs', '4', '--batch-size', '32', '--stream', '--chunk-mb', '0.002', '--json'];
    const gpu = await nabla(...common, '--device', 'gpu');
    const cpu = await nabla(...common, '--device', 'cpu64');
    expect([gpu.device, typeof gpu.adapter]).toEqual(['gpu', 'string']);
    expect([gpu.rows, gpu.updates, gpu.classes]).toEqual([600, 4 * (6 + 6 + 6 + 3), ['inner', 'outer']]);
    expect(gpu.updates).toBe(cpu.updates);
    // float32 GPU vs float64 through 84 Adam updates of a small MLP: measured 1.5e-5 relative here; 1e-4 is the
    // bound every GPU-vs-float64 training test uses (test/gpu/models-batches.test.ts), a dropped or repeated
    // batch moves the loss by far more.
    expect(Math.abs(gpu.loss - cpu.loss) / cpu.loss).toBeLessThan(1e-4);
  }, 240_000);
});

describe('nabla train --stream, raw format', () => {
  it('a raw file streams to the GPU page (column subset, ragged last chunk) and lands where in-memory training does', async () => {
    const { createRawWriter } = await import('../../src/data/raw-format.ts');
    const dir = testTempDir('stream-raw');
    const n = 3_001;
    // Columns a, junk, b and the target y; the features are chosen as b,a: the kernel maps the columns.
    const write = async (file: string, nanRow: number | null) => {
      const w = await createRawWriter(file, ['a', 'junk', 'b'], 'y');
      const x = new Float32Array(n * 3);
      const y = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const a = (i % 97) / 10;
        const b = ((i * 7) % 53) / 5;
        x.set([i === nanRow ? NaN : a, 1e6 * ((i % 5) - 2), b], i * 3);
        y[i] = 1.5 * a - 0.5 * b + 3 + ((i % 11) - 5) / 50;
      }
      await w.append(x, y, n);
      await w.finish();
    };
    const file = join(dir, 'big.f32');
    await write(file, null);
    // 5 KiB chunks: 652 rows of the 2 chosen features, so 5 chunks, the last one of 393 rows.
    const common = ['train', '--data', file, '--target', 'y', '--features', 'b,a', '--device', 'gpu', '--chunk-mb', '0.005'];
    const text = await run('node', ['bin/nabla.mjs', ...common, '--stream', '--epochs', '2'], { cwd: root, timeout: 120_000 });
    expect(text.stderr).toMatch(/3001 rows \(0 dropped\).*streaming 652-row chunks\n/);
    const streamed = await nabla(...common, '--json', '--stream');
    const memory = await nabla(...common, '--json');
    expect([streamed.device, streamed.rows, streamed.epochs]).toEqual(['gpu', n, memory.epochs]);
    for (const k of ['a', 'b']) expect(Math.abs(streamed.weights[k] - memory.weights[k])).toBeLessThan(1e-5);
    expect(Math.abs(streamed.bias - memory.bias)).toBeLessThan(1e-5);
    // A row dropped for a missing value is not trained on.
    const holey = join(dir, 'holey.f32');
    await write(holey, 17);
    const dropped = await run('node', ['bin/nabla.mjs', ...common.map((a) => (a === file ? holey : a)), '--stream', '--epochs', '2'], { cwd: root, timeout: 120_000 });
    expect(dropped.stderr).toMatch(/3000 rows \(1 dropped\).*streaming 652-row chunks\n/);
  }, 240_000);
});

