// worker-pool.ts's bookkeeping through its Node adapter, and web-pool.ts's refusal where a page cannot share
// memory with Web Workers (the pool itself runs in Chromium: test/gpu/cpu-fast-web-workers.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeWorkerPool } from '../../src/cpu-fast/node-pool.ts';
import { WorkerPool, type SpawnWorker } from '../../src/cpu-fast/worker-pool.ts';
import { InlinePool } from '../../src/cpu-fast/pool.ts';
import { WebWorkerPool, WebWorkersUnavailableError, webWorkersUnavailable } from '../../src/cpu-fast/web-pool.ts';
import { FastCpuFormulaEngine } from '../../src/cpu-fast/formula-engine.ts';
import { linearFormulaModel } from '../../src/models/linear-formula.ts';
import { makeLinearData } from '../data-gen.ts';
import { concurrentRunsAgree } from '../pool-checks.ts';

describe('Web Workers where the page is not cross-origin isolated', () => {
  class FakeWorker {}
  it('says why and what fixes it', () => {
    const reason = webWorkersUnavailable({ Worker: FakeWorker, SharedArrayBuffer, crossOriginIsolated: false });
    expect(reason).toMatch(/not cross-origin isolated.*SharedArrayBuffer.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
    // Isolation claimed but no SharedArrayBuffer (a browser that withholds it): the same refusal.
    expect(webWorkersUnavailable({ Worker: FakeWorker, crossOriginIsolated: true })).toBe(reason);
    expect(webWorkersUnavailable({ SharedArrayBuffer, crossOriginIsolated: true })).toMatch(/no Web Workers/);
    expect(webWorkersUnavailable({ Worker: FakeWorker, SharedArrayBuffer, crossOriginIsolated: true })).toBeNull();
  });

  it('takes Deno (Web Workers and SharedArrayBuffer, no crossOriginIsolated: it has no pages) as able to share', () => {
    class FakeWorker {}
    expect(webWorkersUnavailable({ Worker: FakeWorker, SharedArrayBuffer })).toBeNull();
    expect(webWorkersUnavailable({ Worker: FakeWorker })).toMatch(/no SharedArrayBuffer/);
  });

  it('create() rejects with WebWorkersUnavailableError and starts nothing (Node has no Web Workers)', async () => {
    const g = globalThis as { Worker?: unknown };
    expect(g.Worker).toBeUndefined();
    const refusal = WebWorkerPool.create({ threads: 2 });
    await expect(refusal).rejects.toBeInstanceOf(WebWorkersUnavailableError);
    await expect(refusal).rejects.toThrow(/fast CPU Web Workers: this environment has no Web Workers/);
  });
});

describe('worker pool bookkeeping (worker threads)', () => {
  let pool: NodeWorkerPool;
  beforeAll(async () => {
    pool = await NodeWorkerPool.create(3);
  }, 60_000);
  afterAll(() => pool.dispose());

  it('runs asked for at once by two engines on one pool each get their own right answer', async () => {
    await concurrentRunsAgree(pool);
  });

  it('a shard that fails in a worker rejects naming the worker; the pool goes on working', async () => {
    const task = pool.register({
      kind: 'linear', d: 2, x: new Float32Array(pool.allocate(8)), y: new Float32Array(pool.allocate(4)),
      params: new Float64Array(pool.allocate(24)), partials: new Float64Array(pool.allocate(64)),
    });
    pool.release(task);
    await expect(pool.run(task, { start: 0, rows: 1, shards: 2, version: 1 })).rejects.toThrow(/fast CPU worker [12] of 2: .*task \d+ is not registered/);
    const engine = new FastCpuFormulaEngine(linearFormulaModel(2), makeLinearData(1_000, 2, 1), new Float64Array(3), { pool });
    expect((await engine.lossAndGradient([0.5, 0.5, 0])).loss).toBeGreaterThan(0);
    engine.dispose();
  });

  it('a worker that cannot be started fails start() naming it, and the ones already started are stopped', async () => {
    const stopped: number[] = [];
    const spawn: SpawnWorker = (index) => {
      if (index === 2) throw new Error('planted: no more threads');
      return { post: () => undefined, terminate: () => stopped.push(index) };
    };
    await expect(WorkerPool.start(3, spawn)).rejects.toThrow(/^fast CPU worker 2 of 2 did not start: planted: no more threads$/);
    expect(stopped).toEqual([1]);
  });

  it('after dispose() a run refuses', async () => {
    const other = await NodeWorkerPool.create(2);
    const engine = new FastCpuFormulaEngine(linearFormulaModel(2), makeLinearData(1_000, 2, 1), new Float64Array(3), { pool: other });
    other.dispose();
    await expect(engine.lossAndGradient([0, 0, 0])).rejects.toThrow(/pool: used after dispose/);
  });

  it('an engine cannot be built on a disposed pool, a worker pool or the inline one', async () => {
    const workers = await NodeWorkerPool.create(2);
    workers.dispose();
    const inline = new InlinePool();
    inline.dispose();
    for (const pool of [workers, inline]) {
      expect(() => new FastCpuFormulaEngine(linearFormulaModel(2), makeLinearData(100, 2, 1), new Float64Array(3), { pool })).toThrow(/pool: used after dispose/);
    }
    await expect(inline.run(1, { start: 0, rows: 1, shards: 1, version: 1 })).rejects.toThrow(/inline pool: used after dispose/);
  });
});
