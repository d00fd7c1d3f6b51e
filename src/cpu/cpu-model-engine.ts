// The float64 path for logistic, softmax and MLP models (and linear through the same network code): the
// reference the GPU engine and the fast CPU path are tested against. Training runs the one loop
// (src/train/loop.ts) over this engine's gradient, one sample at a time in float64.
import { decayMask, initParameters, validateModelData, validateNetwork, validateTheta, type ModelData, type NetworkConfig } from '../models/network.ts';
import type { ModelEngine, ModelTrainOptions, ModelTrainResult } from '../models/model-engine.ts';
import type { BatchRange } from '../models/batches.ts';
import { modelLossAndGradient } from './mlp_gradient.ts';
import { CpuProgram, type CpuGradientSource } from './cpu-program.ts';
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
    const data = this.live();
    const c = this.config;
    return runTraining(new CpuProgram(networkSource(c, this.n, (theta, r) => modelLossAndGradient(c, theta, r.rows === data.n ? data : batchView(data, c.inputs, r)))), o);
  }

  dispose(): void {
    this.data = null;
  }
}

/** Rows r.start..r.start+r.rows of the data, as views (no copy). */
function batchView(data: ModelData, d: number, r: BatchRange): ModelData {
  return { ...data, n: r.rows, x: data.x.subarray(r.start * d, (r.start + r.rows) * d), y: data.y.subarray(r.start, r.start + r.rows) };
}

/** A network (logistic, softmax, MLP, linear) as a gradient source of the CPU program. */
export function networkSource(c: NetworkConfig, n: number, gradient: CpuGradientSource['gradient']): CpuGradientSource {
  return { n, gradient, initialParameters: (seed) => initParameters(c, seed), validateTheta: (theta) => validateTheta(c, theta), decayMask: decayMask(c) };
}
