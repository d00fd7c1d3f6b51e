// Forward pass of one dense layer for every sample: thread (i, o) computes
// a_out[i][o] = act(b[o] + sum_j W[o][j] a_in[i][j]). The last layer runs with ACT = identity (logits).
// CPU twin: Workspace.forward in src/cpu/mlp_gradient.ts.

override WG: u32 = 256u;
override ACT: u32 = 0u;

@group(0) @binding(0) var<uniform> mu: MlpUniforms;
@group(0) @binding(1) var<storage, read> a_in: array<f32>;    // rows x_row.. x fan_in
@group(0) @binding(2) var<storage, read> theta: array<f32>;
@group(0) @binding(3) var<storage, read_write> a_out: array<f32>; // n x fan_out

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let idx = flat_index(wid, mu.groups_x, WG, t);
  if (idx >= mu.count) {
    return;
  }
  let i = idx / mu.fan_out;
  let o = idx % mu.fan_out;
  let row = (mu.x_row + i) * mu.fan_in;
  let w = mu.w_offset + o * mu.fan_in;
  var z = theta[mu.w_offset + mu.fan_out * mu.fan_in + o];
  for (var j = 0u; j < mu.fan_in; j = j + 1u) {
    z = fma(theta[w + j], a_in[row + j], z);
  }
  a_out[idx] = activate(ACT, z);
}
