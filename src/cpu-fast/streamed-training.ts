// Training on the CPU over streamed rows (a file read chunk by chunk, one pass per epoch): every model,
// full batch or mini-batches cut inside chunks, through the one loop. Each chunk is evaluated by a fast
// engine built over it (float32 data, float64 sums, the caller's threads) or, as the reference, by the
// float64 network; the full batch combines the chunks' means in float64.
import type { NetworkConfig } from '../models/network.ts';
import type { ModelTrainOptions, ModelTrainResult } from '../models/model-engine.ts';
import { thetaGradient, type GradientResult, type LinearData, type TrainOptions, type TrainResult } from '../models/linear.ts';
import type { RowStream } from '../models/row-stream.ts';
import { rowsOf } from '../models/batches.ts';
import { CpuProgram, linearRules } from '../cpu/cpu-program.ts';
import { networkRules } from '../cpu/cpu-model-engine.ts';
import { modelLossAndGradient } from '../cpu/mlp_gradient.ts';
import { linearGradient } from '../cpu/linear_partials.ts';
import { StreamedGradients, type ChunkEvaluator } from '../cpu/streamed-source.ts';
import { runTraining } from '../train/loop.ts';
import { trainLinear } from '../train/linear.ts';
import { FastCpuLinearEngine, FastCpuModelEngine, type FastCpuOptions } from './fast-engines.ts';

export interface StreamedCpuOptions extends FastCpuOptions {
  /** The float64 twin evaluates each chunk instead of a fast engine. */
  reference?: boolean;
}

export async function trainModelStreamedOnCpu(
  config: NetworkConfig, rows: RowStream, o: Omit<ModelTrainOptions, 'chunkRows'>, options: StreamedCpuOptions = {},
): Promise<{ result: ModelTrainResult; passes: number }> {
  const streamed = new StreamedGradients(rows, (chunk): ChunkEvaluator => {
    if (options.reference) return { gradient: (theta, r) => modelLossAndGradient(config, theta, rowsOf(chunk, r)), dispose() {} };
    const engine = new FastCpuModelEngine(config, chunk, options);
    return { gradient: (theta, r) => engine.gradientOver(theta, r), dispose: () => engine.dispose() };
  });
  try {
    const result = await runTraining(new CpuProgram(streamed.source(networkRules(config))), { ...o, chunkRows: rows.chunkRows });
    return { result, passes: streamed.cursor.passes };
  } finally {
    await streamed.dispose();
  }
}

/** The linear model (full batch: the linear engine's rules) over streamed rows, and its gradient at the result. */
export async function trainLinearStreamedOnCpu(
  rows: RowStream, o: Omit<TrainOptions, 'batchSize'>, options: StreamedCpuOptions = {},
): Promise<{ result: TrainResult; final: GradientResult; passes: number }> {
  const d = rows.d;
  const asModel = (g: GradientResult) => ({ loss: g.loss, grad: thetaGradient(g) });
  const streamed = new StreamedGradients(rows, (chunk): ChunkEvaluator => {
    const data: LinearData = chunk;
    if (options.reference) return { gradient: (theta, r) => asModel(linearGradient(rowsOf(data, r), { w: theta.subarray(0, d), b: theta[d] })), dispose() {} };
    const engine = new FastCpuLinearEngine(data, options);
    return { gradient: async (theta, r) => asModel(await engine.gradientOver({ w: theta.subarray(0, d), b: theta[d] }, r)), dispose: () => engine.dispose() };
  });
  try {
    const result = await trainLinear(new CpuProgram(streamed.source(linearRules(rows.n, d))), d, o);
    const theta = new Float64Array(d + 1);
    theta.set(result.w);
    theta[d] = result.b;
    const g = await streamed.gradient(theta, { start: 0, rows: rows.n });
    return { result, final: { loss: g.loss, gradW: g.grad.slice(0, d), gradB: g.grad[d] }, passes: streamed.cursor.passes };
  } finally {
    await streamed.dispose();
  }
}
