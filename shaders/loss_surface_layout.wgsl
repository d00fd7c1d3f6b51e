// Structs shared by the loss-surface stages (the demo's contour map of J over a (w_k, b) grid).
//   SurfaceUniforms <-> packSurfaceUniforms() in src/gpu/passes/loss-surface-pass.ts
// Partial rows (one per moments workgroup, two vec4 each) and the moments, as means over the samples of
// the residual r = w.x + b - y at the reference point theta_ref and of the contour feature x_k:
//   [0] = (E[r], E[r^2], E[r x_k], E[x_k]),   [1] = (E[x_k^2], 0, 0, 0)
// CPU twin: src/cpu/loss_surface.ts.

struct SurfaceUniforms {
  n: u32,          // samples
  d: u32,          // features
  k: u32,          // feature on the horizontal axis of the grid
  num_groups: u32, // workgroups of the moments stage = partial rows
  w0: f32,         // w_k at grid column 0
  b0: f32,         // b at grid row 0
  dw: f32,         // grid step in w_k
  db: f32,         // grid step in b
  nx: u32,         // grid columns
  ny: u32,         // grid rows
  inv_n: f32,
  _pad: u32,
}
