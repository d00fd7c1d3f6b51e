// Checks every fast-CPU pool must pass, whatever starts its threads (worker threads in Node: test/node/
// cpu-fast-worker-pool.test.ts; Web Workers in the page: test/gpu/cpu-fast-web-workers.test.ts).
import { expect } from 'vitest';
import { FastCpuLinearEngine, FastCpuModelEngine } from '../src/cpu-fast/fast-engines.ts';
import type { ShardPool } from '../src/cpu-fast/pool.ts';
import { mlpModel } from '../src/models/mlp.ts';
import { initParameters } from '../src/models/network.ts';
import { makeBlobs } from './model-data.ts';
import { makeLinearData } from './data-gen.ts';

/**
 * Two engines on one pool asking for runs at once each get the bits the page-thread engines give. Each round
 * moves the parameters: a shard skipped in a round would keep the previous round's sums.
 */
export async function concurrentRunsAgree(pool: ShardPool): Promise<void> {
  const config = mlpModel(6, [64, 64], 'tanh', 'ce', 4);
  const data = makeBlobs(2_000, 4, 6);
  const lin = makeLinearData(200_003, 16, 3);
  const inlineModel = new FastCpuModelEngine(config, data);
  const inlineLinear = new FastCpuLinearEngine(lin);
  const model = new FastCpuModelEngine(config, data, { pool });
  const linear = new FastCpuLinearEngine(lin, { pool });
  try {
    for (let round = 0; round < 6; round++) {
      const theta = initParameters(config, 5 + round);
      const at = { w: new Float64Array(16).fill(0.1 * round), b: round };
      const [m, l] = await Promise.all([model.lossAndGradient(theta), linear.gradient(at)]);
      expect(Array.from(m.grad)).toEqual(Array.from((await inlineModel.lossAndGradient(theta)).grad));
      const want = await inlineLinear.gradient(at);
      expect([l.loss, ...l.gradW]).toEqual([want.loss, ...want.gradW]);
    }
  } finally {
    for (const e of [model, linear, inlineModel, inlineLinear]) e.dispose();
  }
}
