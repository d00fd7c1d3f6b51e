// A training run whose start is not finite names the first row where the formula is not, on every CPU engine:
// the float64 twin, the fast engine (its rows as its threads hold them) and the streamed trainers, where the
// row counts from the stream's first row, not from its chunk's.
import { describe, expect, it } from 'vitest';
import { compileFormula } from '../../src/formula/model.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { FastCpuFormulaEngine, trainFormulaStreamedOnCpu } from '../../src/cpu-fast/formula-engine.ts';
import { InlinePool } from '../../src/cpu-fast/pool.ts';
import { memoryRowStream } from '../../src/gpu/formula/formula-stream.ts';
import { firstNonFiniteStreamRow } from '../../src/models/formula.ts';
import { StartDivergenceError } from '../../src/models/model-engine.ts';

// A generalised linear model, so that the fast engine's linear-predictor kernel takes it as well.
const model = compileFormula({ formula: 'y ~ log(a*x + b)' }, { columns: ['x', 'y'] });
// log(x) is not finite on row 11 (x = 0) and row 14 (x = -2): the first of them, 1-based, is row 11.
const x = Float32Array.from({ length: 16 }, (_, i) => (i === 10 ? 0 : i === 13 ? -2 : i + 1));
const data = { x, y: Float32Array.from(x, (v) => 2 * v), n: 16, d: 1 };
const start = Float64Array.of(1, 0);
const options = { lr: 0.1, maxEpochs: 3, optimizer: optimizerConfig({ kind: 'sgd' }) };
const NAMED = /the model is not finite on row 11 \(yhat = -Infinity, loss = Infinity.*; x = 0, y = 0\)/;

async function startError(run: () => Promise<unknown>): Promise<StartDivergenceError> {
  const error = await run().then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(StartDivergenceError);
  return error as StartDivergenceError;
}

describe('the start\'s first bad row', () => {
  it('is named by the twin and the fast engine alike', async () => {
    const twin = await startError(() => new CpuFormulaEngine(model, data, start).train(options));
    expect(twin.message).toMatch(NAMED);
    for (const kernel of ['generated', 'linear-predictor'] as const) {
      const engine = new FastCpuFormulaEngine(model, data, start, { pool: new InlinePool(), kernel });
      try {
        const fast = await startError(() => engine.train(options));
        expect(fast.message, kernel).toMatch(NAMED);
        expect(fast.where).toBe(twin.where);
      } finally {
        engine.dispose();
      }
    }
  });

  it('is named by its place in the stream, in a chunk after the first', async () => {
    const stream = memoryRowStream(data, 4);
    for (const reference of [false, true]) {
      const e = await startError(() => trainFormulaStreamedOnCpu(model, start, stream, options, { pool: new InlinePool(), reference }));
      expect(e.message, `reference ${reference}`).toMatch(NAMED);
    }
    const bad = await firstNonFiniteStreamRow(model, start, stream);
    expect(bad).toMatchObject({ row: 10, values: ['x = 0', 'y = 0'] });
    expect(await firstNonFiniteStreamRow(model, start, memoryRowStream({ ...data, x: data.x.map((v) => Math.abs(v) + 1), y: data.y }, 4))).toBeNull();
  });

  it('reads the stream only as far as the bad row, and recycles each chunk it read', async () => {
    const inner = memoryRowStream(data, 4);
    const recycled: number[] = [];
    let read = 0;
    const stream = {
      n: inner.n, d: inner.d, chunkRows: inner.chunkRows,
      async *pass() {
        let index = 0;
        for await (const c of inner.pass()) {
          read++;
          const k = index++;
          yield { ...c, recycle: () => recycled.push(k) };
        }
      },
    };
    expect((await firstNonFiniteStreamRow(model, start, stream))?.row).toBe(10);
    expect(read).toBe(3);
    expect(recycled).toEqual([0, 1, 2]);
  });
});
