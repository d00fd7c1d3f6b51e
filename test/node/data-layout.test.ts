import { describe, expect, it } from 'vitest';
import { planBatches, planChunks } from '../../src/gpu/data-layout.ts';

const shape = { maxWorkgroupSize: 256, maxWorkgroupsPerDimension: 65535, maxWorkgroupStorageSize: 16384 };

describe('planChunks', () => {
  it('covers every row once in whole quads within the byte limit; the last chunk is ragged', () => {
    const chunks = planChunks(10_003, 3, 16 * 3 * 250); // 1000 rows per chunk
    expect(chunks.length).toBe(11);
    expect(chunks.every((c) => c.rows * 3 * 4 <= 16 * 3 * 250)).toBe(true);
    expect(chunks.slice(0, -1).every((c) => c.rows % 4 === 0)).toBe(true);
    expect(chunks.at(-1)).toEqual({ startRow: 10_000, rows: 3 });
    let next = 0;
    for (const c of chunks) {
      expect(c.startRow).toBe(next);
      next += c.rows;
    }
  });

  it('refuses a limit below one quad, naming both sizes', () => {
    expect(() => planChunks(100, 64, 1000)).toThrow(/1000 bytes cannot hold 4 samples of 64 features \(1024 bytes\)/);
  });
});

describe('planBatches', () => {
  const chunks = planChunks(1_000, 2, 16 * 2 * 75); // 300-row chunks: 300, 300, 300, 100

  it('splits batches at chunk boundaries with partial rows laid out back to back', () => {
    const batches = planBatches(chunks, 256, 2, shape);
    expect(batches.map((b) => b.rows)).toEqual([256, 256, 256, 232]);
    const second = batches[1];
    expect(second.slices.map((s) => [s.chunk, s.rowOffset, s.rows])).toEqual([[0, 256, 44], [1, 0, 212]]);
    expect(second.slices[1].firstGroup).toBe(second.slices[0].plan.numGroups);
    expect(second.groups).toBe(second.slices.reduce((g, s) => g + s.plan.numGroups, 0));
    for (const b of batches) for (const s of b.slices) expect(s.rowOffset % 4).toBe(0);
  });

  it('full batch = one batch over every chunk; a batch size not a multiple of 4 is refused', () => {
    const [full] = planBatches(chunks, 1_000, 2, shape);
    expect(full.slices.length).toBe(4);
    expect(full.rows).toBe(1_000);
    expect(() => planBatches(chunks, 250, 2, shape)).toThrow(/multiple of 4/);
    expect(planBatches(chunks, 5_000, 2, shape).length).toBe(1);
  });
});
