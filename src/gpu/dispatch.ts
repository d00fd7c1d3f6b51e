// Grid planning for the linear-model passes: pure, so it is unit-tested without a GPU.

/** Floats of X staged per tile in workgroup memory (8 KiB): room for scratch within 16 KiB. */
export const TILE_FLOATS = 2048;
/** Tiles a workgroup walks at most; bounds each thread's serial summation (accuracy) and keeps the grid wide. */
export const MAX_TILES_PER_GROUP = 8;

export interface LinearGridPlan {
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
  const rows = rowsPerTile(d);
  const numTiles = Math.ceil(n / rows);
  const numGroups = Math.max(1, Math.ceil(numTiles / MAX_TILES_PER_GROUP));
  const { x, y } = fold2d(numGroups, shape.maxWorkgroupsPerDimension);
  const laneMode = d <= workgroupSize;
  const workgroupBytes = rows * d * 4 + rows * 4 + workgroupSize * 4;
  if (workgroupBytes > shape.maxWorkgroupStorageSize) {
    throw new RangeError(
      `d = ${d} features need ${workgroupBytes} bytes of workgroup memory; this adapter allows ${shape.maxWorkgroupStorageSize}`,
    );
  }
  return {
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

/** Bytes of the X buffer: n * d floats padded up to whole vec4s. */
export function paddedFeatureBytes(n: number, d: number): number {
  return Math.ceil((n * d) / 4) * 16;
}
