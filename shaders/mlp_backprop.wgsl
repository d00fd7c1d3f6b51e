// The chain rule through one layer, thread (i, j) for every sample i and input unit j:
//   delta_prev[i][j] = (sum_o W[o][j] delta[i][o]) * act'(a_prev[i][j])
// with ACT the activation that produced a_prev. CPU twin: the backward loop in src/cpu/mlp_gradient.ts.

override WG: u32 = 256u;
override ACT: u32 = 0u;

@group(0) @binding(0) var<uniform> mu: MlpUniforms;
@group(0) @binding(1) var<storage, read> theta: array<f32>;
@group(0) @binding(2) var<storage, read> delta: array<f32>;           // n x fan_out
@group(0) @binding(3) var<storage, read> a_prev: array<f32>;          // n x fan_in
@group(0) @binding(4) var<storage, read_write> delta_prev: array<f32>; // n x fan_in

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let idx = flat_index(wid, mu.groups_x, WG, t);
  if (idx >= mu.count) {
    return;
  }
  let i = idx / mu.fan_in;
  let j = idx % mu.fan_in;
  let row = i * mu.fan_out;
  var s = 0.0;
  for (var o = 0u; o < mu.fan_out; o = o + 1u) {
    s = fma(theta[mu.w_offset + o * mu.fan_in + j], delta[row + o], s);
  }
  delta_prev[idx] = s * activation_slope(ACT, a_prev[idx]);
}
