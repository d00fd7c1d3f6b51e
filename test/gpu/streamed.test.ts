import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuLinearEngine, type ChunkStream } from '../../src/gpu/gpu-linear-engine.ts';
import { makeLinearData, makeWellConditioned } from '../data-gen.ts';
import type { LinearData } from '../../src/models/linear.ts';
import { fitStandardizer } from '../../src/models/standardize.ts';

/** A stream over an in-memory dataset that counts passes and chunks handed out. */
function streamOf(data: LinearData, chunkRows: number) {
  const counts = { passes: 0, chunks: 0 };
  const stream: ChunkStream = {
    n: data.n, d: data.d, chunkRows,
    async *read() {
      counts.passes++;
      for (let start = 0; start < data.n; start += chunkRows) {
        const rows = Math.min(chunkRows, data.n - start);
        counts.chunks++;
        // Fresh copies, as a file reader hands out: the engine must not keep references.
        yield { x: data.x.slice(start * data.d, (start + rows) * data.d), y: data.y.slice(start, start + rows), rows };
      }
    },
  };
  return { stream, counts };
}

/**
 * Raw-format records of `data`: an extra column first, then the target, then the features in reverse, so
 * the kernel's column mapping is exercised; each chunk a fresh buffer, as File.slice() hands out.
 */
function recordStreamOf(data: LinearData, chunkRows: number) {
  const { n, d } = data;
  const stride = d + 2;
  const columns = [...Array.from({ length: d }, (_, j) => 1 + d - j), 1];
  const all = new Float32Array(n * stride);
  for (let i = 0; i < n; i++) {
    all[i * stride] = 1e30; // never read: a huge value would spoil any sum it leaked into
    all[i * stride + 1] = data.y[i];
    for (let j = 0; j < d; j++) all[i * stride + columns[j]] = data.x[i * d + j];
  }
  const counts = { passes: 0 };
  const stream: ChunkStream = {
    n, d, chunkRows, records: { stride, columns },
    async *read() {
      counts.passes++;
      for (let start = 0; start < n; start += chunkRows) {
        const rows = Math.min(chunkRows, n - start);
        yield { records: all.slice(start * stride, (start + rows) * stride).buffer, rows };
      }
    },
  };
  return { stream, counts };
}

describe('streamed raw-format records on the GPU', () => {
  it('fused standardization over interleaved records equals standardized resident chunks, bit for bit (ragged last chunk)', async () => {
    const gpu = await testGpu();
    const data = makeLinearData(10_001, 5, 7);
    const chunkRows = 1_024; // 10 chunks, the last of 785 rows: a ragged quad
    const stats = fitStandardizer(data);
    for (const standardize of [stats, undefined]) {
      const { stream, counts } = recordStreamOf(data, chunkRows);
      // The same pass-1 grid on both (bit-identity needs it): 3 groups of 64 walking each chunk grid-stride.
      const kernel = { workgroupSize: 64, numGroups: 3 };
      const streamed = await GpuLinearEngine.createStreamed(gpu, stream, { standardize, kernel });
      const resident = await GpuLinearEngine.create(gpu, data, { standardize, chunkBytes: chunkRows * 5 * 4, kernel });
      try {
        const at = { w: [0.1, -0.2, 0.3, 0.05, 0], b: 0.5 };
        const a = await streamed.gradient(at);
        const b = await resident.gradient(at);
        expect(Array.from(a.gradW)).toEqual(Array.from(b.gradW));
        expect([a.gradB, a.loss]).toEqual([b.gradB, b.loss]);
        const options = { lr: 0.05, maxEpochs: 9, tol: 0 };
        const ts = await streamed.train(options);
        const tr = await resident.train(options);
        expect(Array.from(ts.w)).toEqual(Array.from(tr.w));
        expect([ts.b, ts.loss, ts.gradNorm, ts.epochs]).toEqual([tr.b, tr.loss, tr.gradNorm, tr.epochs]);
        // One pass per evaluation, read ahead only when another evaluation is certain.
        expect(counts.passes).toBe(1 + 10);
      } finally {
        streamed.dispose();
        resident.dispose();
      }
    }
  });

  it('records with 17 to 64 features run the quad kernel whatever the table holds; a tiled kernel asked for is refused', async () => {
    const gpu = await testGpu();
    const data = makeLinearData(3_001, 20, 5);
    const stats = fitStandardizer(data);
    const kernel = { workgroupSize: 64, numGroups: 2, variant: 'quad' as const };
    const streamed = await GpuLinearEngine.createStreamed(gpu, recordStreamOf(data, 512).stream, { standardize: stats });
    const resident = await GpuLinearEngine.create(gpu, data, { standardize: stats, chunkBytes: 512 * 20 * 4, kernel: { ...kernel, numGroups: streamed.plan.numGroups, workgroupSize: streamed.plan.workgroupSize } });
    try {
      expect(streamed.plan.variant).toBe('quad');
      const at = { w: Array.from({ length: 20 }, (_, j) => 0.02 * (j - 10)), b: 0.1 };
      const a = await streamed.gradient(at);
      const b = await resident.gradient(at);
      expect(Array.from(a.gradW)).toEqual(Array.from(b.gradW));
      expect([a.gradB, a.loss]).toEqual([b.gradB, b.loss]);
    } finally {
      streamed.dispose();
      resident.dispose();
    }
    await expect(GpuLinearEngine.createStreamed(gpu, recordStreamOf(data, 512).stream, { kernel: { ...kernel, variant: 'tiled' } }))
      .rejects.toThrow(/needs the quad kernel, got variant tiled/);
  });

  it('errors surface: a short chunk, and a validation error inside an evaluation', async () => {
    const gpu = await testGpu();
    const data = makeLinearData(4_000, 3, 2);
    const { stream } = recordStreamOf(data, 1_000);
    const short: ChunkStream = {
      ...stream,
      async *read() {
        for await (const c of stream.read()) yield 'records' in c ? { records: (c.records as ArrayBuffer).slice(4), rows: c.rows } : c;
      },
    };
    const bad = await GpuLinearEngine.createStreamed(gpu, short);
    try {
      await expect(bad.gradient({ w: [0, 0, 0], b: 0 })).rejects.toThrow(/chunk 0 holds 19996 bytes/);
    } finally {
      bad.dispose();
    }
    const engine = await GpuLinearEngine.createStreamed(gpu, stream);
    try {
      // A destroyed staging buffer makes every chunk's submit invalid: the evaluation's scope reports it.
      (engine as unknown as { chunks: Array<{ x: GPUBuffer }> }).chunks[1].x.destroy();
      await expect(engine.gradient({ w: [0, 0, 0], b: 0 })).rejects.toThrow(/nabla\.linear\.stream/);
    } finally {
      engine.dispose();
    }
  });
});

describe('streamed data on the GPU', () => {
  it('gradient and training over a stream equal the resident engine with the same chunks, bit for bit', async () => {
    const gpu = await testGpu();
    const data = makeLinearData(10_001, 5, 3);
    const chunkRows = 1_024;
    const { stream, counts } = streamOf(data, chunkRows);
    const resident = await GpuLinearEngine.create(gpu, data, { chunkBytes: chunkRows * 5 * 4 });
    // The resident engine's (tuned) grid, so that both sum in the same order.
    const streamed = await GpuLinearEngine.createStreamed(gpu, stream, { kernel: resident.kernel.config });
    try {
      expect(resident.chunkCount).toBe(10);
      const at = { w: [0.1, -0.2, 0.3, 0.05, 0], b: 0.5 };
      const a = await streamed.gradient(at);
      const b = await resident.gradient(at);
      expect(Array.from(a.gradW)).toEqual(Array.from(b.gradW));
      expect([a.gradB, a.loss]).toEqual([b.gradB, b.loss]);
      expect(counts).toEqual({ passes: 1, chunks: 10 });

      const options = { lr: 0.01, maxEpochs: 12, tol: 0 };
      const ts = await streamed.train(options);
      const tr = await resident.train(options);
      expect(Array.from(ts.w)).toEqual(Array.from(tr.w));
      expect(ts.b).toBe(tr.b);
      expect(ts.epochs).toBe(12);
      // One pass per evaluation: 12 updates and the final look (full batch reports that evaluation).
      expect(counts.passes).toBe(1 + 13);
    } finally {
      streamed.dispose();
      resident.dispose();
    }
  });

  it('converges to the same optimum as in-memory training and refuses mini-batches and bad chunking', async () => {
    const gpu = await testGpu();
    const data = makeWellConditioned(6_000, 3, 5);
    const { stream } = streamOf(data, 2_000);
    const engine = await GpuLinearEngine.createStreamed(gpu, stream);
    try {
      const r = await engine.train({ lr: 0.5, maxEpochs: 200, tol: 1e-6 });
      expect(r.stopReason).toBe('tolerance');
      await expect(engine.train({ lr: 0.1, maxEpochs: 1, batchSize: 1_000 })).rejects.toThrow(/full-batch only/);
    } finally {
      engine.dispose();
    }
    await expect(GpuLinearEngine.createStreamed(gpu, { ...stream, chunkRows: 1_001 })).rejects.toThrow(/multiple of 4/);
    const wrong = await GpuLinearEngine.createStreamed(gpu, { ...streamOf(data, 2_000).stream, chunkRows: 1_000 });
    try {
      await expect(wrong.gradient({ w: [0, 0, 0], b: 0 })).rejects.toThrow(/chunk 0 has 2000 rows, expected 1000/);
    } finally {
      wrong.dispose();
    }
  });
});
