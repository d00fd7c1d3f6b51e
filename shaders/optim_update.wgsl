// One fused optimizer update over every parameter: thread k reads grad[k], its state and theta[k] and
// writes them back (shared/optim_rule.wgsl); no reduction, so any number of workgroups. KIND selects the
// rule (codes in src/optim/config.ts).

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
  update_parameter(k);
}
