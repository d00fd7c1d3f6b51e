// Checks every fast-CPU pool must pass, whatever starts its threads (worker threads in Node: test/node/
// cpu-fast-worker-pool.test.ts; Web Workers in the page: test/gpu/cpu-fast-web-workers.test.ts).
import { expect } from 'vitest';
import { FastCpuModelEngine } from '../src/cpu-fast/fast-engines.ts';
import { FastCpuFormulaEngine } from '../src/cpu-fast/formula-engine.ts';
import type { ShardPool } from '../src/cpu-fast/pool.ts';
import { mlpModel } from '../src/models/mlp.ts';
import { initParameters } from '../src/models/network.ts';
import { linearFormulaModel } from '../src/models/linear-formula.ts';
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
  const linearModel = linearFormulaModel(16);
  const start = new Float64Array(17);
  const inlineLinear = new FastCpuFormulaEngine(linearModel, lin, start);
  const model = new FastCpuModelEngine(config, data, { pool });
  const linear = new FastCpuFormulaEngine(linearModel, lin, start, { pool });
  try {
    for (let round = 0; round < 6; round++) {
      const theta = initParameters(config, 5 + round);
      const at = Float64Array.from({ length: 17 }, (_, j) => (j < 16 ? 0.1 * round : round));
      const [m, l] = await Promise.all([model.lossAndGradient(theta), linear.lossAndGradient(at)]);
      expect(Array.from(m.grad)).toEqual(Array.from((await inlineModel.lossAndGradient(theta)).grad));
      const want = await inlineLinear.lossAndGradient(at);
      expect([l.loss, ...l.grad]).toEqual([want.loss, ...want.grad]);
    }
  } finally {
    for (const e of [model, linear, inlineModel, inlineLinear]) e.dispose();
  }
}
