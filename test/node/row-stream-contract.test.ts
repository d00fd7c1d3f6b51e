// A RowStream written by a library user: every part of its contract (models/row-stream.ts) that it breaks is
// named, the chunk and the stream's row included; our own consumers keep their side of it (each chunk given
// back exactly once, through the chunk's own recycle); and a bad value in a later chunk is named by its row in
// the whole stream, not its place in the chunk.
import { describe, expect, it } from 'vitest';
import { compileFormula } from '../../src/formula/model.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import type { ModelData } from '../../src/models/network.ts';
import type { RowChunk, RowStream } from '../../src/models/row-stream.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { trainModelStreamedOnCpu } from '../../src/cpu-fast/streamed-training.ts';
import { trainFormulaStreamedOnCpu } from '../../src/cpu-fast/formula-engine.ts';
import { streamedNormalEquations } from '../../src/fit/streamed-pass.ts';
import { makeSpirals } from '../model-data.ts';

const spirals = makeSpirals(150, 4); // 300 rows, 2 features, 2 classes: chunks of 70 are 70, 70, 70, 70, 20
const mlp = mlpModel(2, [6], 'tanh', 'ce', 2);
const adam = { lr: 0.02, maxEpochs: 2, batchSize: 32, seed: 6, optimizer: optimizerConfig({ kind: 'adam' }) };

/** A chunk whose recycle is a method of its class (on the prototype) and refuses a second call. */
class CountedChunk implements RowChunk {
  constructor(readonly x: Float32Array, readonly y: Float32Array, readonly rows: number, private readonly given: Map<CountedChunk, number>) {}
  recycle(): void {
    const times = (this.given.get(this) ?? 0) + 1;
    this.given.set(this, times);
    if (times > 1) throw new Error(`chunk recycled ${times} times`);
  }
}

/** data in chunkRows-row chunks, each passed through `edit` (chunk index, chunk) before it is yielded. */
function streamOf(data: ModelData, chunkRows: number, edit: (index: number, c: RowChunk) => RowChunk | RowChunk[] = (_, c) => c): RowStream {
  const { n, d } = data;
  return {
    n, d, chunkRows,
    async *pass() {
      for (let start = 0, index = 0; start < n; start += chunkRows, index++) {
        const rows = Math.min(chunkRows, n - start);
        const out = edit(index, { x: data.x.slice(start * d, (start + rows) * d), y: data.y.slice(start, start + rows), rows });
        yield* Array.isArray(out) ? out : [out];
      }
    },
  };
}

describe('our side of the contract: recycle', () => {
  for (const reference of [false, true]) {
    it(`every chunk is given back exactly once, through its own recycle (${reference ? 'float64 twin' : 'fast engine, which copies each chunk'})`, async () => {
      const given = new Map<CountedChunk, number>();
      let made = 0;
      const stream = streamOf(spirals, 70, (_, c) => (made++, new CountedChunk(c.x, c.y, c.rows, given)));
      await trainModelStreamedOnCpu(mlp, stream, adam, { reference });
      expect(made).toBe(5 * (2 + 1)); // 5 chunks a pass: 2 epochs and the final evaluation
      expect(given.size).toBe(made);
      expect([...given.values()].every((times) => times === 1)).toBe(true);
    });
  }
});

describe('a user stream that breaks the contract is told what it broke', () => {
  const train = (stream: RowStream) => trainModelStreamedOnCpu(mlp, stream, adam);
  const cases: [string, RowStream, RegExp][] = [
    ['chunkRows not a whole number', { ...streamOf(spirals, 70), chunkRows: 0.5 }, /stream\.chunkRows must be a whole number >= 1, got 0\.5/],
    ['n missing', { ...streamOf(spirals, 70), n: undefined as unknown as number }, /stream\.n must be a whole number >= 1, got undefined/],
    ['pass not a function', { n: 300, d: 2, chunkRows: 70 } as RowStream, /stream\.pass must be a function .*got undefined/],
    ['pass() not iterable', { ...streamOf(spirals, 70), pass: () => 42 as unknown as AsyncIterable<RowChunk> }, /pass\(\) must return an AsyncIterable of chunks, got number/],
    ['a chunk of the wrong length', streamOf(spirals, 70, (i, c) => (i === 1 ? { ...c, rows: 69 } : c)), /stream: chunk 1 holds 69 rows, expected 70/],
    ['x not a Float32Array', streamOf(spirals, 70, (i, c) => (i === 2 ? { ...c, x: Float64Array.from(c.x) as unknown as Float32Array } : c)), /stream: chunk 2: x must be a Float32Array, got Float64Array/],
    ['x too short for rows * d', streamOf(spirals, 70, (i, c) => (i === 3 ? { ...c, x: c.x.subarray(0, 139) } : c)), /stream: chunk 3: x holds 139 values, 70 rows of 2 features need 140/],
    ['y too short', streamOf(spirals, 70, (i, c) => (i === 0 ? { ...c, y: c.y.subarray(0, 3) } : c)), /stream: chunk 0: y holds 3 values for 70 rows/],
    ['recycle not a function', streamOf(spirals, 70, (i, c) => (i === 4 ? { ...c, recycle: 1 as unknown as () => void } : c)), /stream: chunk 4: recycle must be a function or absent, got number/],
    ['a chunk after the n rows', streamOf(spirals, 70, (i, c) => (i === 4 ? [c, c] : c)), /stream: the pass went on after its 300 rows \(chunk 5\)/],
    ['a chunk missing at the end', streamOf(spirals, 70, (i, c) => (i === 4 ? [] : c)), /stream: the data ended after 280 rows, expected 300/],
  ];
  for (const [what, stream, message] of cases) {
    it(what, async () => {
      await expect(train(stream)).rejects.toThrow(message);
    });
  }

  it('the fit\'s streamed pass keeps the same contract', async () => {
    const pass = streamedNormalEquations(streamOf(spirals, 70, (i, c) => (i === 4 ? [c, c] : c)), 3, async () => new Float64Array(3));
    await expect(pass(new Float64Array(1))).rejects.toThrow(/the pass went on after its 300 rows/);
    expect(() => streamedNormalEquations({ ...streamOf(spirals, 70), d: -1 }, 3, async () => new Float64Array(3))).toThrow(/stream\.d must be a whole number >= 1, got -1/);
  });
});

describe('a bad value in a later chunk is named by its row in the whole stream', () => {
  it('a network: a label out of range at stream row 215 (chunk 3, its 5th row)', async () => {
    const stream = streamOf(spirals, 70, (i, c) => {
      if (i === 3) c.y[5] = 7;
      return c;
    });
    for (const reference of [false, true]) {
      await expect(trainModelStreamedOnCpu(mlp, stream, adam, { reference })).rejects.toThrow(/label of sample 215 is 7, expected a class index 0\.\.1/);
    }
  });

  it('a formula: a negative count at stream row 216 (1-based) and a negative weight at 147', async () => {
    const n = 300;
    const x = new Float32Array(2 * n).map((_, k) => (k % 2 ? 1 : (k % 7) / 7)); // columns x, w (weight 1)
    const y = new Float32Array(n).map((_, i) => i % 4);
    const model = compileFormula({ formula: 'y ~ exp(a + b*x)', loss: 'poisson', weights: 'w' }, { columns: ['x', 'w', 'y'] });
    const start = new Float64Array(2);
    const negativeCount = streamOf({ x, y, n, d: 2 }, 70, (i, c) => {
      if (i === 3) c.y[5] = -1;
      return c;
    });
    await expect(trainFormulaStreamedOnCpu(model, start, negativeCount, adam)).rejects.toThrow(/target y = -1 in row 216:/);
    const negativeWeight = streamOf({ x, y, n, d: 2 }, 70, (i, c) => {
      if (i === 2) c.x[2 * 6 + 1] = -2;
      return c;
    });
    await expect(trainFormulaStreamedOnCpu(model, start, negativeWeight, adam)).rejects.toThrow(/weight w = -2 in row 147 /);
  });
});
