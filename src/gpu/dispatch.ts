// Grid planning for the linear-model passes: pure, so it is unit-tested without a GPU.

/** Floats of X staged per tile in workgroup memory (8 KiB): room for scratch within 16 KiB. */
export const TILE_FLOATS = 2048;
/**
 * Tiles a thread of the tiled kernel sums plainly before folding them into its compensated totals (the
 * tiles a group walks are no longer bounded: the grid is data). Mirrors BLOCK in linear_partials.wgsl.
 */
export const TILES_PER_BLOCK = 8;
/** Up to this many features pass 1 is the quad kernel (registers only), and nothing else is offered. */
export const QUAD_ONLY_MAX_FEATURES = 16;
/**
 * Up to this many features the quad kernel is offered at all: above QUAD_ONLY_MAX_FEATURES the tuner times it
 * against the tiled kernel (on SwiftShader it took a fifth of the tiled kernel's time at d = 32 and 64, whose
 * three barriers per tile cost there; a hardware GPU, where 4d vec4 loads per thread spill registers, may
 * prefer tiles). Above it, only the tiled kernel: the quad body's straight-line code (4d loads, 8d fmas) grows.
 */
export const QUAD_MAX_FEATURES = 64;

/**
 * Most features the wide kernel (shaders/linear_partials_wide.wgsl) takes: its private arrays hold 4 d floats
 * a thread. From QUAD_MAX_FEATURES + 1, for d a multiple of 4 (whole vec4 rows), the tuner times it against the
 * tiled kernel (on SwiftShader it took about a quarter of the tiled kernel's time at d = 128 and 256).
 */
export const WIDE_MAX_FEATURES = 512;

/**
 * Pass 1's kernels: 'quad' (shaders/linear_partials_quad.wgsl), 'tiled' (shaders/linear_partials.wgsl) and
 * 'wide' (shaders/linear_partials_wide.wgsl).
 */
export type LinearVariant = 'quad' | 'tiled' | 'wide';
const VARIANTS: readonly LinearVariant[] = ['quad', 'tiled', 'wide'];

/** The kernels pass 1 may use for d features, the untuned default first. */
export function linearVariants(d: number): LinearVariant[] {
  if (d <= QUAD_ONLY_MAX_FEATURES) return ['quad'];
  if (d <= QUAD_MAX_FEATURES) return ['tiled', 'quad'];
  return d % 4 === 0 && d <= WIDE_MAX_FEATURES ? ['tiled', 'wide'] : ['tiled'];
}

/** Why the kernel cannot take d features (null: it can). */
function variantRefusal(variant: LinearVariant, d: number): string | null {
  if (variant === 'quad' && d > QUAD_MAX_FEATURES) return `the quad kernel takes d <= ${QUAD_MAX_FEATURES} features, got ${d}`;
  if (variant === 'wide' && (d % 4 !== 0 || d > WIDE_MAX_FEATURES)) return `the wide kernel takes d a multiple of 4 up to ${WIDE_MAX_FEATURES}, got ${d}`;
  return null;
}

/** The kernel a configuration runs: its own choice, else the untuned default for d. */
export function linearVariantOf(d: number, config?: Pick<LinearKernelConfig, 'variant'>): LinearVariant {
  return config?.variant ?? linearVariants(d)[0];
}
/** Quads (64 samples) a thread of the quad kernel sums plainly per block: BLOCK in linear_partials_quad.wgsl. */
export const QUADS_PER_BLOCK = 16;
/**
 * Most of the quad and wide kernels' d + 2 per-workgroup sums run side by side (three barriers for all of
 * them, reduce_rows in shaders/shared/segmented_sum.wgsl: barriers dominate a small grid on a software
 * adapter). Their scratch is WG x this many floats, at most 8 KiB at WG = 256.
 */
export const QUAD_TREE_MAX_ROWS = 8;

/** The quad and wide kernels' sums in rounds of equal width: rows side by side per round (TREE_ROWS in the shaders). */
export function quadTreeRows(d: number): number {
  const rounds = Math.ceil((d + 2) / QUAD_TREE_MAX_ROWS);
  return Math.ceil((d + 2) / rounds);
}

/**
 * Most partial rows (pass-1 workgroups of a batch) the single-workgroup reduce takes: one thread per column
 * adds the rows in order (no barrier, and a training step folds it into the update's dispatch). Above it,
 * a workgroup per column with a strided loop and a tree: a hardware GPU's thousand-group grids would make
 * one thread's serial chain of loads the step's longest path.
 */
export const REDUCE_SINGLE_MAX_ROWS = 64;

/** Whether the reduce of `groups` partial rows runs as one workgroup (reduce_partials.wgsl SINGLE). */
export function reduceSingle(groups: number): boolean {
  return groups <= REDUCE_SINGLE_MAX_ROWS;
}

/**
 * Workgroup of the single-workgroup passes (the SINGLE reduce, the update, the fused step): one thread per
 * gradient component and the loss, rounded up to a power of two (the norm's tree), within the device's
 * and the usual 256: idle threads and extra tree levels only cost barriers (most of a small step's time on
 * a software adapter, which runs a workgroup's threads on one core).
 */
export function stepWorkgroupSize(d: number, shape: Pick<DeviceShape, 'maxWorkgroupSize'>): number {
  let wg = 1;
  while (wg < d + 2) wg *= 2;
  return Math.min(wg, chooseWorkgroupSize(shape));
}

/**
 * A pass-1 kernel configuration: the data an autotuner picks per adapter (src/gpu/tuning/linear-tuning.ts).
 * numGroups is per dispatch (one slice of a chunk), capped by the slice's tiles.
 */
export interface LinearKernelConfig {
  workgroupSize: number;
  numGroups: number;
  /** The quad kernel's quads per loop iteration over whole blocks (1 or 2; default 1; the tiled kernel: 1). */
  unroll?: number;
  /** The kernel (default: linearVariants(d)[0]); a choice only where linearVariants(d) offers two. */
  variant?: LinearVariant;
}

/** Quads per loop iteration the quad kernel may take: what the tuner tries. */
export const QUAD_UNROLLS = [1, 2] as const;

export interface LinearGridPlan {
  /** The kernel: see LinearVariant and linearVariants. */
  variant: LinearVariant;
  workgroupSize: number;
  rowsPerTile: number;
  numTiles: number;
  numGroups: number;
  groupsX: number;
  groupsY: number;
  /** Weight sums held per thread (1 when d <= workgroupSize). */
  featuresPerThread: number;
  laneMode: boolean;
  /** Bytes of workgroup memory the partials stage declares. */
  workgroupBytes: number;
  /** Quads per loop iteration over whole blocks (quad kernel; 1 for the tiled one). */
  unroll: number;
}

export interface DeviceShape {
  maxWorkgroupSize: number; // min(maxComputeInvocationsPerWorkgroup, maxComputeWorkgroupSizeX)
  maxWorkgroupsPerDimension: number;
  maxWorkgroupStorageSize: number;
}

export function chooseWorkgroupSize(shape: Pick<DeviceShape, 'maxWorkgroupSize'>, preferred = 256): number {
  let wg = 1;
  while (wg * 2 <= Math.min(preferred, shape.maxWorkgroupSize)) wg *= 2;
  return wg;
}

/** Rows per tile: as many as fit TILE_FLOATS, a multiple of 4 so every tile starts on a vec4. */
export function rowsPerTile(d: number): number {
  return Math.max(4, Math.floor(TILE_FLOATS / d / 4) * 4);
}

export function fold2d(groups: number, maxPerDim: number): { x: number; y: number } {
  if (groups <= maxPerDim) return { x: groups, y: 1 };
  const y = Math.ceil(groups / maxPerDim);
  if (y > maxPerDim) throw new RangeError(`grid of ${groups} workgroups exceeds ${maxPerDim}^2`);
  return { x: Math.ceil(groups / y), y };
}

/** Rows of a pass-1 tile: a quad- or wide-kernel tile is one quad per thread. */
export function linearTileRows(d: number, workgroupSize: number, variant: LinearVariant = linearVariantOf(d)): number {
  return variant === 'tiled' ? rowsPerTile(d) : 4 * workgroupSize;
}

/**
 * The untuned configuration: the largest power-of-two workgroup within `preferredWorkgroup`, and as many
 * groups as give each one block of tiles (a GPU-shaped grid that grows with n, wide on any hardware GPU).
 */
export function defaultLinearConfig(n: number, d: number, shape: DeviceShape, preferredWorkgroup = 256, variant = linearVariantOf(d)): LinearKernelConfig {
  const workgroupSize = chooseWorkgroupSize(shape, preferredWorkgroup);
  const numTiles = Math.ceil(n / linearTileRows(d, workgroupSize, variant));
  const block = variant === 'tiled' ? TILES_PER_BLOCK : QUADS_PER_BLOCK;
  const config: LinearKernelConfig = { workgroupSize, numGroups: Math.max(1, Math.ceil(numTiles / block)) };
  if (variant !== linearVariantOf(d)) config.variant = variant;
  return config;
}

/** Throws a RangeError unless the configuration can run on this device shape. */
export function checkLinearConfig(config: LinearKernelConfig, shape: DeviceShape): void {
  const { workgroupSize: wg, numGroups } = config;
  if (!(Number.isInteger(wg) && wg >= 1 && (wg & (wg - 1)) === 0 && wg <= shape.maxWorkgroupSize)) {
    throw new RangeError(`linear kernel: workgroupSize must be a power of two <= ${shape.maxWorkgroupSize}, got ${wg}`);
  }
  if (!(Number.isInteger(numGroups) && numGroups >= 1)) throw new RangeError(`linear kernel: numGroups must be a positive integer, got ${numGroups}`);
  if (config.unroll !== undefined && !(QUAD_UNROLLS as readonly number[]).includes(config.unroll)) {
    throw new RangeError(`linear kernel: unroll must be one of ${QUAD_UNROLLS.join(', ')}, got ${config.unroll}`);
  }
  if (config.variant !== undefined && !VARIANTS.includes(config.variant)) {
    throw new RangeError(`linear kernel: variant must be one of ${VARIANTS.join(', ')}, got ${String(config.variant)}`);
  }
}

/**
 * The grid of one pass-1 dispatch over n samples with d features: the configuration's workgroup size and
 * group count (default: defaultLinearConfig), the groups capped by the tiles so none idles.
 */
export function planLinearGrid(n: number, d: number, shape: DeviceShape, config: LinearKernelConfig = defaultLinearConfig(n, d, shape)): LinearGridPlan {
  checkLinearConfig(config, shape);
  const { workgroupSize } = config;
  const variant = linearVariantOf(d, config);
  const refusal = variantRefusal(variant, d);
  if (refusal) throw new RangeError(`linear kernel: ${refusal}`);
  const quad = variant === 'quad';
  if (!quad && (config.unroll ?? 1) !== 1) throw new RangeError(`linear kernel: unroll applies to the quad kernel only, got unroll ${config.unroll} with the ${variant} one`);
  const rows = linearTileRows(d, workgroupSize, variant);
  const numTiles = Math.ceil(n / rows);
  const numGroups = Math.max(1, Math.min(config.numGroups, numTiles));
  const { x, y } = fold2d(numGroups, shape.maxWorkgroupsPerDimension);
  const laneMode = d <= workgroupSize;
  const workgroupBytes = variant === 'tiled' ? rows * d * 4 + rows * 4 + workgroupSize * 4 : quadTreeRows(d) * workgroupSize * 4;
  if (workgroupBytes > shape.maxWorkgroupStorageSize) {
    throw new RangeError(
      `d = ${d} features need ${workgroupBytes} bytes of workgroup memory; this adapter allows ${shape.maxWorkgroupStorageSize}`,
    );
  }
  return {
    variant,
    workgroupSize,
    rowsPerTile: rows,
    numTiles,
    numGroups,
    groupsX: x,
    groupsY: y,
    featuresPerThread: laneMode ? 1 : Math.ceil(d / workgroupSize),
    laneMode,
    workgroupBytes,
    unroll: quad ? config.unroll ?? 1 : 1,
  };
}

/** Bytes of the X buffer: n * d floats padded up to whole quads of samples (4 * d floats, d vec4s). */
export function paddedFeatureBytes(n: number, d: number): number {
  return Math.ceil(n / 4) * d * 16;
}
