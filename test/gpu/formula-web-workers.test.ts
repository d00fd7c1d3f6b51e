// Formula models on the fast CPU path's Web Workers (src/cpu-fast/web-pool.ts) in headless Chromium: the
// task's generated source and its shared buffers cross to each worker, which compiles the source, and the
// results are the bits of the page's thread alone.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { WebWorkerPool } from '../../src/cpu-fast/web-pool.ts';
import { formulaThreadsAgree } from '../formula-pool-check.ts';

const pools: WebWorkerPool[] = [];
beforeAll(async () => {
  for (const threads of [2, 3]) pools.push(await WebWorkerPool.create({ threads }));
});
afterAll(() => pools.forEach((p) => p.dispose()));

describe('formula models on Web Workers', () => {
  it('weighted Poisson with a log link: identical loss, gradient and Adam parameters for 2 and 3 threads', async () => {
    for (const pool of pools) await formulaThreadsAgree(pool);
  });
});
