// One column of pass 1's partials (a row of D + 2 sums per workgroup) summed by one thread, for the
// single-workgroup reduce: reduce_partials.wgsl's SINGLE variant and apply_update.wgsl's FUSED_REDUCE
// variant both call it, so a fused training step writes exactly the gradient a separate reduce would.
// Rows are added in order with Neumaier's compensation: error about 2 eps of the sum of |partials| whatever
// the number of rows, and no barrier (one thread per column). The stage declares `ru` (ReduceUniforms) and
// `partials`; scaling as reduce_partials.wgsl: 2/N for the weight and residual sums, 1/N for the loss.
fn reduced_column(c: u32) -> f32 {
  var total = 0.0;
  var comp = 0.0;
  for (var g = 0u; g < ru.num_groups; g = g + 1u) {
    let f = neumaier_add(total, comp, partials[g * ru.components + c]);
    total = f.x;
    comp = f.y;
  }
  var scale = 2.0 * ru.inv_n;
  if (c + 1u == ru.components) {
    scale = ru.inv_n;
  }
  return (total + comp) * scale;
}
