// The loss head, one thread per sample: J_i and delta_L = dJ_i/dz from the logits z (K = fan_out values).
// LOSS_BODY is generated from a loss formula and its derivatives (src/gpu/models/head-stage.ts), LOSS_FNS
// the helper functions it calls; it reads logits[base..], the target y_ and writes delta[base..], losses[i]:
//   one output: J = loss(yhat, y), delta = dloss/dyhat (the mse head is the loss `mse`, the bce head `logistic`).
//   ce, K outputs: J = logsumexp(z) - sum_k eq(y, k) z_k, delta_k = softmax_k - [k = y], derived by the rules.
// CPU twin: headLoss() in src/cpu/mlp_gradient.ts.

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> mu: MlpUniforms;
@group(0) @binding(1) var<storage, read> logits: array<f32>;       // n x K
@group(0) @binding(2) var<storage, read> y: array<f32>;            // target or class index, rows y_row..
@group(0) @binding(3) var<storage, read_write> delta: array<f32>;  // n x K
@group(0) @binding(4) var<storage, read_write> losses: array<f32>; // n

${LOSS_FNS}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let i = flat_index(wid, mu.groups_x, WG, t);
  if (i >= mu.n) {
    return;
  }
  let base = i * mu.fan_out;
  let y_ = y[mu.y_row + i];
${LOSS_BODY}
}
