// The fast CPU engine of the networks (the ModelEngine API) over sharded float32 kernels (tasks.ts)
// run by a ShardPool (pool.ts: inline; node-pool.ts: worker threads), trained by the one loop
// (src/train/loop.ts) through the same CPU program as the float64 twins (src/cpu/cpu-program.ts). The float64 engines stay the reference; tests hold this
// path to them (test/node/cpu-fast*.test.ts). Environment-free: the caller brings the pool.
import type { LinearData } from '../models/linear.ts';
import { validateModelData, validateNetwork, validateTheta, type ModelData, type NetworkConfig } from '../models/network.ts';
import type { ModelEngine, ModelTrainOptions, ModelTrainResult } from '../models/model-engine.ts';
import type { BatchRange } from '../models/batches.ts';
import type { ModelGradient } from '../cpu/mlp_gradient.ts';
import { CpuProgram } from '../cpu/cpu-program.ts';
import { networkSource } from '../cpu/cpu-model-engine.ts';
import { runTraining } from '../train/loop.ts';
import { DEFAULT_SHARDS, InlinePool, shareArray, sharedFloat32, sharedFloat64, validateShardPool, validateShards, type ShardPool } from './pool.ts';
import { addShards, partialStride, type NetworkKernels, type TaskSpec } from './tasks.ts';
import { wasmSimdAvailable } from './wasm-gemm.ts';
import { pagesFor, WASM_LINEAR_MAX_FEATURES } from './wasm-linear.ts';
import { packWeights, paddedNetwork, type PaddedNetwork } from './network-kernels.ts';
import { rejectUnknownKeys } from '../core/options.ts';

export interface FastCpuOptions {
  /** Threads to run shards on (not owned: the caller disposes it). Default: the calling thread alone. */
  pool?: ShardPool;
  /** Fixed shard count per evaluation (default 16): results are bit-identical for any pool with the same count. */
  shards?: number;
  /**
   * Network products: 'wasm' (WebAssembly SIMD, float32 sums over a layer's width), 'js' (float64 sums),
   * 'auto' (default): wasm where the engine has WebAssembly SIMD. Both are held to the float64 twin.
   */
  kernels?: NetworkKernels | 'auto';
}

/** What a fast engine's options may hold besides its own keys, explained: the keys a caller may try by mistake. */
export const FAST_CPU_OPTION_REASONS: Readonly<Record<string, string>> = {
  threads: 'an engine computes on the threads of the pool it is given: pass pool, e.g. await NodeWorkerPool.create(4) in Node or a WebWorkerPool in a page',
};

/** Rejects keys of a FastCpuModelEngine's options that it would ignore. */
export function checkFastCpuOptions(options: FastCpuOptions, what: string): void {
  rejectUnknownKeys(options, ['pool', 'shards', 'kernels'], what, { ...FAST_CPU_OPTION_REASONS, kernel: 'a formula engine\'s choice; a network engine\'s is kernels' });
}

/** One registered task on a pool: evaluations run one at a time, in call order. */
export class ShardedTask {
  readonly pool: ShardPool;
  readonly shards: number;
  readonly stride: number;
  readonly sums: Float64Array;
  readonly spec: TaskSpec;
  private id: number | null;
  private queue: Promise<unknown> = Promise.resolve();
  private version = 0;

  constructor(options: FastCpuOptions, spec: (pool: ShardPool, shards: number) => TaskSpec, readonly label: string) {
    if (options.pool !== undefined) validateShardPool(options.pool);
    this.pool = options.pool ?? new InlinePool();
    this.shards = options.shards ?? DEFAULT_SHARDS;
    validateShards(this.shards);
    const s = spec(this.pool, this.shards);
    this.spec = s;
    this.stride = partialStride(s);
    this.sums = new Float64Array(this.stride);
    this.id = this.pool.register(s);
  }

  /** Runs prepare() (writes the parameters), the shards of rows range, then adds the partials in shard order into sums. */
  evaluate<T>(range: BatchRange, prepare: () => void, finish: (sums: Float64Array, rows: number) => T, partials: Float64Array): Promise<T> {
    const run = this.queue.then(async () => {
      if (this.id === null) throw new Error(`${this.label}: used after dispose()`);
      prepare();
      await this.pool.run(this.id, { start: range.start, rows: range.rows, shards: this.shards, version: ++this.version });
      addShards(partials, this.shards, this.stride, this.sums);
      return finish(this.sums, range.rows);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  live(): void {
    if (this.id === null) throw new Error(`${this.label}: used after dispose()`);
  }

  dispose(): void {
    if (this.id !== null) this.pool.release(this.id);
    this.id = null;
  }
}

export class FastCpuModelEngine implements ModelEngine {
  readonly device = 'cpu' as const;
  readonly adapter = null;
  readonly n: number;
  private readonly net: PaddedNetwork;
  private readonly weights: Float32Array;
  private readonly partials: Float64Array;
  private readonly task: ShardedTask;
  /** The product kernels in use. */
  readonly kernels: NetworkKernels;

  constructor(readonly config: NetworkConfig, data: ModelData, options: FastCpuOptions = {}) {
    checkFastCpuOptions(options, 'FastCpuModelEngine options');
    validateNetwork(config);
    validateModelData(config, data);
    const kernels = options.kernels ?? 'auto';
    if (!['auto', 'js', 'wasm'].includes(kernels)) throw new RangeError(`kernels: expected auto, js or wasm, got "${kernels}"`);
    this.kernels = kernels === 'auto' ? (wasmSimdAvailable() ? 'wasm' : 'js') : kernels;
    if (this.kernels === 'wasm' && !wasmSimdAvailable()) throw new Error('kernels: this JavaScript engine has no WebAssembly SIMD');
    this.n = data.n;
    this.net = paddedNetwork(config);
    let weights: Float32Array | null = null;
    let partials: Float64Array | null = null;
    this.task = new ShardedTask(options, (pool, shards) => {
      weights = sharedFloat32(pool, this.net.packedSize);
      partials = sharedFloat64(pool, shards * (this.net.parameters + 1));
      return { kind: 'network', config, kernels: this.kernels, x: shareArray(pool, data.x), y: shareArray(pool, data.y), weights, partials };
    }, 'FastCpuModelEngine');
    this.weights = weights!;
    this.partials = partials!;
  }

  /** Threads computing shards. */
  get threads(): number {
    return this.task.pool.threads;
  }

  /**
   * The rows this engine computes on, as the pool's threads see them (shared or WebAssembly memory): a
   * streamed run builds one engine over a chunk's capacity and copies every chunk into these.
   */
  get resident(): { x: Float32Array; y: Float32Array } {
    const spec = this.task.spec as TaskSpec & { x: Float32Array; y: Float32Array };
    return { x: spec.x, y: spec.y };
  }

  /** Mean loss and gradient over rows range.start..range.start+range.rows (a batch, or a chunk's piece). */
  gradientOver(theta: ArrayLike<number>, range: BatchRange): Promise<ModelGradient> {
    const P = this.net.parameters;
    return this.task.evaluate(range, () => packWeights(this.net, theta, this.weights), (sums, rows) => {
      const inv = 1 / rows;
      const grad = new Float64Array(P);
      for (let k = 0; k < P; k++) grad[k] = sums[k] * inv;
      return { loss: sums[P] * inv, grad };
    }, this.partials);
  }

  async lossAndGradient(theta: ArrayLike<number>): Promise<ModelGradient> {
    this.task.live();
    validateTheta(this.config, theta);
    return this.gradientOver(theta, { start: 0, rows: this.n });
  }

  async train(o: ModelTrainOptions): Promise<ModelTrainResult> {
    this.task.live();
    return runTraining(new CpuProgram(networkSource(this.config, this.n, (theta, r) => this.gradientOver(theta, r))), o);
  }

  dispose(): void {
    this.task.dispose();
  }
}

/**
 * The linear task with its data, parameters and partials in one WebAssembly memory (shared where the pool
 * has other threads), for the SIMD kernel; null where there is no SIMD, the d-specific kernel is not
 * emitted (d above WASM_LINEAR_MAX_FEATURES), the data exceed 4 GiB, or shared memory is refused: the fast
 * formula engine's kernel for a linear shape (formula-engine.ts).
 */
export function linearWasmSpec(pool: ShardPool, data: LinearData, shards: number): (TaskSpec & { kind: 'linear' }) | null {
  const { n, d } = data;
  if (d > WASM_LINEAR_MAX_FEATURES || !wasmSimdAvailable()) return null;
  const align = (v: number) => Math.ceil(v / 16) * 16;
  const yAt = align(n * d * 4);
  const paramsAt = align(yAt + n * 4);
  const partialsAt = align(paramsAt + (d + 1) * 8);
  const pages = pagesFor(partialsAt + shards * (d + 2) * 8);
  if (pages === null) return null;
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  } catch {
    if (pool.threads > 1) return null;
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  }
  const buffer = memory.buffer;
  const x = new Float32Array(buffer, 0, n * d);
  const y = new Float32Array(buffer, yAt, n);
  x.set(data.x);
  y.set(data.y);
  return {
    kind: 'linear', d, x, y,
    params: new Float64Array(buffer, paramsAt, d + 1),
    partials: new Float64Array(buffer, partialsAt, shards * (d + 2)),
    wasm: { memory, pages },
  };
}
