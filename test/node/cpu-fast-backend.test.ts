// The CLI's CPU backend: `cpu` trains on the fast path (worker threads), `cpu64` on the float64 twin, and
// both agree to the fast path's tolerance; close() ends the worker threads.
import { describe, expect, it } from 'vitest';
import { openBackend } from '../../src/cli/backend.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import { initParameters } from '../../src/models/network.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { makeSpirals } from '../model-data.ts';
import { makeLinearData, relativeError } from '../data-gen.ts';

describe('CPU backend', () => {
  it('cpu (fast, 2 threads) and cpu64 (float64 twin) train the same MLP and linear model', async () => {
    const notices: string[] = [];
    const fast = await openBackend('cpu', (m) => notices.push(m), {}, { threads: 2 });
    const ref = await openBackend('cpu64', (m) => notices.push(m));
    try {
      const c = mlpModel(2, [12, 8], 'tanh', 'bce');
      const data = makeSpirals(150);
      const o = { lr: 0.01, maxEpochs: 4, batchSize: 64, seed: 5, optimizer: optimizerConfig({ kind: 'adam' }), init: initParameters(c, 5) } as const;
      const a = await fast.trainModel(c, data, o);
      const b = await ref.trainModel(c, data, o);
      expect([a.device, a.result.epochs, a.result.stopReason]).toEqual(['cpu', 4, 'max-epochs']);
      expect(relativeError(a.result.theta, b.result.theta).rel).toBeLessThanOrEqual(2e-5); // TRAJECTORY_REL_TOL, cpu-fast.test.ts
      const lin = makeLinearData(3_000, 3, 7);
      const at = { w: [0.5, -1, 2], b: 0.1 };
      const ga = await fast.gradient(lin, at);
      const gb = await ref.gradient(lin, at);
      expect(relativeError([...ga.gradW, ga.gradB], [...gb.gradW, gb.gradB]).rel).toBeLessThanOrEqual(1e-12);
      const ta = await fast.train(lin, { lr: 0.1, maxEpochs: 300 });
      const tb = await ref.train(lin, { lr: 0.1, maxEpochs: 300 });
      expect([ta.result.stopReason, ta.result.epochs]).toEqual([tb.result.stopReason, tb.result.epochs]);
      expect(notices).toEqual([]); // the worker threads started
    } finally {
      await fast.close();
      await ref.close();
    }
  });

  it('a bad thread count is an error before any work', async () => {
    const backend = await openBackend('cpu', () => {}, {}, { threads: 0 });
    const c = mlpModel(2, [4], 'tanh', 'bce');
    await expect(backend.trainModel(c, makeSpirals(10), { lr: 0.1, maxEpochs: 1, optimizer: optimizerConfig() })).rejects.toThrow(/threads/);
    await backend.close();
  });
});
