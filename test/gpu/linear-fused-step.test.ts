// A training step whose reduce is one workgroup runs it inside the update's dispatch (apply_update.wgsl
// FUSED_REDUCE, shared/partials_column.wgsl). It must leave exactly what the separate reduce + update
// leave: the same function sums the same partials in the same order, so bit for bit (no tolerance), on
// steady steps and on a divergence (theta restored). Grids above REDUCE_SINGLE_MAX_ROWS keep the
// workgroup-per-column reduce; both reduces are checked against float64.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuLinearEngine } from '../../src/gpu/gpu-linear-engine.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import { makeLinearData, relativeError, thetaOf } from '../data-gen.ts';
import { REDUCE_SINGLE_MAX_ROWS, type LinearKernelConfig } from '../../src/gpu/dispatch.ts';
import type { GpuBatchSet } from '../../src/gpu/linear-buffers.ts';
import { STATUS_DIVERGED, STATUS_RUNNING } from '../../src/cpu/apply_update.ts';

// As test/gpu/linear-gradient.test.ts: float32 sums with compensated blocks against float64.
const GRADIENT_REL_TOL = 1e-5;

interface Internals {
  buffers: Record<'theta' | 'thetaPrev' | 'state' | 'gradLoss' | 'history', GPUBuffer>;
  batchSet(size: number): GpuBatchSet;
}

/** Every word the training steps leave on the GPU: theta, thetaPrev, state, gradient + loss, history. */
async function trainingWords(engine: GpuLinearEngine, device: GPUDevice): Promise<Uint32Array> {
  const { buffers } = engine as unknown as Internals;
  const list = [buffers.theta, buffers.thetaPrev, buffers.state, buffers.gradLoss, buffers.history];
  const total = list.reduce((s, b) => s + b.size, 0);
  const out = device.createBuffer({ size: total, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  let at = 0;
  for (const b of list) {
    encoder.copyBufferToBuffer(b, 0, out, at, b.size);
    at += b.size;
  }
  device.queue.submit([encoder.finish()]);
  await out.mapAsync(GPUMapMode.READ);
  const words = new Uint32Array(out.getMappedRange().slice(0));
  out.destroy();
  return words;
}

async function stepsWith(engine: GpuLinearEngine, device: GPUDevice, lr: number, steps: number, fuse: boolean): Promise<Uint32Array> {
  const d = engine.d;
  engine.fillOutputs(NaN);
  engine.prepareTraining({ lr, maxEpochs: 1000, tol: 0, init: { w: Float64Array.from({ length: d }, (_, j) => 0.2 - 0.05 * j), b: 0.1 } });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (let s = 0; s < steps; s++) engine.recordStep(pass, true, fuse);
  pass.end();
  device.queue.submit([encoder.finish()]);
  return trainingWords(engine, device);
}

describe('fused reduce + update', () => {
  const cases: Array<[number, number, LinearKernelConfig]> = [
    [4_099, 1, { workgroupSize: 64, numGroups: 1 }],
    [4_099, 5, { workgroupSize: 64, numGroups: 3 }],
    [4_096, 16, { workgroupSize: 128, numGroups: 2 }],
    [3_001, 20, { workgroupSize: 64, numGroups: 2 }], // the tiled pass 1
    [70_001, 3, { workgroupSize: 64, numGroups: REDUCE_SINGLE_MAX_ROWS }],
  ];
  for (const [n, d, kernel] of cases) {
    it(`N = ${n}, d = ${d}, ${kernel.numGroups} x ${kernel.workgroupSize}: the same words as separate passes, steady and diverging`, async () => {
      const gpu = await testGpu();
      const engine = await GpuLinearEngine.create(gpu, makeLinearData(n, d, 5 + d), { kernel });
      try {
        expect((engine as unknown as Internals).batchSet(n).batches[0].fusedUpdate).not.toBeNull();
        for (const [lr, steps] of [[0.05, 9], [40, 12]] as const) {
          const fused = await stepsWith(engine, gpu.device, lr, steps, true);
          const separate = await stepsWith(engine, gpu.device, lr, steps, false);
          const { buffers } = engine as unknown as Internals;
          // The state's status word: running after the small steps, diverged (theta restored) after the large.
          expect(separate[(buffers.theta.size + buffers.thetaPrev.size) / 4]).toBe(lr < 1 ? STATUS_RUNNING : STATUS_DIVERGED);
          expect(Array.from(fused)).toEqual(Array.from(separate));
        }
      } finally {
        engine.dispose();
      }
    });
  }

  it(`a grid above ${REDUCE_SINGLE_MAX_ROWS} rows keeps the per-column reduce; both reduces match float64`, async () => {
    const gpu = await testGpu();
    const n = 4 * 64 * 128 * 2 + 3;
    const data = makeLinearData(n, 2, 11);
    const at = { w: Float64Array.from([0.3, -0.2]), b: 0.05 };
    const want = linearGradient(data, at);
    for (const numGroups of [REDUCE_SINGLE_MAX_ROWS, 128]) {
      const engine = await GpuLinearEngine.create(gpu, data, { kernel: { workgroupSize: 64, numGroups } });
      try {
        const batch = (engine as unknown as Internals).batchSet(n).batches[0];
        expect(batch.reduce.single).toBe(numGroups <= REDUCE_SINGLE_MAX_ROWS);
        expect(batch.fusedUpdate === null).toBe(numGroups > REDUCE_SINGLE_MAX_ROWS);
        engine.fillOutputs(NaN);
        const got = await engine.gradient(at);
        const g = relativeError(thetaOf(got.gradW, got.gradB), thetaOf(want.gradW, want.gradB));
        expect(g.rel, `${numGroups} groups: ${g.worst}`).toBeLessThanOrEqual(GRADIENT_REL_TOL);
        expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThanOrEqual(GRADIENT_REL_TOL);
      } finally {
        engine.dispose();
      }
    }
  });

  it('train(): the last evaluation riding with the steps before it changes nothing; an abort before any step still returns theta', async () => {
    const gpu = await testGpu();
    const data = makeLinearData(3_001, 3, 17);
    const engine = await GpuLinearEngine.create(gpu, data);
    try {
      const run = async (reportEvery: number) => {
        const epochs: number[] = [];
        const r = await engine.train({ lr: 0.1, maxEpochs: 20, tol: 0, reportEvery, onEpoch: (e) => epochs.push(e.epoch, e.loss, e.gradNorm) });
        return { r, epochs };
      };
      // 21 evaluations: 10 + 11 (the last rides along) against 7 + 7 + 7 read-backs.
      const merged = await run(10);
      const plain = await run(7);
      expect(merged.r.stopReason).toBe('max-epochs');
      expect(merged.r.epochs).toBe(20);
      expect(merged.epochs.length).toBe(3 * 21);
      expect(merged).toEqual(plain);
      const init = { w: Float64Array.from([0.5, -0.25, 0.125]), b: 0.75 };
      const aborted = await engine.train({ lr: 0.1, maxEpochs: 20, init, signal: AbortSignal.abort() });
      expect(aborted.stopReason).toBe('aborted');
      expect([...aborted.w, aborted.b]).toEqual([0.5, -0.25, 0.125, 0.75]);
    } finally {
      engine.dispose();
    }
  });
});
