// One fused optimizer update over every parameter: thread k reads grad[k], its state and theta[k] and
// writes them back; no reduction, so any number of workgroups. KIND selects the rule (codes in
// src/optim/config.ts). Its float64 twin is src/cpu/optim_update.ts: keep the formulas in the same order.

override WG: u32 = 256u;
override KIND: u32 = 0u; // KIND_* in shared/optim_layout.wgsl

@group(0) @binding(0) var<uniform> os: OptimStep;
@group(0) @binding(1) var<storage, read> grad: array<f32>;          // params values (a loss may follow)
@group(0) @binding(2) var<storage, read_write> theta: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;       // velocity or first moment
@group(0) @binding(4) var<storage, read_write> v: array<f32>;       // second moment
@group(0) @binding(5) var<storage, read> decay_mask: array<f32>;    // 1: decayed (weights), 0: not (biases)
@group(0) @binding(6) var<storage, read> control: TrainControl;     // converged: no more updates

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let k = (wid.x + wid.y * os.groups_x) * WG + t;
  if (k >= os.params || control.status != 0u) {
    return;
  }
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
