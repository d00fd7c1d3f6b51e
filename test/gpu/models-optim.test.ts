import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { OptimUpdatePass } from '../../src/gpu/models/optim-update-pass.ts';
import { createOptimState, optimUpdate } from '../../src/cpu/optim_update.ts';
import { optimizerConfig, OPTIMIZER_KINDS, type OptimizerKind } from '../../src/optim/config.ts';
import { learningRate } from '../../src/optim/schedule.ts';
import { mulberry32 } from '../data-gen.ts';

// Each step is a handful of float32 operations per parameter on float32 state, against float64 from the
// same float32 inputs: per step ~4 eps relative; errors in theta add up over steps (~20 here), so
// 2e-5 x max(1, |theta|) per element after every step has headroom and still catches any wrong term
// (those are O(lr x g) ~ 1e-2).
const STEP_TOL = 2e-5;

async function readFloats(device: GPUDevice, src: GPUBuffer, count: number): Promise<Float32Array> {
  const rb = device.createBuffer({ size: Math.ceil(count / 4) * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, rb, 0, count * 4);
  device.queue.submit([enc.finish()]);
  await rb.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(rb.getMappedRange().slice(0, count * 4));
  rb.destroy();
  return out;
}

async function compareSteps(kind: OptimizerKind, P: number, steps: number, chain: number) {
  const { device, shape } = await testGpu();
  const rand = mulberry32(31 + P);
  const config = optimizerConfig({ kind, weightDecay: 0.01, momentum: 0.8 });
  const mask = Float32Array.from({ length: P }, (_, k) => (k % 3 === 2 ? 0 : 1));
  const theta32 = Float32Array.from({ length: P }, () => rand() * 2 - 1);
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const theta = device.createBuffer({ size: Math.ceil(P / 4) * 16, usage });
  const grad = device.createBuffer({ size: Math.ceil(P / 4) * 16, usage });
  device.queue.writeBuffer(theta, 0, theta32);
  const pass = await OptimUpdatePass.create(device, {
    config, params: P, workgroupSize: 64, maxWorkgroupsPerDimension: shape.maxWorkgroupsPerDimension, maxSlots: chain, grad, theta, decayMask: mask,
  });
  const cpuTheta = Float64Array.from(theta32);
  const state = createOptimState(kind, P);
  const schedule = { kind: 'cosine', total: steps, warmup: 3 } as const;
  let worst = 0;
  try {
    for (let t = 0; t < steps; t += chain) {
      const g32 = Float32Array.from({ length: P }, () => (rand() * 2 - 1) * 0.5);
      device.queue.writeBuffer(grad, 0, g32);
      const lrs = Array.from({ length: chain }, (_, s) => learningRate(0.05, schedule, t + s));
      pass.writeSteps(t, lrs);
      const enc = device.createCommandEncoder();
      const cp = enc.beginComputePass();
      for (let s = 0; s < chain; s++) pass.run(cp, s); // the same gradient for each chained step
      cp.end();
      device.queue.submit([enc.finish()]);
      for (let s = 0; s < chain; s++) optimUpdate(config, state, cpuTheta, g32, Math.fround(lrs[s]), mask);
      const got = await readFloats(device, theta, P);
      for (let k = 0; k < P; k++) {
        const err = Math.abs(got[k] - cpuTheta[k]) / Math.max(1, Math.abs(cpuTheta[k]));
        worst = Math.max(worst, err);
        if (err > STEP_TOL) throw new Error(`${kind} step ${t + chain}: theta[${k}] got ${got[k]} want ${cpuTheta[k]} (rel ${err})`);
      }
    }
    console.info(`${kind}: ${steps} steps (chained ${chain}), worst relative error ${worst.toExponential(2)}`);
    return worst;
  } finally {
    pass.dispose();
    theta.destroy();
    grad.destroy();
  }
}

describe('fused optimizer update on the GPU vs float64, step by step', () => {
  for (const kind of OPTIMIZER_KINDS) {
    it(`${kind} with weight decay and a warm-up + cosine schedule: 20 single steps, then 24 chained 8 per submit`, async () => {
      expect(await compareSteps(kind, 1000, 20, 1)).toBeLessThanOrEqual(STEP_TOL);
      expect(await compareSteps(kind, 333, 24, 8)).toBeLessThanOrEqual(STEP_TOL);
    });
  }
});
