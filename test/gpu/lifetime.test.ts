// GPU buffers of the linear model's engine (y ~ linear(x1..xd) with mse on GpuFormulaEngine, the quad kernel
// beside the generated one): training allocates nothing per step, and dispose() or a failed creation leaves
// no buffer behind; nor does a batch of buffers made together (createBuffersChecked) that the device refuses.
import { describe, expect, it } from 'vitest';
import { requestGpu } from '../../src/gpu/device.ts';
import { createBuffersChecked } from '../../src/gpu/resources.ts';
import { FormulaKernelError } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { linearQuadWgsl } from '../../src/gpu/formula/linear-quad-pass.ts';
import { linearShape } from '../../src/formula/shapes.ts';
import { linearFormulaModel, linearTheta, linearTrainOptions } from '../../src/models/linear-formula.ts';
import { gpuLinear } from './linear-formula.ts';
import { makeWellConditioned } from '../data-gen.ts';

/** Counts live buffers by wrapping createBuffer and destroy on one device. */
function countBuffers(device: GPUDevice): () => number {
  const live = new Set<GPUBuffer>();
  const create = device.createBuffer.bind(device);
  device.createBuffer = (descriptor: GPUBufferDescriptor) => {
    const buffer = create(descriptor);
    live.add(buffer);
    const destroy = buffer.destroy.bind(buffer);
    buffer.destroy = () => {
      live.delete(buffer);
      destroy();
    };
    return buffer;
  };
  return () => live.size;
}

describe('GPU buffer lifetime', () => {
  it('10^4 training steps allocate nothing; dispose() destroys every buffer; a failed creation leaves none', async () => {
    const gpu = await requestGpu();
    const live = countBuffers(gpu.device);
    try {
      const data = makeWellConditioned(64, 2);
      const engine = await gpuLinear(gpu, data);
      expect(engine.kernelKind).toBe('linear-quad');
      const afterCreate = live();
      expect(afterCreate).toBeGreaterThan(0);
      const counts: number[] = [];
      const o = linearTrainOptions({
        lr: 1e-6, maxEpochs: 10_000, tol: 0, reportEvery: 256, onEpoch: (e) => { if (e.epoch % 1000 === 0) counts.push(live()); },
      }, data.n);
      const r = await engine.train(o);
      const afterTrain = live();
      await engine.lossAndGradient(linearTheta({ w: [0, 0], b: 0 }));
      console.info(`live buffers: ${afterCreate} after create, ${counts[0]} while training, ${afterTrain} after train()`);
      expect(r.epochs).toBe(10_000);
      expect(counts.length).toBe(11);
      // A run's buffers (optimizer state, history ring) are made once when it starts, none per step...
      expect(new Set(counts)).toEqual(new Set([counts[0]]));
      // ...and destroyed when it ends, however it is run again.
      expect(afterTrain).toBe(afterCreate);
      await engine.train({ ...o, tol: undefined, maxEpochs: 1_000, batchSize: 16 }); // mini-batches: a batch per step
      expect(live()).toBe(afterCreate);
      engine.dispose();
      expect(live()).toBe(0);
      // Creations that fail after their buffers exist leave nothing behind: a generated kernel that does not
      // compile, and a quad kernel that compiles but disagrees with the float64 twin (it skips whole quads).
      await expect(gpuLinear(gpu, data, { code: 'not wgsl' })).rejects.toThrow(/nabla\.formula/);
      expect(live()).toBe(0);
      const good = linearQuadWgsl(linearShape(linearFormulaModel(2))!);
      const bad = good.replace('for (; q < whole; q = q + qs)', 'for (; q + qs < whole; q = q + qs)');
      expect(bad).not.toBe(good);
      await expect(gpuLinear(gpu, data, { quadCode: bad })).rejects.toThrow(FormulaKernelError);
      expect(live()).toBe(0);
    } finally {
      gpu.device.destroy();
    }
  });

  it('buffers made together: one refused names itself, and none of the batch is left', async () => {
    const gpu = await requestGpu();
    const live = countBuffers(gpu.device);
    try {
      const ok = (label: string): GPUBufferDescriptor => ({ label, size: 64, usage: GPUBufferUsage.STORAGE });
      const made = await createBuffersChecked(gpu.device, [ok('a'), ok('b')]);
      expect(made.map((b) => b.label)).toEqual(['a', 'b']);
      expect(live()).toBe(2);
      for (const b of made) b.destroy();
      // MAP_READ goes with COPY_DST alone: the device refuses it at creation (a validation error).
      const invalid: GPUBufferDescriptor = { label: 'refused', size: 64, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE };
      await expect(createBuffersChecked(gpu.device, [ok('a'), invalid, ok('c')])).rejects.toThrow(/^refused: could not allocate 64 bytes/);
      const tooLarge: GPUBufferDescriptor = { label: 'huge', size: gpu.device.limits.maxBufferSize + 4, usage: GPUBufferUsage.COPY_DST };
      await expect(createBuffersChecked(gpu.device, [ok('a'), tooLarge])).rejects.toThrow(/^huge: .* bytes asked for/);
      expect(live()).toBe(0);
    } finally {
      gpu.device.destroy();
    }
  });
});
