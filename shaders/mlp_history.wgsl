// One workgroup per training step: |grad J| by a fixed tree, and (J, |grad J|) into the history ring at the
// slot of the update about to be applied (os.step - 1), so that the host reads back a batch of steps at once.
// A norm at or below os.tol stops training (TrainControl); steps after the stop record nothing.

override WG: u32 = 256u;
override HISTORY_CAP: u32 = 64u;

@group(0) @binding(0) var<uniform> os: OptimStep;
@group(0) @binding(1) var<storage, read> grad_loss: array<f32>;        // params values, then J
@group(0) @binding(2) var<storage, read_write> history: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> control: TrainControl;

var<workgroup> scratch: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  var sq = 0.0;
  for (var k = t; k < os.params; k = k + WG) {
    let g = grad_loss[k];
    sq = fma(g, g, sq);
  }
  let sum_sq = workgroup_sum(t, sq); // shared/workgroup_sum.wgsl
  // Thread 0 alone tests the status: a storage read is not uniform, and every thread passed every barrier.
  if (t == 0u && control.status == 0u) {
    let norm = sqrt(sum_sq);
    history[(os.step - 1u) % HISTORY_CAP] = vec2<f32>(grad_loss[os.params], norm);
    if (norm <= os.tol) {
      control.status = 1u;
      control.stopped_at = os.step - 1u;
    }
  }
}
