// A check every fast-CPU pool must pass for formula models, whatever starts its threads (worker threads:
// test/node/formula-fast-cpu.test.ts covers more cases; Web Workers: test/gpu/formula-web-workers.test.ts):
// the task's generated source crosses to each thread, which compiles it, and the loss, gradient and trained
// parameters are the bits the calling thread alone (InlinePool) gives.
import { expect } from 'vitest';
import { compileFormula, startingParameters } from '../src/formula/model.ts';
import { FastCpuFormulaEngine } from '../src/cpu-fast/formula-engine.ts';
import type { ShardPool } from '../src/cpu-fast/pool.ts';
import { optimizerConfig } from '../src/optim/config.ts';
import { seededUniform } from '../src/data/shuffle.ts';

export async function formulaThreadsAgree(pool: ShardPool): Promise<void> {
  // Weighted rows (the weight is x's second column) and a log link: rows of width 2, exp in the kernel.
  const model = compileFormula({ formula: 'y ~ exp(a + b * t)', loss: 'poisson', weights: 'w' }, { columns: ['t', 'w', 'y'] });
  const u = seededUniform(21);
  const n = 3_001;
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = u() - 0.5;
    x[2 * i + 1] = u() < 0.1 ? 0 : 1 + u();
    y[i] = Math.floor(4 * u() * Math.exp(x[2 * i]));
  }
  const data = { x, y, n, d: 2 };
  const start = startingParameters(model, { a: 0, b: 0 });
  const at = Float64Array.of(0.4, -0.3);
  const o = { lr: 0.05, maxEpochs: 3, batchSize: 400, seed: 2, optimizer: optimizerConfig({ kind: 'adam' }) };
  const inline = new FastCpuFormulaEngine(model, data, start);
  const threaded = new FastCpuFormulaEngine(model, data, start, { pool });
  try {
    expect(threaded.threads).toBe(pool.threads);
    const want = await inline.lossAndGradient(at);
    for (let rerun = 0; rerun < 2; rerun++) {
      const got = await threaded.lossAndGradient(at);
      expect([got.loss, ...got.grad]).toEqual([want.loss, ...want.grad]);
    }
    const wantRun = await inline.train(o);
    const gotRun = await threaded.train(o);
    expect(Array.from(gotRun.theta)).toEqual(Array.from(wantRun.theta));
    expect(gotRun.loss).toBe(wantRun.loss);
  } finally {
    inline.dispose();
    threaded.dispose();
  }
}
