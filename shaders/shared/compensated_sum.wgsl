// Compensated (Neumaier) summation for the pass-1 kernels, which fold each thread's plainly summed blocks into
// running totals with it so that their accuracy does not depend on how many blocks the grid gives a thread
// (see linear_partials_quad.wgsl). A total is (sum, comp); its value is sum + comp.

// One step: (sum + v, comp + what that addition rounded away). Neumaier's branch keeps the step exact when
// the addend outweighs the running sum (residual sums whose signs cancel), where Kahan's loses it.
fn neumaier_add(sum: f32, comp: f32, v: f32) -> vec2<f32> {
  let t = sum + v;
  let lost = select((v - t) + sum, (sum - t) + v, abs(sum) >= abs(v));
  return vec2<f32>(t, comp + lost);
}

// The same step on four independent sums at once (lane by lane): returns (sums, comps).
fn neumaier_add4(sum: vec4<f32>, comp: vec4<f32>, v: vec4<f32>) -> array<vec4<f32>, 2> {
  let t = sum + v;
  let lost = select((v - t) + sum, (sum - t) + v, abs(sum) >= abs(v));
  return array<vec4<f32>, 2>(t, comp + lost);
}
