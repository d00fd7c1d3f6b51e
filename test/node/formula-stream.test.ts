// The pure helpers of streamed formula rows on the GPU (src/gpu/formula/formula-stream.ts).
import { describe, expect, it } from 'vitest';
import { formulaBindingRows, formulaXBytes, memoryRowStream } from '../../src/gpu/formula/formula-stream.ts';

describe('formula chunk sizes', () => {
  it('fits one binding, in whole quads of rows', () => {
    expect(formulaXBytes(10, 3)).toBe(120);
    expect(formulaXBytes(10, 0)).toBe(40); // a model of no columns still reads one per row
    expect(formulaBindingRows(16, 128 * 2 ** 20)).toBe(2 ** 21);
    expect(formulaBindingRows(3, 1000)).toBe(80); // 83 rows fit; 80 = whole quads
    expect(formulaBindingRows(3, 30)).toBe(2);
    expect(formulaXBytes(formulaBindingRows(5, 12345), 5)).toBeLessThanOrEqual(12345);
  });
});

describe('memoryRowStream', () => {
  it('slices rows into chunks, the last one short, every pass the same', async () => {
    const n = 10;
    const d = 2;
    const x = Float32Array.from({ length: n * d }, (_, k) => k);
    const y = Float32Array.from({ length: n }, (_, i) => 100 + i);
    const stream = memoryRowStream({ x, y, n, d }, 4);
    for (let pass = 0; pass < 2; pass++) {
      const chunks = [];
      for await (const c of stream.pass()) chunks.push(c);
      expect(chunks.map((c) => c.rows)).toEqual([4, 4, 2]);
      expect(Array.from(chunks[2].x)).toEqual([16, 17, 18, 19]);
      expect(Array.from(chunks[1].y)).toEqual([104, 105, 106, 107]);
      expect(chunks[0].x.buffer).toBe(x.buffer); // slices, not copies
    }
    expect(() => memoryRowStream({ x, y, n, d }, 0)).toThrow(RangeError);
  });
});
