// Standardizes a chunk of samples in place on the GPU, with statistics computed on the host in one
// float64 pass (src/data/stats.ts): x_j <- (x_j - mean_j) * inv_std_j, y <- (y - y_mean) * y_inv_std.
// A grid-stride loop over the chunk's floats; each element is read and written once.

const D: u32 = ${D}u;

override WG: u32 = 256u;

struct StandardizeUniforms {
  count_x: u32,    // rows * D
  rows: u32,
  y_mean: f32,
  y_inv_std: f32,
}

@group(0) @binding(0) var<uniform> su: StandardizeUniforms;
@group(0) @binding(1) var<storage, read> scale: array<vec2<f32>>; // (mean_j, inv_std_j)
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let stride = groups.x * WG;
  for (var i = gid.x; i < su.count_x; i = i + stride) {
    let s = scale[i % D];
    x[i] = (x[i] - s.x) * s.y;
  }
  for (var i = gid.x; i < su.rows; i = i + stride) {
    y[i] = (y[i] - su.y_mean) * su.y_inv_std;
  }
}
