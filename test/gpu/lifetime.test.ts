import { describe, expect, it } from 'vitest';
import { requestGpu } from '../../src/gpu/device.ts';
import { GpuLinearEngine } from '../../src/gpu/gpu-linear-engine.ts';
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
  it('10^4 training steps allocate nothing; dispose() destroys every buffer', async () => {
    const gpu = await requestGpu();
    const live = countBuffers(gpu.device);
    try {
      const engine = await GpuLinearEngine.create(gpu, makeWellConditioned(64, 2));
      const afterCreate = live();
      expect(afterCreate).toBeGreaterThan(0);
      const counts: number[] = [];
      await engine.train({ lr: 1e-6, maxEpochs: 10_000, tol: 0, reportEvery: 256, onEpoch: (e) => { if (e.epoch % 1000 === 0) counts.push(live()); } });
      await engine.gradient({ w: [0, 0], b: 0 });
      expect(counts.length).toBe(11);
      expect(new Set(counts)).toEqual(new Set([afterCreate]));
      engine.dispose();
      expect(live()).toBe(0);
      // A creation that fails after its buffers exist (here: a shader that does not compile) leaves nothing behind.
      await expect(GpuLinearEngine.create(gpu, makeWellConditioned(64, 2), { partialsWgsl: 'not wgsl' }))
        .rejects.toThrow(/nabla\.linear\.partials/);
      expect(live()).toBe(0);
    } finally {
      gpu.device.destroy();
    }
  });
});
