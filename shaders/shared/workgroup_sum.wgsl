// The workgroup sum every single-tree stage uses: a fixed binary tree over scratch[0..WG) (pairs WG/2 apart,
// then WG/4, ..., 1), so the same inputs give the same bits on every run; no atomics. The stage declares
// `override WG` (a power of two) and `var<workgroup> scratch: array<f32, WG>`. Every thread of the workgroup
// must call it, in uniform control flow (it has barriers), with its own value; each gets the total back, and
// scratch may be reused as soon as it returns.
fn workgroup_sum(t: u32, v: f32) -> f32 {
  scratch[t] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (t < stride) {
      scratch[t] = scratch[t] + scratch[t + stride];
    }
    workgroupBarrier();
  }
  let total = scratch[0];
  workgroupBarrier();
  return total;
}
