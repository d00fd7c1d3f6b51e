// Grid planning for the linear-model passes: pure, so it is unit-tested without a GPU.

/** Floats of X staged per tile in workgroup memory (8 KiB): room for scratch within 16 KiB. */
export const TILE_FLOATS = 2048;
/** Tiles a workgroup walks at most; bounds each thread's serial summation (accuracy) and keeps the grid wide. */
export const MAX_TILES_PER_GROUP = 8;
/** The quad kernel (registers only) serves up to this many features; above it, the tiled kernel. */
export const QUAD_MAX_FEATURES = 16;
/** Quads a thread of the quad kernel sums at most (64 samples): the same accuracy bound as the tiled kernel. */
export const MAX_QUADS_PER_THREAD = 16;

export interface LinearGridPlan {
  /** 'quad': linear_partials_quad.wgsl (d <= QUAD_MAX_FEATURES); 'tiled': linear_partials.wgsl. */
  variant: 'quad' | 'tiled';
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

export function planLinearGrid(n: number, d: number, shape: DeviceShape, preferredWorkgroup = 256): LinearGridPlan {
  const workgroupSize = chooseWorkgroupSize(shape, preferredWorkgroup);
  const quad = d <= QUAD_MAX_FEATURES;
  const rows = quad ? 4 * workgroupSize : rowsPerTile(d);
  const numTiles = Math.ceil(n / rows);
  const numGroups = Math.max(1, Math.ceil(numTiles / (quad ? MAX_QUADS_PER_THREAD : MAX_TILES_PER_GROUP)));
  const { x, y } = fold2d(numGroups, shape.maxWorkgroupsPerDimension);
  const laneMode = d <= workgroupSize;
  const workgroupBytes = quad ? workgroupSize * 4 : rows * d * 4 + rows * 4 + workgroupSize * 4;
  if (workgroupBytes > shape.maxWorkgroupStorageSize) {
    throw new RangeError(
      `d = ${d} features need ${workgroupBytes} bytes of workgroup memory; this adapter allows ${shape.maxWorkgroupStorageSize}`,
    );
  }
  return {
    variant: quad ? 'quad' : 'tiled',
    workgroupSize,
    rowsPerTile: rows,
    numTiles,
    numGroups,
    groupsX: x,
    groupsY: y,
    featuresPerThread: laneMode ? 1 : Math.ceil(d / workgroupSize),
    laneMode,
    workgroupBytes,
  };
}

/** Bytes of the X buffer: n * d floats padded up to whole quads of samples (4 * d floats, d vec4s). */
export function paddedFeatureBytes(n: number, d: number): number {
  return Math.ceil(n / 4) * d * 16;
}
