// Training on the CPU over streamed rows (a file read chunk by chunk, one pass per epoch): every model,
// full batch or mini-batches cut inside chunks, through the one loop. Each chunk is evaluated by a fast
// engine (float32 data, float64 sums, the caller's threads) or, as the reference, by the float64
// network; the full batch combines the chunks' means in float64. The fast engine is built once per run
// over a chunk's capacity and every chunk is copied into its rows (streamed-source.ts says why), so the
// run holds one chunk in shared memory whatever the file size.
import { validateModelData, type ModelData, type NetworkConfig } from '../models/network.ts';
import type { ModelTrainOptions, ModelTrainResult } from '../models/model-engine.ts';
import type { RowStream } from '../models/row-stream.ts';
import { rowsOf } from '../models/batches.ts';
import { CpuProgram } from '../cpu/cpu-program.ts';
import { networkRules } from '../cpu/cpu-model-engine.ts';
import { modelLossAndGradient } from '../cpu/mlp_gradient.ts';
import { StreamedGradients, type ChunkEvaluator } from '../cpu/streamed-source.ts';
import { runTraining } from '../train/loop.ts';
import { checkFastCpuOptions, FastCpuModelEngine, type FastCpuOptions } from './fast-engines.ts';
import { sharedFloat32, validateShardPool } from './pool.ts';

export interface StreamedCpuOptions extends FastCpuOptions {
  /** The float64 twin evaluates each chunk instead of a fast engine. */
  reference?: boolean;
}

export async function trainModelStreamedOnCpu(
  config: NetworkConfig, rows: RowStream, o: Omit<ModelTrainOptions, 'chunkRows'>, options: StreamedCpuOptions = {},
): Promise<{ result: ModelTrainResult; passes: number }> {
  rejectStreamChunkRows(o);
  const { reference, ...engineOptions } = options;
  checkFastCpuOptions(engineOptions, 'trainModelStreamedOnCpu options');
  if (rows.d !== config.inputs) throw new RangeError(`stream: ${rows.d} columns per row, the model takes ${config.inputs}`);
  const streamed = new StreamedGradients(rows, (chunk): ChunkEvaluator => {
    if (reference) return { gradient: (theta, r) => modelLossAndGradient(config, theta, rowsOf(chunk, r)), dispose() {} };
    const engine = new FastCpuModelEngine(config, ownRows(chunk, engineOptions), engineOptions);
    return reusing(engine, chunk, { gradient: (theta, r) => engine.gradientOver(theta, r), dispose: () => engine.dispose() });
  }, (chunk, firstRow) => validateModelData(config, chunk, firstRow));
  try {
    const result = await runTraining(new CpuProgram(streamed.source(networkRules(config))), { ...o, chunkRows: rows.chunkRows });
    return { result, passes: streamed.cursor.passes };
  } finally {
    await streamed.dispose();
  }
}

/** A streamed run's chunks are the stream's (rows.chunkRows): a chunkRows among the train options would be ignored. */
export function rejectStreamChunkRows(o: object): void {
  if ((o as { chunkRows?: unknown }).chunkRows !== undefined) {
    throw new RangeError('chunkRows: a streamed run takes its chunks from the stream (rows.chunkRows); leave it out of the train options');
  }
}

/**
 * The first chunk as the engine's data: the engine copies it into memory its threads share (for the wasm
 * linear kernel, always), except on a single thread, where it would keep the chunk's own arrays, which
 * the reader refills: then a copy. The first chunk holds the most rows of any (every chunk but the last
 * holds chunkRows), so the engine can take every later one.
 */
function ownRows(first: ModelData, options: FastCpuOptions): ModelData {
  if (options.pool && options.pool.threads > 1) return first;
  return { ...first, x: first.x.slice(), y: first.y.slice() };
}

/**
 * Zeroed rows for the largest chunk of the stream, where the pool's threads can see them when a pool is
 * given (an engine that computes on its data in place then needs no copy of its own).
 */
export function capacityRows(rows: RowStream, options: FastCpuOptions): ModelData {
  const n = Math.min(rows.chunkRows, rows.n);
  const { pool } = options;
  if (pool !== undefined) validateShardPool(pool);
  return pool
    ? { x: sharedFloat32(pool, n * rows.d), y: sharedFloat32(pool, n), n, d: rows.d }
    : { x: new Float32Array(n * rows.d), y: new Float32Array(n), n, d: rows.d };
}

/** An evaluator over the engine's resident rows, loaded with `first`; load() copies each later chunk in. */
export function reusing(engine: { resident: { x: Float32Array; y: Float32Array } }, first: ModelData, on: ChunkEvaluator): ChunkEvaluator {
  const { x, y } = engine.resident;
  const load = (chunk: ModelData) => {
    if (chunk.x.length > x.length || chunk.y.length > y.length) {
      throw new RangeError(`stream: a chunk of ${chunk.n} rows exceeds the ${y.length} rows the engine holds`);
    }
    x.set(chunk.x);
    y.set(chunk.y);
  };
  if (x !== first.x) load(first);
  return { ...on, load };
}
