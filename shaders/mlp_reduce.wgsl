// Second level of the gradient reduction: each workgroup folds COLS = WG / LANES columns of the partials
// (one row per chunk). Lane l of a column sums rows l, l + LANES, ... then a fixed tree folds the lanes;
// the result is scaled by 1/N: grad_loss = (dJ/dtheta_0 .. dJ/dtheta_{P-1}, J). With few rows the host
// sets LANES = 1 and TREE off: one thread per column, rows in order, and no workgroup memory or barrier
// (a CPU-backed adapter runs a shader with barriers as one coroutine per four lanes of every workgroup).

override WG: u32 = 256u;
override LANES: u32 = 32u;

@group(0) @binding(0) var<uniform> mu: MlpUniforms;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad_loss: array<f32>; // stride values

#if ${TREE}
var<workgroup> scratch: array<f32, WG>;
#endif

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let group = wid.x + wid.y * mu.groups_x;
  let lane = t % LANES;
  let col = group * (WG / LANES) + t / LANES;
  var s = 0.0;
  if (col < mu.stride) {
    for (var c = lane; c < mu.num_chunks; c = c + LANES) {
      s = s + partials[c * mu.stride + col];
    }
  }
#if ${TREE}
  scratch[t] = s;
  workgroupBarrier();
  // Every thread reaches every barrier: the column test is inside, not around, the loop.
  for (var half = LANES / 2u; half > 0u; half = half / 2u) {
    if (lane < half) {
      scratch[t] = scratch[t] + scratch[t + half];
    }
    workgroupBarrier();
  }
  s = scratch[t];
#endif
  if (lane == 0u && col < mu.stride) {
    grad_loss[col] = s * mu.inv_n;
  }
}
