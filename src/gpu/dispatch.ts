// Grid arithmetic the GPU passes share: workgroup sizes within a device's limits, grids folded into 2-D,
// and the quad kernel's constants (shaders/linear_partials_quad.wgsl). Pure, so it is unit-tested without a GPU.

/**
 * Most feature columns the quad kernel takes (the formula engine's specialisation of the linear shape,
 * src/gpu/formula/linear-quad-pass.ts); wider rows run the generated kernel: the quad body's straight-line
 * code (4d loads, 8d fmas) grows with d.
 */
export const QUAD_MAX_FEATURES = 64;

/** Quads (64 samples) a thread of the quad kernel sums plainly per block: BLOCK in linear_partials_quad.wgsl. */
export const QUADS_PER_BLOCK = 16;
/**
 * Most of the quad kernel's d + 2 per-workgroup sums run side by side (three barriers for all of them,
 * reduce_rows in shaders/shared/segmented_sum.wgsl: barriers dominate a small grid on a software adapter).
 * Its scratch is WG x this many floats, at most 8 KiB at WG = 256.
 */
export const QUAD_TREE_MAX_ROWS = 8;

/**
 * The largest workgroup the quad kernel's text serves: its scratch is sized in the text for it (shared/
 * segmented_sum.wgsl says why), at most QUAD_TREE_MAX_ROWS rows of it, 8 KiB.
 */
export const QUAD_MAX_WORKGROUP = 256;

/** The quad kernel's sums in rounds of equal width: rows side by side per round (TREE_ROWS in the shader). */
export function quadTreeRows(d: number): number {
  const rounds = Math.ceil((d + 2) / QUAD_TREE_MAX_ROWS);
  return Math.ceil((d + 2) / rounds);
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

export function fold2d(groups: number, maxPerDim: number): { x: number; y: number } {
  if (groups <= maxPerDim) return { x: groups, y: 1 };
  const y = Math.ceil(groups / maxPerDim);
  if (y > maxPerDim) throw new RangeError(`grid of ${groups} workgroups exceeds ${maxPerDim}^2`);
  return { x: Math.ceil(groups / y), y };
}
