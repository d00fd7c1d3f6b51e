// The fast CPU path on worker threads: the same bits as on the calling thread alone, for every thread
// count and on every rerun (a fixed shard split, partial sums added in shard order).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeWorkerPool } from '../../src/cpu-fast/node-pool.ts';
import { FastCpuModelEngine } from '../../src/cpu-fast/fast-engines.ts';
import { FastCpuFormulaEngine, type FormulaKernel } from '../../src/cpu-fast/formula-engine.ts';
import { wasmSimdAvailable } from '../../src/cpu-fast/wasm-gemm.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import { linearFormulaModel } from '../../src/models/linear-formula.ts';
import { initParameters } from '../../src/models/network.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { makeBlobs } from '../model-data.ts';
import { makeLinearData } from '../data-gen.ts';

const pools: NodeWorkerPool[] = [];
beforeAll(async () => {
  for (const threads of [1, 2, 3]) pools.push(await NodeWorkerPool.create(threads));
}, 60_000);
afterAll(() => pools.forEach((p) => p.dispose()));

const config = mlpModel(6, [24, 12], 'tanh', 'ce', 4);
const data = makeBlobs(250, 4, 6); // 1000 rows: 16 shards of 62-63 rows, ragged tiles
const bits = (v: ArrayLike<number>) => Array.from(v);

describe('fast CPU on worker threads', () => {
  it('gradient: identical bits with 1, 2 and 3 threads and on the calling thread (js and wasm kernels)', async () => {
    const theta = initParameters(config, 5);
    for (const kernels of ['js', 'wasm'] as const) {
      const inline = await new FastCpuModelEngine(config, data, { kernels }).lossAndGradient(theta);
      for (const pool of pools) {
        const engine = new FastCpuModelEngine(config, data, { pool, kernels });
        expect(engine.threads).toBe(pool.threads);
        for (let rerun = 0; rerun < 2; rerun++) {
          const g = await engine.lossAndGradient(theta);
          expect(g.loss).toBe(inline.loss);
          expect(bits(g.grad)).toEqual(bits(inline.grad));
        }
        engine.dispose();
      }
    }
  });

  it('training (Adam, mini-batches): identical parameters for every thread count', async () => {
    const o = { lr: 0.01, maxEpochs: 3, batchSize: 300, seed: 9, optimizer: optimizerConfig({ kind: 'adam' }) };
    const inline = await new FastCpuModelEngine(config, data).train(o);
    for (const pool of pools) {
      const r = await new FastCpuModelEngine(config, data, { pool }).train(o);
      expect(bits(r.theta)).toEqual(bits(inline.theta));
      expect(r.loss).toBe(inline.loss);
    }
  });

  it('the linear model\'s kernels: identical bits for every thread count (d = 1 and 16, linear-wasm and linear-js)', async () => {
    const kernels: FormulaKernel[] = wasmSimdAvailable() ? ['linear-wasm', 'linear-js'] : ['linear-js'];
    for (const kernel of kernels) {
      for (const d of [1, 16]) {
        const model = linearFormulaModel(d);
        const lin = makeLinearData(5_003, d, d);
        const start = new Float64Array(d + 1);
        const at = Float64Array.from({ length: d + 1 }, (_, j) => (j < d ? 0.1 * j : 0.2));
        const inline = await new FastCpuFormulaEngine(model, lin, start, { kernel }).lossAndGradient(at);
        for (const pool of pools) {
          const engine = new FastCpuFormulaEngine(model, lin, start, { pool, kernel });
          expect(engine.kernel).toBe(kernel);
          const g = await engine.lossAndGradient(at);
          expect([g.loss, ...g.grad], `${kernel}, d = ${d}, ${pool.threads} threads`).toEqual([inline.loss, ...inline.grad]);
          engine.dispose();
        }
      }
    }
  });

  it('data already in a SharedArrayBuffer is used in place', async () => {
    const pool = pools[1];
    const x = new Float32Array(new SharedArrayBuffer(data.x.byteLength));
    x.set(data.x);
    const engine = new FastCpuModelEngine(config, { ...data, x }, { pool });
    const theta = initParameters(config, 5);
    const want = await new FastCpuModelEngine(config, data).lossAndGradient(theta);
    x.fill(0); // the engine reads x itself, not a copy
    expect((await engine.lossAndGradient(theta)).loss).not.toBe(want.loss);
  });

  it('refuses a bad thread count', async () => {
    await expect(NodeWorkerPool.create(0)).rejects.toThrow(/threads/);
  });
});
