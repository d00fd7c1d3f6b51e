// What the linear pass-1 autotuner tries and how it judges a result: pure, so it is unit-tested without a GPU.
// The GPU side (building and timing each candidate) is linear-tuning.ts.
import { chooseWorkgroupSize, linearTileRows, linearVariants, QUAD_UNROLLS, type DeviceShape, type LinearKernelConfig } from '../dispatch.ts';
import type { LinearData, LinearParams } from '../../models/linear.ts';
import type { ShapeClass } from './cache.ts';

/**
 * Bytes of X and y the tuner times over, a prefix of the data: first LINEAR_TUNE_START_BYTES, so tuning costs
 * a fraction of a second on a software adapter (≈ 1 GB/s there) whatever N is; then, while the best unit
 * of work takes under LINEAR_TUNE_GROW_BELOW_MS (a fast GPU, where a few MiB sit in cache and launch
 * overhead would decide), LINEAR_TUNE_GROWTH times more, up to LINEAR_TUNE_MAX_BYTES, so that a GPU is tuned
 * on reads from memory with thousands of workgroups' worth of work.
 */
export const LINEAR_TUNE_START_BYTES = 4 * 2 ** 20;
export const LINEAR_TUNE_MAX_BYTES = 256 * 2 ** 20;
export const LINEAR_TUNE_GROWTH = 16;
export const LINEAR_TUNE_GROW_BELOW_MS = 1;
/** Workgroup sizes tried (those within the adapter's limit): the same list on every adapter. */
export const LINEAR_WORKGROUP_SIZES = [64, 128, 256] as const;
/**
 * Features up to which each ladder is also tried with 2 quads per loop iteration (QUAD_UNROLLS): measured on
 * SwiftShader, 13-15 % less pass-1 time at d = 1 and none from d = 2 (more registers per iteration); every
 * extra candidate is one more pipeline to compile.
 */
export const QUAD_UNROLL_MAX_FEATURES = 1;
/** Largest grid tried: 2^12 workgroups (more than any SwiftShader wants, enough to fill a large GPU). */
export const LINEAR_MAX_GROUPS = 4096;

/** The tuning table's family: which kernels its entries chose among (linearVariants). */
export function linearFamily(d: number): string {
  return `linear.partials.${linearVariants(d).join('-or-')}`;
}

/** Rows of a tuning prefix of `bytes` bytes (whole quads), within the data and its first chunk. */
export function linearTuneRows(n: number, d: number, firstChunkRows: number, bytes: number): number {
  const cap = Math.max(4, Math.floor(bytes / ((d + 1) * 4) / 4) * 4);
  return Math.min(n, firstChunkRows, cap);
}

/**
 * The shape class of a tuning entry: d, and log2 of the rows (rounded up) up to the largest prefix the tuner
 * may time, so data up to twice as large shares an entry and all data above LINEAR_TUNE_MAX_BYTES shares
 * one. A pinned workgroup size (the engine's workgroupSize option) is part of the class: its entries never
 * stand in for a free search.
 */
export function linearShapeClass(n: number, d: number, pinnedWorkgroup?: number): ShapeClass {
  const rows = Math.min(n, linearTuneRows(Infinity, d, Infinity, LINEAR_TUNE_MAX_BYTES));
  const shape: ShapeClass = { d, log2Rows: Math.ceil(Math.log2(Math.max(1, rows))) };
  if (pinnedWorkgroup !== undefined) shape.workgroupSize = pinnedWorkgroup;
  return shape;
}

/**
 * Candidates in ladders (one per kernel, unroll and workgroup size, growing grids): every kernel
 * linearVariants(d) offers (named in the configuration only where it offers two); every power-of-two group count up to
 * LINEAR_MAX_GROUPS that leaves each group at least one tile of the tuning prefix, plus the one-tile-per-group
 * grid when that is smaller than LINEAR_MAX_GROUPS. `pinnedWorkgroup` restricts to one workgroup size (the
 * largest power of two within it and the limit).
 */
export function linearCandidates(tuneRows: number, d: number, shape: DeviceShape, pinnedWorkgroup?: number): LinearKernelConfig[] {
  const sizes = pinnedWorkgroup !== undefined
    ? [chooseWorkgroupSize(shape, pinnedWorkgroup)]
    : LINEAR_WORKGROUP_SIZES.filter((wg) => wg <= shape.maxWorkgroupSize);
  if (sizes.length === 0) sizes.push(chooseWorkgroupSize(shape));
  const out: LinearKernelConfig[] = [];
  const variants = linearVariants(d);
  for (const variant of variants) {
    const unrolls = variant === 'quad' && d <= QUAD_UNROLL_MAX_FEATURES ? QUAD_UNROLLS : [1];
    for (const unroll of unrolls) {
      for (const workgroupSize of sizes) {
        const tiles = Math.ceil(tuneRows / linearTileRows(d, workgroupSize, variant));
        const top = Math.min(tiles, LINEAR_MAX_GROUPS);
        const at = (numGroups: number): LinearKernelConfig => ({
          workgroupSize, numGroups, ...(unroll === 1 ? {} : { unroll }), ...(variants.length > 1 ? { variant } : {}),
        });
        for (let g = 1; g < top; g *= 2) out.push(at(g));
        out.push(at(top));
      }
    }
  }
  return out;
}

/** A ladder: one kernel, workgroup size and unroll, growing grids. */
export const linearLadderOf = (c: LinearKernelConfig) => `${c.variant ? `${c.variant}.` : ''}wg${c.workgroupSize}u${c.unroll ?? 1}`;

/** A configuration's shape (from a table file, say): what planLinearGrid will then check against d and the device. */
export function isLinearKernelConfig(c: unknown): c is LinearKernelConfig {
  if (typeof c !== 'object' || c === null) return false;
  const { workgroupSize, numGroups, unroll, variant } = c as Record<string, unknown>;
  return Number.isInteger(workgroupSize) && Number.isInteger(numGroups) && (workgroupSize as number) >= 1 && (numGroups as number) >= 1
    && (unroll === undefined || (QUAD_UNROLLS as readonly unknown[]).includes(unroll))
    && (variant === undefined || variant === 'quad' || variant === 'tiled' || variant === 'wide');
}

/** The parameters the tuner evaluates the gradient at: every weight and the bias in play, signs mixed. */
export function linearProbePoint(d: number): LinearParams {
  return { w: Float64Array.from({ length: d }, (_, j) => (j % 2 ? -0.5 : 0.5) / d), b: 0.25 };
}

/**
 * Relative tolerance of a candidate's output against the float64 reference, per component, on the scale of
 * what float32 can promise for it (see linearReference). The kernels' bound is about
 * (4 * QUADS_PER_BLOCK + 2 + log2 N) eps ≈ 1e-5 of that scale; 1e-4 leaves room for the reduce and for
 * adapters that flush or fuse differently, while a dropped tile, a wrong stride or a skipped group misses
 * by far more on the sizes the tuner runs (>= 1 tile in 10^3 of the sum).
 */
export const LINEAR_VALIDATION_TOL = 1e-4;

export interface LinearReference {
  /** grad_w_0 .. grad_w_{d-1}, grad_b, loss: what reduce_partials.wgsl writes. */
  value: Float64Array;
  /** Per component, the scale float32 error is proportional to (same scaling as value). */
  scale: Float64Array;
}

/**
 * The float64 output of pass 1 + reduce over rows [0, rows), and its error scale: for component k the sum
 * of |r_i x_ik| where |r_i| is widened by the float32 rounding of the residual itself,
 * (d + 2) eps (|w.x_i| + |b| + |y_i|), which dominates when the probe fits some rows closely.
 */
export function linearReference(data: LinearData, rows: number, at: LinearParams): LinearReference {
  const { d, x, y } = data;
  const eps = (d + 2) * 2 ** -24;
  const value = new Float64Array(d + 2);
  const scale = new Float64Array(d + 2);
  for (let i = 0; i < rows; i++) {
    let p = at.b;
    let mag = Math.abs(at.b) + Math.abs(y[i]);
    for (let j = 0; j < d; j++) {
      const t = at.w[j] * x[i * d + j];
      p += t;
      mag += Math.abs(t);
    }
    const r = p - y[i];
    const rMax = Math.abs(r) + eps * mag;
    for (let j = 0; j < d; j++) {
      value[j] += r * x[i * d + j];
      scale[j] += rMax * Math.abs(x[i * d + j]);
    }
    value[d] += r;
    scale[d] += rMax;
    value[d + 1] += r * r;
    scale[d + 1] += rMax * rMax;
  }
  for (let k = 0; k <= d; k++) {
    value[k] *= 2 / rows;
    scale[k] *= 2 / rows;
  }
  value[d + 1] /= rows;
  scale[d + 1] /= rows;
  return { value, scale };
}

/** Null when every component is within tolerance of the reference, else the worst one, named. */
export function checkLinearResult(got: ArrayLike<number>, ref: LinearReference, tol = LINEAR_VALIDATION_TOL): string | null {
  const d = ref.value.length - 2;
  let worst: { k: number; excess: number } | null = null;
  for (let k = 0; k < ref.value.length; k++) {
    const err = Math.abs(got[k] - ref.value[k]);
    const allowed = tol * ref.scale[k] + 1e-30;
    // NaN compares false: a NaN output (a partial row never written) is caught by the negation.
    if (!(err <= allowed) && (!worst || !(err / allowed <= worst.excess))) worst = { k, excess: err / allowed };
  }
  if (!worst) return null;
  const name = worst.k < d ? `grad_w[${worst.k}]` : worst.k === d ? 'grad_b' : 'loss';
  return `${name} = ${got[worst.k]}, float64 ${ref.value[worst.k]} (allowed ±${(tol * ref.scale[worst.k]).toExponential(2)})`;
}
