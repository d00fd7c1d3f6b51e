// Stage 2 of the loss surface: J over the (w_k, b) grid. Along that plane J is exactly quadratic:
// with dw = w_k - theta_ref[k] and db = b - theta_ref[D],
//   J = E[(r + dw x_k + db)^2] = E[r^2] + 2 dw E[r x_k] + 2 db E[r] + dw^2 E[x_k^2] + 2 dw db E[x_k] + db^2.
// Every workgroup folds the partial rows itself (a few hundred vec4s, fixed order, so all agree), then
// each thread evaluates one grid cell. Workgroup 0 also writes the moments for the host.

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> su: SurfaceUniforms;
@group(0) @binding(1) var<storage, read> partials: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> theta_ref: array<f32>;
@group(0) @binding(3) var<storage, read_write> moments: array<vec4<f32>, 2>;
@group(0) @binding(4) var<storage, read_write> grid: array<f32>; // row-major ny x nx, row = b

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  var a = vec4<f32>(0.0);
  var q = 0.0;
  for (var g = t; g < su.num_groups; g = g + WG) {
    a = a + partials[2u * g];
    q = q + partials[2u * g + 1u].x;
  }
  sum_moments(t, a, q); // shared/loss_surface_layout.wgsl: totals in sum_a[0], sum_b[0]
  let m = sum_a[0] * su.inv_n;  // E[r], E[r^2], E[r x_k], E[x_k]
  let mxx = sum_b[0] * su.inv_n; // E[x_k^2]
  if (wid.x == 0u && t == 0u) {
    moments[0] = m;
    moments[1] = vec4<f32>(mxx, 0.0, 0.0, 0.0);
  }
  let cell = wid.x * WG + t;
  if (cell < su.nx * su.ny) {
    let dw = su.w0 + f32(cell % su.nx) * su.dw - theta_ref[su.k];
    let db = su.b0 + f32(cell / su.nx) * su.db - theta_ref[su.d];
    grid[cell] = m.y + 2.0 * (dw * m.z + db * m.x) + dw * (dw * mxx + 2.0 * db * m.w) + db * db;
  }
}
