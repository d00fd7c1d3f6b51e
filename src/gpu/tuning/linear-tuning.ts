// Picks the pass-1 kernel configuration (workgroup size, groups per dispatch) for a linear engine: an explicit
// one, the tuning table's entry for this adapter and shape, or a fresh autotune over a prefix of the data
// just uploaded, each candidate validated against the float64 reference before it is timed.
import type { LinearData } from '../../models/linear.ts';
import type { GpuContext } from '../device.ts';
import type { ChunkSpec } from '../data-layout.ts';
import type { GpuChunk } from '../linear-buffers.ts';
import { checkLinearConfig, chooseWorkgroupSize, defaultLinearConfig, linearVariantOf, linearVariants, planLinearGrid, stepWorkgroupSize, type LinearKernelConfig, type LinearVariant } from '../dispatch.ts';
import { LinearPartialsPass } from '../passes/linear-partials-pass.ts';
import { ReducePartialsPass } from '../passes/reduce-partials-pass.ts';
import { packGridUniforms, packReduceUniforms } from '../uniforms.ts';
import { STATUS_RUNNING } from '../../core/train-status.ts';
import { autotune, AutotuneError, type AutotuneResult, type AutotuneSpec, type KernelChoice, type TuningTrial } from './autotune.ts';
import { defaultTuningCache, tuningKey, type TuningCache } from './cache.ts';
import {
  checkLinearResult, isLinearKernelConfig, linearCandidates, linearFamily, linearLadderOf, linearProbePoint, linearReference,
  linearShapeClass, linearTuneRows, LINEAR_TUNE_GROW_BELOW_MS, LINEAR_TUNE_GROWTH, LINEAR_TUNE_MAX_BYTES, LINEAR_TUNE_START_BYTES,
  type LinearReference,
} from './linear-candidates.ts';

const kLabel = 'nabla.tuning.linear';

export interface LinearTuningOptions {
  /** Use this configuration: no table, no tuning. */
  kernel?: LinearKernelConfig;
  /** Pins the workgroup size (largest power of two within it and the adapter's limit); groups are still tuned. */
  workgroupSize?: number;
  /** The table to read and fill (default: defaultTuningCache); false: no table, no tuning (defaultLinearConfig). */
  tuning?: TuningCache | false;
}

export type LinearKernelChoice = KernelChoice<LinearKernelConfig>;

/** The data a tuner may time over: resident chunks and the host copy the reference is computed from. */
export interface LinearTuningSource {
  chunks: GpuChunk[];
  specs: ChunkSpec[];
  data: LinearData;
}

/**
 * One candidate at a time over rows [0, rows) of chunk 0: scratch buffers shared by all candidates, the
 * pipelines from the per-device cache. prepare(config, code) takes replacement WGSL for fault injection.
 */
export class LinearTuner {
  private readonly made: GPUBuffer[] = [];
  private readonly theta: GPUBuffer;
  private readonly state: GPUBuffer;
  private readonly partials: GPUBuffer;
  private readonly gradLoss: GPUBuffer;
  private readonly readback: GPUBuffer;
  readonly reference: LinearReference;

  constructor(private readonly gpu: GpuContext, private readonly source: LinearTuningSource, readonly rows: number, maxGroups: number) {
    const { device } = gpu;
    const d = source.data.d;
    const make = (name: string, size: number, usage: number) => {
      const b = device.createBuffer({ label: `${kLabel}.${name}`, size: Math.ceil(size / 16) * 16, usage });
      this.made.push(b);
      return b;
    };
    const S = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const at = linearProbePoint(d);
    this.theta = make('theta', (d + 1) * 4, S);
    this.state = make('state', 16, S);
    this.partials = make('partials', maxGroups * (d + 2) * 4, S);
    this.gradLoss = make('gradLoss', (d + 2) * 4, S | GPUBufferUsage.COPY_SRC);
    this.readback = make('readback', (d + 2) * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    device.queue.writeBuffer(this.theta, 0, Float32Array.from([...Array.from(at.w), at.b]));
    device.queue.writeBuffer(this.state, 0, new Uint32Array([STATUS_RUNNING, 0, 0, 0]));
    this.reference = linearReference(source.data, rows, at);
  }

  async prepare(config: LinearKernelConfig, code?: string): Promise<TuningTrial> {
    const { device, shape } = this.gpu;
    const d = this.source.data.d;
    const plan = planLinearGrid(this.rows, d, shape, config);
    const shared = { theta: this.theta, state: this.state, partials: this.partials, gradLoss: this.gradLoss };
    const partials = await LinearPartialsPass.create(device, d, plan, shared, code);
    const reduce = await ReducePartialsPass.create(device, d, plan.workgroupSize, stepWorkgroupSize(d, shape), shared);
    const uniform = (data: ArrayBuffer) => {
      const b = device.createBuffer({ label: `${kLabel}.uniforms`, size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(b, 0, data);
      return b;
    };
    const grid = uniform(packGridUniforms({ chunk: 0, rowOffset: 0, rows: this.rows, firstGroup: 0, plan }));
    const reduceUniforms = uniform(packReduceUniforms(plan.numGroups, d, this.rows));
    // Bind-group errors surface in validate()'s error scope, so nothing here throws past the uniforms.
    const partialsGroup = partials.bind({ grid, ...this.source.chunks[0] }, 'tune');
    const reduceGroup = reduce.bind(reduceUniforms, plan.numGroups, 'tune');
    const record = (pass: GPUComputePassEncoder) => {
      partials.run(pass, partialsGroup, plan);
      reduce.run(pass, reduceGroup);
    };
    return {
      record,
      validate: async () => {
        // Poisoned first: a group that writes nothing leaves NaN, never the previous candidate's sums.
        device.queue.writeBuffer(this.partials, 0, new Float32Array(this.partials.size / 4).fill(NaN));
        device.queue.writeBuffer(this.gradLoss, 0, new Float32Array(this.gradLoss.size / 4).fill(NaN));
        const encoder = device.createCommandEncoder({ label: `${kLabel}.validate.encoder` });
        const pass = encoder.beginComputePass({ label: `${kLabel}.validate.pass` });
        record(pass);
        pass.end();
        encoder.copyBufferToBuffer(this.gradLoss, 0, this.readback, 0, (d + 2) * 4);
        device.pushErrorScope('validation');
        device.queue.submit([encoder.finish()]);
        // Both awaited together: one round trip to the GPU process, not two (it dominates on a busy host).
        const scope = device.popErrorScope();
        const mapped = this.readback.mapAsync(GPUMapMode.READ, 0, (d + 2) * 4).then(() => true, () => false);
        const [error, ok] = await Promise.all([scope, mapped]);
        if (!ok) return `read-back failed${error ? `: ${error.message}` : ''}`;
        const got = new Float32Array(this.readback.getMappedRange(0, (d + 2) * 4).slice(0));
        this.readback.unmap();
        return error ? `validation error: ${error.message}` : checkLinearResult(got, this.reference);
      },
      dispose: () => {
        grid.destroy();
        reduceUniforms.destroy();
      },
    };
  }

  /**
   * Builds every workgroup size's pipelines at once, before anything is timed: on a software adapter
   * compiling (0.1 to 2 s a pipeline) costs more than timing, and the builds overlap on several cores.
   * A build that fails is left for prepare() to report.
   */
  async compile(candidates: LinearKernelConfig[]): Promise<void> {
    const { device, shape } = this.gpu;
    const d = this.source.data.d;
    const shared = { theta: this.theta, state: this.state, partials: this.partials, gradLoss: this.gradLoss };
    const shapes = new Map(candidates.map((c) => [linearLadderOf(c), c]));
    await Promise.allSettled([...shapes.values()].flatMap((c) => {
      const plan = planLinearGrid(this.rows, d, shape, { ...c, numGroups: 1 });
      return [LinearPartialsPass.create(device, d, plan, shared), ReducePartialsPass.create(device, d, c.workgroupSize, stepWorkgroupSize(d, shape), shared)];
    }));
  }

  spec(candidates: LinearKernelConfig[]): AutotuneSpec<LinearKernelConfig> {
    return {
      family: linearFamily(this.source.data.d),
      candidates,
      ladderOf: linearLadderOf,
      // Two kernels' ladders (17 to 64 features) of equal standing: neither may spend the budget alone.
      ladderWalk: 'turns',
      prepare: (c) => this.prepare(c),
      budgetMs: 2000,
    };
  }

  dispose(): void {
    for (const b of this.made) b.destroy();
  }
}

/**
 * Tunes over growing prefixes of the data (see LINEAR_TUNE_START_BYTES): each round a full autotune; the
 * last round's winner is the answer. Throws AutotuneError when a round has no valid candidate.
 */
export async function tuneLinearKernel(
  gpu: GpuContext, source: LinearTuningSource, firstChunkRows: number, pinnedWorkgroup?: number,
): Promise<AutotuneResult<LinearKernelConfig>> {
  const { n, d } = source.data;
  const limit = linearTuneRows(n, d, firstChunkRows, LINEAR_TUNE_MAX_BYTES);
  for (let bytes = LINEAR_TUNE_START_BYTES; ; bytes *= LINEAR_TUNE_GROWTH) {
    const rows = linearTuneRows(n, d, firstChunkRows, bytes);
    const candidates = linearCandidates(rows, d, gpu.shape, pinnedWorkgroup);
    const tuner = new LinearTuner(gpu, source, rows, Math.max(...candidates.map((c) => c.numGroups)));
    let result: AutotuneResult<LinearKernelConfig>;
    try {
      await tuner.compile(candidates);
      result = await autotune(gpu, tuner.spec(candidates));
    } finally {
      tuner.dispose();
    }
    if (rows >= limit || result.timing.ms >= LINEAR_TUNE_GROW_BELOW_MS) return result;
  }
}

/**
 * The engine's configuration: explicit > table > tuned now (when `source` is given: resident data) > the
 * untuned default. `variant` pins the kernel (streamed records need the quad kernel's records variant): then
 * only table entries of that kernel count, and nothing is tuned. A table entry this device cannot run is ignored. When no candidate validates (data
 * whose float32 sums overflow, say) the default is used and nothing is stored.
 */
export async function chooseLinearKernel(
  gpu: GpuContext, n: number, d: number, firstChunkRows: number, options: LinearTuningOptions, source: LinearTuningSource | null,
  variant?: LinearVariant,
): Promise<LinearKernelChoice> {
  if (options.kernel) {
    checkLinearConfig(options.kernel, gpu.shape);
    if (variant && linearVariantOf(d, options.kernel) !== variant) {
      throw new RangeError(`kernel: this data needs the ${variant} kernel, got variant ${linearVariantOf(d, options.kernel)}`);
    }
    return { config: { ...options.kernel }, source: 'explicit' };
  }
  const fallback: LinearKernelChoice = { config: defaultLinearConfig(n, d, gpu.shape, options.workgroupSize, variant), source: 'default' };
  if (options.tuning === false) return fallback;
  const cache = options.tuning ?? defaultTuningCache;
  const pinned = options.workgroupSize === undefined ? undefined : chooseWorkgroupSize(gpu.shape, options.workgroupSize);
  const key = tuningKey(gpu, linearFamily(d), linearShapeClass(n, d, pinned));
  const runnable = (c: unknown): c is LinearKernelConfig => isLinearKernelConfig(c) && c.workgroupSize <= gpu.shape.maxWorkgroupSize
    && (c.workgroupSize & (c.workgroupSize - 1)) === 0 && (pinned === undefined || c.workgroupSize === pinned)
    && linearVariants(d).includes(linearVariantOf(d, c)) && (variant === undefined || linearVariantOf(d, c) === variant);
  const hit = cache.get(key, runnable);
  if (hit) return { config: hit.config, source: 'table' };
  if (!source || variant) return fallback;
  let result: AutotuneResult<LinearKernelConfig>;
  try {
    result = await tuneLinearKernel(gpu, source, firstChunkRows, pinned);
  } catch (e) {
    if (e instanceof AutotuneError) return fallback;
    throw e;
  }
  const timed = result.trials.filter((t) => t.ms !== undefined).length;
  cache.set(key, {
    config: result.best, ms: result.timing.ms, method: result.timing.method, validated: timed,
    tried: result.trials.filter((t) => !t.rejected?.startsWith('skipped')).length, tunedAt: new Date().toISOString(),
  });
  return { config: result.best, source: 'tuned', result };
}

