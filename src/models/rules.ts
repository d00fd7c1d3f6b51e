// What a model says besides its gradient, for every backend's training program: where a run starts, which
// parameters are valid, where weight decay applies, and what it cannot train with. Kept with the models so
// that the float64 twins and the GPU programs both take it from here rather than from each other.
import { decayMask, initParameters, validateTheta, type NetworkConfig } from './network.ts';
import type { OptimizerConfig } from '../optim/config.ts';

export interface ModelRules {
  initialParameters(seed: number): Float64Array;
  /** Throws on parameters of the wrong length or with non-finite values. */
  validateTheta(theta: ArrayLike<number>): void;
  /** 1 where weight decay applies (weights), 0 where not (biases); omitted: everywhere. */
  decayMask?: ArrayLike<number>;
  /** What this model or engine cannot train with. */
  check?(setup: { optimizer: OptimizerConfig; constantLr: boolean; batchSize: number }): void;
}

/** A network's rules: seeded initial parameters, their check, weight decay on the weights only. */
export function networkRules(c: NetworkConfig): ModelRules {
  return { initialParameters: (seed) => initParameters(c, seed), validateTheta: (theta) => validateTheta(c, theta), decayMask: decayMask(c) };
}
