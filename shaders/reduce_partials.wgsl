// Pass 2 of a gradient evaluation: folds each column of the partials written by pass 1 (one row per pass-1
// workgroup) and scales it: 2/N for the D weight sums and the residual sum (the gradient), 1/N for the
// squared residuals (the loss). Output: grad_w_0 .. grad_w_{D-1}, grad_b, loss.
// Two variants (reduceSingle in src/gpu/dispatch.ts picks one from the number of rows):
//   SINGLE: one workgroup, thread c sums column c in order (shared/partials_column.wgsl), no barrier: a
//           few rows (a small grid) cost one small dispatch. apply_update.wgsl's FUSED_REDUCE variant
//           runs the same function, so a training step can skip this pass.
//   else:   workgroup c folds column c with a strided loop and a fixed tree (many rows).

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> ru: ReduceUniforms;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read> state: TrainState;
@group(0) @binding(3) var<storage, read_write> grad_loss: array<f32>;

#if ${SINGLE}
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  if (state.status != STATUS_RUNNING) {
    return;
  }
  for (var c = t; c < ru.components; c = c + WG) {
    grad_loss[c] = reduced_column(c);
  }
}
#else
var<workgroup> scratch: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let c = wid.x;
  if (c >= ru.components || state.status != STATUS_RUNNING) {
    return;
  }
  var s = 0.0;
  for (var g = t; g < ru.num_groups; g = g + WG) {
    s = s + partials[g * ru.components + c];
  }
  let total = workgroup_sum(t, s); // shared/workgroup_sum.wgsl
  if (t == 0u) {
    var scale = 2.0 * ru.inv_n;
    if (c + 1u == ru.components) {
      scale = ru.inv_n;
    }
    grad_loss[c] = total * scale;
  }
}
#endif
