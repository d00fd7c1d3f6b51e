// The loss head, one thread per sample: J_i and delta_L = dJ_i/dz from the logits z (K = fan_out values).
//   one output (FORMULA true): J = loss(z, y), delta = dloss/dz, where FORMULA_LOSS and FORMULA_DELTA are WGSL
//     expressions of yhat and y_ generated from a loss formula and its derivative, and FORMULA_FNS the helpers
//     they call (src/gpu/models/head-stage.ts). The mse head is the loss `mse`, the bce head `logistic`.
//   ce (FORMULA false, K outputs): J = logsumexp(z) - z_y (max subtracted first), delta_k = softmax_k - [k = y].
//     Written here by hand: a formula loss is a function of one yhat, softmax couples all K.
// CPU twin: headLoss() in src/cpu/mlp_gradient.ts.

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> mu: MlpUniforms;
@group(0) @binding(1) var<storage, read> logits: array<f32>;       // n x K
@group(0) @binding(2) var<storage, read> y: array<f32>;            // target or class index, rows y_row..
@group(0) @binding(3) var<storage, read_write> delta: array<f32>;  // n x K
@group(0) @binding(4) var<storage, read_write> losses: array<f32>; // n

#if ${FORMULA}
${FORMULA_FNS}
#endif

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let i = flat_index(wid, mu.groups_x, WG, t);
  if (i >= mu.n) {
    return;
  }
  let K = mu.fan_out;
  let base = i * K;
  let yv = y[mu.y_row + i];
#if ${FORMULA}
  let yhat = logits[base];
  let y_ = yv;
  delta[base] = ${FORMULA_DELTA};
  losses[i] = ${FORMULA_LOSS};
#else
  let label = u32(yv);
  var m = logits[base];
  for (var k = 1u; k < K; k = k + 1u) {
    m = max(m, logits[base + k]);
  }
  var s = 0.0;
  for (var k = 0u; k < K; k = k + 1u) {
    s = s + exp(logits[base + k] - m);
  }
  let lse = m + log(s);
  for (var k = 0u; k < K; k = k + 1u) {
    delta[base + k] = exp(logits[base + k] - lse) - select(0.0, 1.0, k == label);
  }
  losses[i] = lse - logits[base + label];
#endif
}
