// Stage 1 of the loss surface: one read of X and y. Workgroup g takes samples g * WG + t, then every
// num_groups * WG further, and sums the residual moments at theta_ref (see shared/loss_surface_layout.wgsl)
// with a fixed tree: no atomics, so a rerun is bit-identical. One partial row per workgroup.

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> su: SurfaceUniforms;
@group(0) @binding(1) var<storage, read> x: array<f32>;          // row-major N x D
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> theta_ref: array<f32>;  // w_0 .. w_{D-1}, b
@group(0) @binding(4) var<storage, read_write> partials: array<vec4<f32>>; // 2 per workgroup

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let group = wid.x;
  let stride = su.num_groups * WG;
  let bias = theta_ref[su.d];
  var a = vec4<f32>(0.0);
  var q = 0.0;
  for (var i = group * WG + t; i < su.n; i = i + stride) {
    let row = i * su.d;
    var p = bias;
    for (var j = 0u; j < su.d; j = j + 1u) {
      p = fma(x[row + j], theta_ref[j], p);
    }
    let r = p - y[i];
    let xk = x[row + su.k];
    a = a + vec4<f32>(r, r * r, r * xk, xk);
    q = fma(xk, xk, q);
  }
  sum_moments(t, a, q); // shared/loss_surface_layout.wgsl: totals in sum_a[0], sum_b[0]
  if (t == 0u) {
    partials[2u * group] = sum_a[0];
    partials[2u * group + 1u] = vec4<f32>(sum_b[0], 0.0, 0.0, 0.0);
  }
}
