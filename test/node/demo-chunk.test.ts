import { describe, expect, it } from 'vitest';
import { CpuLinearEngine } from '../../src/cpu/cpu-linear-engine.ts';
import { engineChunk, isMiniBatch } from '../../src/demo/chunk.ts';
import { makeLinearData } from '../data-gen.ts';

describe('demo training chunks through LinearEngine.train', () => {
  const data = makeLinearData(4_000, 2, 5);

  it('full batch: k updates from the given point, one loss per epoch after the start', async () => {
    const engine = new CpuLinearEngine(data);
    const seen: number[] = [];
    const losses: number[] = [];
    const r = await engineChunk(engine, {
      lr: 0.1, epochs: 5, init: { w: [0, 0], b: 0 }, batchSize: null, seed: 0,
      onLoss: (offset, loss) => { seen.push(offset); losses.push(loss); },
    });
    expect(r.epochs).toBe(5);
    expect(r.stop).toBe('max-epochs');
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
    // The next chunk starts where this one ended: two chunks of 5 = one of 10.
    const r2 = await engineChunk(engine, { lr: 0.1, epochs: 5, init: { w: r.w, b: r.b }, batchSize: null, seed: 5, onLoss: () => {} });
    const once = await engineChunk(engine, { lr: 0.1, epochs: 10, init: { w: [0, 0], b: 0 }, batchSize: null, seed: 0, onLoss: () => {} });
    expect(r2.w[0]).toBeCloseTo(once.w[0], 12);
    expect(r2.b).toBeCloseTo(once.b, 12);
    expect(r.samplesPerSec).toBeGreaterThan(0);
  });

  it('mini-batches: one mean batch loss per finished epoch, numbered from 1; a batch of N or more is full batch', async () => {
    const engine = new CpuLinearEngine(data);
    const seen: number[] = [];
    const r = await engineChunk(engine, {
      lr: 0.05, epochs: 3, init: { w: [0, 0], b: 0 }, batchSize: 256, seed: 7, onLoss: (offset) => seen.push(offset),
    });
    expect(seen).toEqual([1, 2, 3]);
    expect(r.epochs).toBe(3);
    expect(isMiniBatch(256, 4_000)).toBe(true);
    expect(isMiniBatch(4_000, 4_000)).toBe(false);
    expect(isMiniBatch(null, 4_000)).toBe(false);
  });

  it('an aborted chunk returns where it stood', async () => {
    const engine = new CpuLinearEngine(data);
    const ctl = new AbortController();
    ctl.abort();
    const r = await engineChunk(engine, { lr: 0.1, epochs: 50, init: { w: [1, 2], b: 3 }, batchSize: null, seed: 0, signal: ctl.signal, onLoss: () => {} });
    expect(r.stop).toBe('aborted');
    expect(Array.from(r.w)).toEqual([1, 2]);
  });
});
