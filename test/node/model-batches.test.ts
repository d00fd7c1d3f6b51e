// Mini-batch bookkeeping shared by the GPU model engine and its float64 twin: pure, so tested here.
import { describe, expect, it } from 'vitest';
import { BatchSchedule, batchRanges } from '../../src/models/batches.ts';
import { EpochMeans, validateBatching } from '../../src/models/model-engine.ts';
import { stepsPerSubmit } from '../../src/train/loop.ts';
import { ChainStarts } from '../../src/train/chain-starts.ts';
import { ChunkCursor, type RowChunk, type RowStream } from '../../src/models/row-stream.ts';
import { optimizerConfig } from '../../src/optim/config.ts';

describe('model mini-batches', () => {
  it('cuts consecutive rows, the last batch ragged', () => {
    expect(batchRanges(10, 4)).toEqual([{ start: 0, rows: 4 }, { start: 4, rows: 4 }, { start: 8, rows: 2 }]);
    expect(batchRanges(8, 8)).toEqual([{ start: 0, rows: 8 }]);
    expect(() => batchRanges(8, 0)).toThrow(/batch size/);
    expect(() => batchRanges(8, 2.5)).toThrow(/batch size/);
  });

  it('visits every batch once per epoch, in a seeded order that changes between epochs', () => {
    const s = new BatchSchedule(1000, 64, 7);
    expect(s.perEpoch).toBe(16);
    const epoch = (e: number) => Array.from({ length: 16 }, (_, k) => s.indexAt(e * 16 + k));
    for (const e of [0, 1, 5]) expect([...epoch(e)].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, k) => k));
    expect(epoch(0)).not.toEqual(epoch(1));
    const again = new BatchSchedule(1000, 64, 7);
    expect(Array.from({ length: 48 }, (_, t) => again.indexAt(t))).toEqual([...epoch(0), ...epoch(1), ...epoch(2)]);
    expect(Array.from({ length: 16 }, (_, t) => new BatchSchedule(1000, 64, 8).indexAt(t))).not.toEqual(epoch(0));
    // Full batch (or a batch size above n): one batch, every update.
    expect(new BatchSchedule(10, undefined, 1).at(5)).toEqual({ start: 0, rows: 10 });
    expect(new BatchSchedule(10, 99, 1).perEpoch).toBe(1);
  });

  it('streamed: batches cut inside chunks, shuffled within each, chunks in order; one chunk = the unchunked schedule', () => {
    const s = new BatchSchedule(100, 8, 3, 30); // chunks of 30, 30, 30, 10 rows: 4 + 4 + 4 + 2 batches
    expect(s.perEpoch).toBe(14);
    expect(s.ranges.slice(0, 5)).toEqual([{ start: 0, rows: 8 }, { start: 8, rows: 8 }, { start: 16, rows: 8 }, { start: 24, rows: 6 }, { start: 30, rows: 8 }]);
    for (const e of [0, 1, 7]) {
      const order = Array.from({ length: 14 }, (_, k) => s.at(e * 14 + k));
      const chunkOf = order.map((r) => Math.floor(r.start / 30));
      expect(chunkOf).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3]); // one pass per epoch
      expect(order.map((r) => r.start).sort((a, b) => a - b)).toEqual(s.ranges.map((r) => r.start));
    }
    const epochs = (e: number) => Array.from({ length: 14 }, (_, k) => s.indexAt(e * 14 + k));
    expect(epochs(0)).not.toEqual(epochs(1));
    expect(Array.from({ length: 28 }, (_, t) => new BatchSchedule(100, 8, 3, 30).indexAt(t))).toEqual([...epochs(0), ...epochs(1)]);
    const whole = new BatchSchedule(100, 8, 3);
    const oneChunk = new BatchSchedule(100, 8, 3, 100);
    expect(Array.from({ length: 39 }, (_, t) => oneChunk.at(t))).toEqual(Array.from({ length: 39 }, (_, t) => whole.at(t)));
    expect(new BatchSchedule(100, undefined, 3, 30).ranges).toEqual([{ start: 0, rows: 100 }]); // full batch spans chunks
    expect(() => new BatchSchedule(100, 40, 3, 30)).toThrow(/batch size: 40 samples exceed a chunk of 30 rows/);
  });

  it('a chunk cursor walks a pass in order, restarts at row 0, and says when the data changed', async () => {
    const n = 10;
    let rowsNow = n;
    const stream: RowStream = {
      n, d: 1, chunkRows: 4,
      async *pass(): AsyncIterable<RowChunk> {
        for (let start = 0; start < rowsNow; start += 4) {
          const rows = Math.min(4, rowsNow - start);
          yield { x: Float32Array.from({ length: rows }, (_, i) => start + i), y: new Float32Array(rows), rows };
        }
      },
    };
    const cursor = new ChunkCursor(stream);
    expect((await cursor.chunkOf(5)).x[0]).toBe(4);
    expect((await cursor.chunkOf(9)).rows).toBe(2);
    expect(cursor.passes).toBe(1);
    const pieces = [];
    for await (const p of cursor.pieces({ start: 0, rows: 10 })) pieces.push([p.chunk.index, p.start, p.rows]);
    expect(pieces).toEqual([[0, 0, 4], [1, 0, 4], [2, 0, 2]]);
    expect(cursor.passes).toBe(2);
    rowsNow = 7;
    await expect(cursor.chunkOf(1).then(() => cursor.chunkOf(9))).rejects.toThrow(/chunk 1 holds 3 rows, expected 4 \(did the file change/);
    await expect(cursor.chunkOf(10)).rejects.toThrow(/outside the 10 rows/);
  });

  it('a chunk cursor asks for the next chunk of a pass while the current one is worked on; a failed read surfaces at that chunk', async () => {
    const produced: number[] = [];
    const stream: RowStream = {
      n: 12, d: 1, chunkRows: 4,
      async *pass(): AsyncIterable<RowChunk> {
        for (let start = 0; start < 12; start += 4) {
          produced.push(start);
          if (start === 8 && failing) throw new Error('disk read failed');
          yield { x: new Float32Array(4).fill(start), y: new Float32Array(4), rows: 4 };
        }
      },
    };
    let failing = false;
    const cursor = new ChunkCursor(stream);
    expect((await cursor.chunkOf(0)).x[0]).toBe(0);
    await new Promise((r) => setTimeout(r, 0));
    expect(produced).toEqual([0, 4]); // chunk 1 read ahead, chunk 2 not yet
    expect((await cursor.chunkOf(5)).x[0]).toBe(4);
    expect((await cursor.chunkOf(9)).x[0]).toBe(8);
    await new Promise((r) => setTimeout(r, 0));
    expect(produced).toEqual([0, 4, 8]); // nothing past the last chunk
    failing = true;
    expect((await cursor.chunkOf(0)).x[0]).toBe(0); // a new pass
    await expect(cursor.chunkOf(9)).rejects.toThrow(/disk read failed/);
    await cursor.close();
  });

  it('the last good chain start: the failing chain\'s own after its first evaluation, else the one before', () => {
    const starts = new ChainStarts();
    expect(() => starts.before(5, 'P')).toThrow(/P: no good state kept before update 5/);
    expect(starts.next).toBe(0);
    starts.ran(0); // chain 0..9 in buffer 0
    expect(starts.next).toBe(1);
    starts.ran(10); // chain 10..19 in buffer 1
    starts.ran(20); // chain 20..29 in buffer 0 (overwrites the start at 0)
    expect(starts.before(25, 'P')).toEqual({ index: 0, t: 20 });
    expect(starts.before(20, 'P')).toEqual({ index: 1, t: 10 }); // the chain's first evaluation failed
    expect(() => starts.before(10, 'P')).toThrow(/no good state kept before update 10/); // the start at 0 is gone
    starts.reset(); // a new run forgets the old one's starts
    expect(starts.next).toBe(0);
    expect(() => starts.before(25, 'P')).toThrow(/no good state kept before update 25/);
  });

  it('chains steps up to the slots, ending submits on epoch ends when an epoch has several batches', () => {
    expect(stepsPerSubmit(64, 1, 0, 1000)).toBe(64);
    expect(stepsPerSubmit(64, 1, 990, 1000)).toBe(10);
    expect(stepsPerSubmit(64, 10, 0, 1000)).toBe(60); // six whole epochs
    expect(stepsPerSubmit(64, 10, 60, 80)).toBe(20);
    expect(stepsPerSubmit(64, 100, 0, 1000)).toBe(64);
    expect(stepsPerSubmit(64, 100, 64, 1000)).toBe(36); // the rest of epoch 0
    expect(stepsPerSubmit(64, 100, 100, 150)).toBe(50);
    // Several batches an epoch: a submit never ends inside an epoch that fits the slots, and a longer
    // epoch always ends a submit (snapshots are taken there).
    for (const [slots, per] of [[64, 7], [8, 30], [5, 5], [3, 2]]) {
      let t = 0;
      const ends: number[] = [];
      while (t < 20 * per) {
        const k = stepsPerSubmit(slots, per, t, 20 * per);
        expect(k).toBeGreaterThan(0);
        expect(k).toBeLessThanOrEqual(slots);
        t += k;
        ends.push(t);
      }
      if (per <= slots) for (const end of ends) expect(end % per).toBe(0);
      else for (let e = 1; e <= 20; e++) expect(ends).toContain(e * per);
    }
  });

  it('reports an epoch as the sample-weighted means of its batches', () => {
    const m = new EpochMeans(10, 3);
    expect(m.add(0, 4, 1, 10)).toBeNull();
    expect(m.add(1, 4, 2, 20)).toBeNull();
    expect(m.add(2, 2, 4, 40)).toEqual({ epoch: 0, loss: (4 + 8 + 8) / 10, gradNorm: (40 + 80 + 80) / 10 });
    expect(m.add(3, 4, 1, 1)).toBeNull();
    const full = new EpochMeans(10, 1);
    expect(full.add(7, 10, 0.1, 0.3)).toEqual({ epoch: 7, loss: 0.1, gradNorm: 0.3 });
  });

  it('refuses a tolerance with mini-batches and a resume from the middle of an epoch', () => {
    const base = { lr: 0.1, maxEpochs: 10, optimizer: optimizerConfig({ kind: 'sgd' }) };
    expect(() => validateBatching({ ...base, tol: 1e-6 }, 1)).not.toThrow();
    expect(() => validateBatching({ ...base, tol: 1e-6, batchSize: 4 }, 3)).toThrow(/tol: applies to full-batch/);
    const snap = (t: number) => ({ theta: new Float64Array(1), optim: { m: new Float64Array(0), v: new Float64Array(0), t }, bestLoss: 1 });
    expect(() => validateBatching({ ...base, resumeFrom: snap(6) }, 3)).not.toThrow();
    expect(() => validateBatching({ ...base, resumeFrom: snap(7) }, 3)).toThrow(/resume: .*7 updates/);
    expect(() => validateBatching({ ...base, resumeFrom: snap(33) }, 3)).toThrow(/epochs: the snapshot already has 11 epochs/);
  });
});
