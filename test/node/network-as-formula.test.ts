// `--model linear` and `--model logistic` (networks without hidden layers, one output) train as their formula,
// y ~ linear(x1..xd) under the head's loss, on the formula engines (src/models/linear-formula.ts: networkFormula;
// the CLI's backends route them there). The network's float64 twin is the independent reference: the same start,
// the same θ = (W, b) layout, weight decay sparing the bias, the same batches, so the two float64 runs agree to
// rounding (their sums differ in order only: 1e-10 relative to the parameters' travel leaves ~10^4 headroom).
import { describe, expect, it } from 'vitest';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { CpuModelEngine } from '../../src/cpu/cpu-model-engine.ts';
import { networkFormula } from '../../src/models/linear-formula.ts';
import { linearModel, logisticModel, mlpModel, softmaxModel } from '../../src/models/mlp.ts';
import type { NetworkConfig } from '../../src/models/network.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { makeSeparable } from '../model-data.ts';
import { makeLinearData } from '../data-gen.ts';

const REL = 1e-10;

async function bothWays(config: NetworkConfig, data: { x: Float32Array; y: Float32Array; n: number; d: number }, seed: number) {
  const formula = networkFormula(config, seed)!;
  const options = { lr: 0.05, maxEpochs: 12, batchSize: 16, seed, optimizer: optimizerConfig({ kind: 'adamw', weightDecay: 0.1 }) };
  const viaFormula = await new CpuFormulaEngine(formula.model, data, formula.start).train(options);
  const viaNetwork = await new CpuModelEngine(config, data).train(options);
  const travel = Math.hypot(...viaNetwork.theta.map((v, j) => v - formula.start[j]));
  const apart = Math.hypot(...viaFormula.theta.map((v, j) => v - viaNetwork.theta[j]));
  return { viaFormula, viaNetwork, travel, apart };
}

describe('a network without hidden layers is its formula', () => {
  it('logistic regression: the same parameters as the network twin after AdamW on mini-batches', async () => {
    const data = makeSeparable(203, 3, 4);
    const { viaFormula, viaNetwork, travel, apart } = await bothWays(logisticModel(3), data, 7);
    expect(travel).toBeGreaterThan(0.1);
    expect(apart).toBeLessThanOrEqual(REL * travel);
    expect(viaFormula.updates).toBe(viaNetwork.updates);
    expect(Math.abs(viaFormula.loss - viaNetwork.loss)).toBeLessThanOrEqual(REL * viaNetwork.loss);
  });

  it('the linear model with a formula loss (mae): the same parameters as the network twin', async () => {
    const data = makeLinearData(157, 2, 3);
    const { travel, apart } = await bothWays({ ...linearModel(2), loss: 'mae' }, data, 2);
    expect(travel).toBeGreaterThan(0.1);
    expect(apart).toBeLessThanOrEqual(REL * travel);
  });

  it("linear()'s bias is the one parameter weight decay spares (without that the two tests above fail)", () => {
    const formula = networkFormula(linearModel(2), 1)!;
    expect(formula.model.biases).toEqual(['b']);
    expect(formula.model.params.at(-1)).toBe('b');
  });

  it('softmax (K outputs) and networks with hidden layers stay networks', () => {
    expect(networkFormula(softmaxModel(3, 4))).toBeNull();
    expect(networkFormula(mlpModel(3, [4], 'tanh', 'mse'))).toBeNull();
  });
});
