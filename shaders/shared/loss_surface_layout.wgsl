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

// The workgroup tree both stages run on their per-thread moments: the pairing of shared/workgroup_sum.wgsl
// (WG/2 apart, then WG/4, ..., 1) on a vec4 and an f32 at once, so a rerun is bit-identical. The stage declares
// `override WG` (a power of two); every thread calls it, in uniform control flow, and may then read the totals
// in sum_a[0] and sum_b[0].
var<workgroup> sum_a: array<vec4<f32>, WG>;
var<workgroup> sum_b: array<f32, WG>;

fn sum_moments(t: u32, a: vec4<f32>, q: f32) {
  sum_a[t] = a;
  sum_b[t] = q;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (t < s) {
      sum_a[t] = sum_a[t] + sum_a[t + s];
      sum_b[t] = sum_b[t] + sum_b[t + s];
    }
    workgroupBarrier();
  }
}
