// Formula models through the CLI's GPU route end to end (modelled on cli-gpu.test.ts): headless Chromium with
// WebGPU (SwiftShader here), the formula compiled in the page, GpuFormulaEngine training or fitting there;
// never a mock and never the CPU path: the output must name the adapter that ran the WGSL. Each answer is
// checked against the float64 twin (--device cpu64) on the same file.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suiteTempDir } from '../temp-dir.ts';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

/** The CLI's exit code, stdout and stderr (a non-zero exit is an answer here, not a throw). */
async function nabla(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await exec('node', ['bin/nabla.mjs', ...args], { cwd: root, timeout: 150_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const r = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof r.code !== 'number') throw e;
    return { code: r.code, out: r.stdout ?? '', err: r.stderr ?? '' };
  }
}

async function json(...args: string[]) {
  const r = await nabla(...args, '--json');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out);
}

/** A seeded uniform generator in [0, 1) (an LCG: the same data on every run). */
function uniform(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const SWIFTSHADER = 'google swiftshader';
/** GPU vs float64 loss after the same training: the bound every GPU-vs-float64 training test uses. */
const LOSS_BOUND = 1e-4;

describe('train --formula --device gpu', () => {
  const dir = suiteTempDir('formula-gpu');
  // y = 5 (1 - e^(-0.4 x)) + noise, x in [0, 10]: parameters of order 1, so float32 steps are not lost in rounding.
  const u = uniform(5);
  const file = join(dir, 'sat.csv');
  writeFileSync(file, ['x,y', ...Array.from({ length: 500 }, (_, i) => {
    const x = (10 * i) / 499;
    return `${x.toFixed(5)},${(5 * (1 - Math.exp(-0.4 * x)) + (u() - 0.5) * 0.1).toFixed(6)}`;
  })].join('\n'));
  const common = ['train', '--formula', 'y ~ b1*(1-exp(-b2*x))', '--start', 'b1=3,b2=0.2', '--data', file, '--optimizer', 'adam'];

  // float32 GPU sums vs the float64 twin through the same Adam updates: measured 2.7e-7 (b1) and 9.8e-7 (b2)
  // relative full batch over 300 epochs, 5e-7 and 2.7e-6 by mini-batches of 64 over 160 updates; the loss
  // 8e-10 full batch, 1.2e-5 by mini-batches. 1e-5 for the parameters and 1e-4 for the loss (the bound every
  // GPU-vs-float64 training test uses) leave room for another adapter's rounding; a skipped or repeated
  // update, or a wrong derivative, moves them by far more.
  const PARAMS = 1e-5;
  const LOSS = 1e-4;

  it('full batch: lands where the float64 twin does, on the adapter it names', async () => {
    const args = [...common, '--lr', '0.05', '--epochs', '300'];
    const gpu = await json(...args, '--device', 'gpu');
    const cpu = await json(...args, '--device', 'cpu64');
    expect(gpu).toMatchObject({ model: 'formula', device: 'gpu', adapter: SWIFTSHADER, epochs: 300, updates: 300, rows: 500, stopReason: 'max-epochs' });
    for (const p of ['b1', 'b2']) expect(rel(gpu.params[p], cpu.params[p]), p).toBeLessThan(PARAMS);
    expect(rel(gpu.loss, cpu.loss)).toBeLessThan(LOSS);
    expect(gpu.params.b1).toBeCloseTo(5, 1);
    expect(gpu.metrics.r2).toBeGreaterThan(0.999);
  }, 300_000);

  it('mini-batches: the same seeded batch order and updates as the float64 twin', async () => {
    const args = [...common, '--lr', '0.02', '--epochs', '20', '--batch-size', '64', '--seed', '2'];
    const gpu = await json(...args, '--device', 'gpu');
    const cpu = await json(...args, '--device', 'cpu64');
    expect(gpu).toMatchObject({ device: 'gpu', adapter: SWIFTSHADER, batchSize: 64, updates: 20 * 8 });
    expect(gpu.updates).toBe(cpu.updates);
    for (const p of ['b1', 'b2']) expect(rel(gpu.params[p], cpu.params[p]), p).toBeLessThan(PARAMS);
    expect(rel(gpu.loss, cpu.loss)).toBeLessThan(LOSS);
  }, 300_000);

  it('--stream: mini-batches inside chunks the page pulls, as the float64 twin cuts them from the same stream', async () => {
    // 0.001 MiB chunks of x and y: 87 rows each, 6 chunks (the last ragged); batches of 64 inside them, 11 an epoch.
    const args = [...common, '--lr', '0.02', '--epochs', '20', '--batch-size', '64', '--seed', '2', '--stream', '--chunk-mb', '0.001'];
    const gpu = await json(...args, '--device', 'gpu');
    const cpu = await json(...args, '--device', 'cpu64');
    expect(gpu).toMatchObject({ device: 'gpu', adapter: SWIFTSHADER, rows: 500, updates: 20 * 11 });
    expect(gpu.updates).toBe(cpu.updates);
    // Measured 1.2e-6 (b1), 3.9e-6 (b2), loss 3.8e-5 relative.
    for (const p of ['b1', 'b2']) expect(rel(gpu.params[p], cpu.params[p]), p).toBeLessThan(PARAMS);
    expect(rel(gpu.loss, cpu.loss)).toBeLessThan(LOSS);
  }, 300_000);
});

describe('train --model logistic --device gpu (the network without hidden layers trains as its formula)', () => {
  const dir = suiteTempDir('logistic-gpu');
  // Two features, labels from a noisy linear boundary: logistic regression's optimum is finite.
  const u = uniform(9);
  const file = join(dir, 'labels.csv');
  writeFileSync(file, ['a,b,label', ...Array.from({ length: 400 }, () => {
    const a = u() * 4 - 2;
    const b = u() * 4 - 2;
    return `${a.toFixed(4)},${b.toFixed(4)},${a - 0.5 * b + (u() - 0.5) > 0 ? 'yes' : 'no'}`;
  })].join('\n'));
  const args = ['train', '--model', 'logistic', '--data', file, '--target', 'label', '--optimizer', 'adamw', '--weight-decay', '0.01', '--lr', '0.05', '--epochs', '40', '--batch-size', '32', '--seed', '3'];

  it('AdamW on mini-batches lands where the float64 twin does, on the adapter it names', async () => {
    const gpu = await json(...args, '--device', 'gpu');
    const cpu = await json(...args, '--device', 'cpu64');
    expect(gpu).toMatchObject({ device: 'gpu', adapter: SWIFTSHADER, rows: 400 });
    expect(gpu.updates).toBe(cpu.updates);
    // The bound of the formula tests above (float32 sums through the same AdamW updates).
    expect(rel(gpu.loss, cpu.loss)).toBeLessThan(LOSS_BOUND);
    expect(gpu.metrics.accuracy).toBeGreaterThan(0.8);
  }, 300_000);
});

describe('train --formula --optimizer lm --device gpu', () => {
  const dir = suiteTempDir('formula-gpu-lm');
  // Misra1a-like: NIST's model and certified parameters (b1 = 238.94, b2 = 5.5016e-4) over 2000 rows of its
  // x range with uniform noise of ±0.1, fitted from NIST's first start (500, 1e-4).
  const u = uniform(11);
  const file = join(dir, 'misra.csv');
  writeFileSync(file, ['x,y', ...Array.from({ length: 2000 }, (_, i) => {
    const x = 77.6 + ((790 - 77.6) * i) / 1999;
    return `${x.toFixed(4)},${(238.94 * (1 - Math.exp(-5.5016e-4 * x)) + (u() - 0.5) * 0.2).toFixed(5)}`;
  })].join('\n'));
  const fit = ['train', '--formula', 'y ~ b1*(1-exp(-b2*x))', '--start', 'b1=500,b2=1e-4', '--optimizer', 'lm', '--data', file];

  it('reaches the float64 fit\'s parameters, standard errors and RSS', async () => {
    const gpu = await json(...fit, '--device', 'gpu');
    const cpu = await json(...fit, '--device', 'cpu64');
    expect(gpu).toMatchObject({ optimizer: 'lm', device: 'gpu', adapter: SWIFTSHADER, rows: 2000, dof: 1998 });
    expect(['relative-reduction', 'relative-step', 'both']).toContain(gpu.stopReason);
    // The GPU fit stops at √ε (LM_TOLERANCE.other) on float32 sums of float32 rows; the twin at 1e-14 on
    // float64 rows. Measured: parameters 8.9e-7 (b1) and 7.6e-7 (b2) relative, 0.002 of a standard error;
    // standard errors 3.5e-5, RSS 1.2e-5 (JᵀJ and Σr² summed in float32).
    for (const p of ['b1', 'b2']) {
      expect(rel(gpu.params[p], cpu.params[p]), p).toBeLessThan(1e-5);
      expect(Math.abs(gpu.params[p] - cpu.params[p]), p).toBeLessThan(0.05 * cpu.standardErrors[p]);
      expect(rel(gpu.standardErrors[p], cpu.standardErrors[p]), p).toBeLessThan(1e-3);
    }
    expect(rel(gpu.rss, cpu.rss)).toBeLessThan(1e-4);
  }, 300_000);

  it('--stream: every pass chunk by chunk in the page reaches the same fit', async () => {
    // 0.002 MiB chunks: 174 rows each, 12 chunks (the last ragged). Measured 9e-7 (b1), 8.8e-7 (b2) relative to the twin.
    const gpu = await json(...fit, '--device', 'gpu', '--stream', '--chunk-mb', '0.002');
    const cpu = await json(...fit, '--device', 'cpu64');
    expect(gpu).toMatchObject({ device: 'gpu', adapter: SWIFTSHADER, rows: 2000 });
    for (const p of ['b1', 'b2']) expect(rel(gpu.params[p], cpu.params[p]), p).toBeLessThan(1e-5);
    expect(rel(gpu.rss, cpu.rss)).toBeLessThan(1e-4);
  }, 300_000);

  it('the table names the adapter, and the iterations reach stderr from the page', async () => {
    const r = await nabla(...fit, '--device', 'gpu');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/by Levenberg-Marquardt on 2000 rows \(0 dropped\) on gpu \(google swiftshader\)/);
    expect(r.err).toMatch(/^iteration\s+1\s+RSS/m);
  }, 300_000);

  it('a fit that cannot start in the page is exit 2 naming the parameter, as on the CPU', async () => {
    const r = await nabla('train', '--formula', 'y ~ a*exp(-k*x)', '--start', 'a=0,k=0.01', '--optimizer', 'lm', '--data', file, '--device', 'gpu');
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/singular at the start.*does not depend on k/);
  }, 300_000);
});
