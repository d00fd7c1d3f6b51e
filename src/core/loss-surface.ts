// The loss surface's inputs and grid, shared by the GPU passes (shaders/loss_surface_*.wgsl) and the float64
// twin (src/cpu/loss_surface.ts), so neither side imports the other.

/** Means over the samples; the field order matches the WGSL vec4s ([r, rr, rx, x], [xx]). */
export interface SurfaceMoments {
  r: number;
  rr: number;
  rx: number;
  x: number;
  xx: number;
}

/** Cell (i, j) sits at w_k = w0 + i dw, b = b0 + j db; values are row-major, row j = b. */
export interface SurfaceGridSpec {
  w0: number;
  b0: number;
  dw: number;
  db: number;
  nx: number;
  ny: number;
}
