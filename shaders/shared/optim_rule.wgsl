// The optimizer's rule for one parameter, shared by optim_update.wgsl and fold_step.wgsl: theta[k] and its
// moments from grad[k]. KIND selects the rule (KIND_* in optim_layout.wgsl). The stage declares
// `override KIND` and the bindings os, grad, theta, m, v and decay_mask. Its float64 twin is
// src/cpu/optim_update.ts: keep the formulas in the same order.
fn update_parameter(k: u32) {
  let th = theta[k];
  let decay = os.weight_decay * decay_mask[k];
  var g = grad[k];
  if (KIND != KIND_ADAMW) {
    g = g + decay * th;
  }
  if (KIND == KIND_SGD) {
    theta[k] = th - os.lr * g;
  } else if (KIND == KIND_MOMENTUM) {
    let vel = os.momentum * m[k] + g;
    m[k] = vel;
    theta[k] = th - os.lr * vel;
  } else if (KIND == KIND_NESTEROV) {
    let vel = os.momentum * m[k] + g;
    m[k] = vel;
    theta[k] = th - os.lr * (g + os.momentum * vel);
  } else {
    let m1 = os.beta1 * m[k] + (1.0 - os.beta1) * g;
    let v1 = os.beta2 * v[k] + (1.0 - os.beta2) * g * g;
    m[k] = m1;
    v[k] = v1;
    var step = (m1 / os.bc1) / (sqrt(v1 / os.bc2) + os.eps);
    if (KIND == KIND_ADAMW) {
      step = step + decay * th;
    }
    theta[k] = th - os.lr * step;
  }
}
