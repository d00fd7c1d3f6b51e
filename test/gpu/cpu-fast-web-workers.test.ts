// The fast CPU path on Web Workers (src/cpu-fast/web-pool.ts) in headless Chromium: the browser project's
// server sends the cross-origin isolation headers (vite.config.ts), as the demo's does, so the page has
// SharedArrayBuffer. Same contract as test/node/cpu-fast-workers.test.ts: the same bits as on the page's
// thread alone (InlinePool), for every thread count and rerun; failures reject naming the worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebWorkerPool } from '../../src/cpu-fast/web-pool.ts';
import { FastCpuModelEngine } from '../../src/cpu-fast/fast-engines.ts';
import { FastCpuFormulaEngine, type FastCpuFormulaOptions } from '../../src/cpu-fast/formula-engine.ts';
import { linearFormulaModel, linearTheta } from '../../src/models/linear-formula.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import { initParameters } from '../../src/models/network.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { makeBlobs } from '../model-data.ts';
import { makeLinearData } from '../data-gen.ts';
import type { LinearData } from '../../src/models/linear.ts';
import { concurrentRunsAgree } from '../pool-checks.ts';

const pools: WebWorkerPool[] = [];
beforeAll(async () => {
  for (const threads of [2, 3]) pools.push(await WebWorkerPool.create({ threads }));
});
afterAll(() => pools.forEach((p) => p.dispose()));

const bits = (v: ArrayLike<number>) => Array.from(v);
/** The linear model y ~ linear(x1..xd) with mse on the fast CPU path (the linear task: linear-wasm or linear-js). */
const linearEngine = (data: LinearData, options: FastCpuFormulaOptions = {}) => new FastCpuFormulaEngine(linearFormulaModel(data.d), data, new Float64Array(data.d + 1), options);
/** A worker module from source text (a blob: URL inherits the page's isolation). */
const moduleUrl = (source: string) => URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));

describe('fast CPU path on Web Workers', () => {
  it('the test page is cross-origin isolated (the browser project sends COOP/COEP)', () => {
    expect(crossOriginIsolated).toBe(true);
    expect(pools.map((p) => p.threads)).toEqual([2, 3]);
  });

  it('linear gradient: identical bits to the page\'s thread alone (d = 1 and 16, linear-js and linear-wasm kernels)', async () => {
    for (const kernel of ['linear-js', 'linear-wasm'] as const) {
      for (const d of [1, 16]) {
        const data = makeLinearData(5_003, d, d);
        const theta = linearTheta({ w: Float64Array.from({ length: d }, (_, j) => 0.1 * j - 0.3), b: 0.2 });
        const inlineEngine = linearEngine(data, { kernel });
        const inline = await inlineEngine.lossAndGradient(theta);
        inlineEngine.dispose();
        for (const pool of pools) {
          const engine = linearEngine(data, { pool, kernel });
          expect(engine.threads).toBe(pool.threads);
          expect(engine.kernel).toBe(kernel); // linear-wasm: the data sit in a shared WebAssembly memory
          for (let rerun = 0; rerun < 2; rerun++) {
            const g = await engine.lossAndGradient(theta);
            expect([g.loss, ...g.grad]).toEqual([inline.loss, ...inline.grad]);
          }
          engine.dispose();
        }
      }
    }
  });

  it('MLP: identical loss and gradient bits, and identical parameters after Adam on mini-batches', async () => {
    const config = mlpModel(6, [24, 12], 'tanh', 'ce', 4);
    const data = makeBlobs(250, 4, 6); // 1000 rows: 16 shards of 62-63 rows
    const theta = initParameters(config, 5);
    const o = { lr: 0.01, maxEpochs: 3, batchSize: 300, seed: 9, optimizer: optimizerConfig({ kind: 'adam' }) };
    for (const kernels of ['js', 'wasm'] as const) {
      const inlineEngine = new FastCpuModelEngine(config, data, { kernels });
      const inline = await inlineEngine.lossAndGradient(theta);
      const inlineRun = await inlineEngine.train(o);
      for (const pool of pools) {
        const engine = new FastCpuModelEngine(config, data, { pool, kernels });
        const g = await engine.lossAndGradient(theta);
        expect(g.loss).toBe(inline.loss);
        expect(bits(g.grad)).toEqual(bits(inline.grad));
        const run = await engine.train(o);
        expect(bits(run.theta)).toEqual(bits(inlineRun.theta));
        engine.dispose();
      }
    }
  });

  it('runs asked for at once by two engines on one pool each get their own right answer', async () => {
    await concurrentRunsAgree(pools[1]);
  });

  it('a shard that fails in a worker rejects the run with the worker\'s name; the pool goes on working', async () => {
    const pool = pools[0];
    const data = makeLinearData(1_000, 2, 1);
    const engine = linearEngine(data, { pool, kernel: 'linear-js' });
    const task = pool.register({ kind: 'linear', d: 2, x: new Float32Array(pool.allocate(8)), y: new Float32Array(pool.allocate(4)), params: new Float64Array(pool.allocate(24)), partials: new Float64Array(pool.allocate(64)) });
    pool.release(task); // the workers forget it: a run of it fails there (and on the page's thread)
    await expect(pool.run(task, { start: 0, rows: 1, shards: 2, version: 1 })).rejects.toThrow(/fast CPU worker 1 of 1: .*task \d+ is not registered/);
    const g = await engine.lossAndGradient([0.5, 0.5, 0]);
    expect(g.loss).toBeGreaterThan(0);
    engine.dispose();
  });

  it('a worker that dies rejects the pending run naming it, instead of hanging', async () => {
    // Loads like a worker, then throws on the first job.
    const url = moduleUrl(`addEventListener('message', (e) => { if (e.data.op === 'run') throw new Error('planted failure in run'); });
postMessage({ op: 'ready' });`);
    const pool = await WebWorkerPool.create({ threads: 3, workerUrl: url });
    try {
      const engine = linearEngine(makeLinearData(1_000, 2, 1), { pool, kernel: 'linear-js' });
      await expect(engine.lossAndGradient([0, 0, 0])).rejects.toThrow(/fast CPU worker [12] of 2 failed: .*planted failure in run/);
      await expect(engine.lossAndGradient([0, 0, 0])).rejects.toThrow(/planted failure/); // stays failed
    } finally {
      pool.dispose();
      URL.revokeObjectURL(url);
    }
  });

  it('a worker whose module cannot load fails create() naming it; none is left running', async () => {
    const url = moduleUrl(`throw new Error('planted failure at load');`);
    await expect(WebWorkerPool.create({ threads: 2, workerUrl: url })).rejects.toThrow(/fast CPU worker 1 of 1 failed: .*planted failure at load/);
    await expect(WebWorkerPool.create({ threads: 2, workerUrl: '/no/such/worker.js' })).rejects.toThrow(/fast CPU worker 1 of 1 failed: .*could not be loaded.*\/no\/such\/worker\.js/);
    URL.revokeObjectURL(url);
  });

  it('dispose() terminates the workers and settles a run in flight', async () => {
    // Loads like a worker, beats on a channel the test listens to, and never answers a job.
    const url = moduleUrl(`const beat = new BroadcastChannel('nabla-web-pool-test');
setInterval(() => beat.postMessage(1), 5);
postMessage({ op: 'ready' });`);
    const beat = new BroadcastChannel('nabla-web-pool-test');
    let beats = 0;
    beat.onmessage = () => beats++;
    const pool = await WebWorkerPool.create({ threads: 3, workerUrl: url });
    try {
      await expect.poll(() => beats, { timeout: 5_000 }).toBeGreaterThan(10);
      const engine = linearEngine(makeLinearData(1_000, 2, 1), { pool, kernel: 'linear-js' });
      const inFlight = engine.lossAndGradient([0, 0, 0]);
      await sleep(50);
      pool.dispose();
      await expect(inFlight).rejects.toThrow(/disposed while a job was running/);
      await sleep(50); // beats posted before the end may still be on their way
      beats = 0;
      await sleep(200);
      expect(beats, 'no worker beats after dispose()').toBe(0);
      await expect(engine.lossAndGradient([0, 0, 0])).rejects.toThrow(/after dispose/);
    } finally {
      pool.dispose();
      beat.close();
      URL.revokeObjectURL(url);
    }
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
