// The float64 path for logistic, softmax and MLP models (and linear through the same network code): the
// reference the GPU engine and the fast CPU path are tested against. Training runs the one loop
// (src/train/loop.ts) over this engine's gradient, one sample at a time in float64.
import { validateModelData, validateNetwork, validateTheta, type ModelData, type NetworkConfig } from '../models/network.ts';
import type { ModelEngine, ModelTrainOptions, ModelTrainResult } from '../models/model-engine.ts';
import { rowsOf } from '../models/batches.ts';
import { modelLossAndGradient } from './mlp_gradient.ts';
import { CpuProgram, type CpuGradientSource } from './cpu-program.ts';
import { networkRules } from '../models/rules.ts';
import { runTraining } from '../train/loop.ts';

export class CpuModelEngine implements ModelEngine {
  readonly device = 'cpu' as const;
  readonly adapter = null;
  readonly n: number;
  private data: ModelData | null;

  constructor(readonly config: NetworkConfig, data: ModelData) {
    validateNetwork(config);
    validateModelData(config, data);
    this.data = data;
    this.n = data.n;
  }

  private live(): ModelData {
    if (!this.data) throw new Error('CpuModelEngine: used after dispose()');
    return this.data;
  }

  async lossAndGradient(theta: ArrayLike<number>) {
    validateTheta(this.config, theta);
    return modelLossAndGradient(this.config, theta, this.live());
  }

  async train(o: ModelTrainOptions): Promise<ModelTrainResult> {
    this.live();
    const c = this.config;
    // Each update asks for the rows again: an engine disposed during a run stops it, as the fast engine does.
    return runTraining(new CpuProgram(networkSource(c, this.n, (theta, r) => modelLossAndGradient(c, theta, rowsOf(this.live(), r)))), o);
  }

  dispose(): void {
    this.data = null;
  }
}

/** A network (logistic, softmax, MLP, linear) as a gradient source of the CPU program. */
export function networkSource(c: NetworkConfig, n: number, gradient: CpuGradientSource['gradient']): CpuGradientSource {
  return { ...networkRules(c), n, gradient };
}

export { networkRules };
