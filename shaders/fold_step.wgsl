// A small model's training step after its pass 1, in one workgroup: the fold of the partial rows into
// grad_loss (mlp_reduce.wgsl's one thread per column, rows in order, x 1/N), the history record and the
// tolerance stop (mlp_history.wgsl) and the optimizer update (shared/optim_rule.wgsl). The same bits as those
// three passes, in one dispatch where they are three; a software adapter charges every dispatch.

override WG: u32 = 256u;
override KIND: u32 = 0u; // KIND_* in shared/optim_layout.wgsl
override HISTORY_CAP: u32 = 64u;

@group(0) @binding(0) var<uniform> os: OptimStep;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;    // grad_loss: params values, then J
@group(0) @binding(2) var<storage, read_write> theta: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> decay_mask: array<f32>;
@group(0) @binding(6) var<storage, read_write> control: TrainControl;
@group(0) @binding(7) var<storage, read_write> history: array<vec2<f32>>;
@group(0) @binding(8) var<uniform> fs: FoldStep;
@group(0) @binding(9) var<storage, read> partials: array<f32>;     // fs.num_chunks rows of params + 1

var<workgroup> scratch: array<f32, WG>;
var<workgroup> loss: f32;
var<workgroup> update: u32;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  let stride = os.params + 1u;
  var sq = 0.0;
  // Thread t owns columns t, t + WG, ...: it folds them, squares the gradient's and updates them below.
  for (var c = t; c < stride; c = c + WG) {
    var s = 0.0;
    for (var r = 0u; r < fs.num_chunks; r = r + 1u) {
      s = s + partials[r * stride + c];
    }
    let g = s * fs.inv_n;
    grad[c] = g;
    if (c < os.params) {
      sq = fma(g, g, sq);
    } else {
      loss = g;
    }
  }
  let sum_sq = workgroup_sum(t, sq); // shared/workgroup_sum.wgsl; its barriers publish `loss` too
  if (t == 0u) {
    var running = 0u;
    if (control.status == 0u) {
      let norm = sqrt(sum_sq);
      history[(os.step - 1u) % HISTORY_CAP] = vec2<f32>(loss, norm);
      if (norm <= os.tol) {
        control.status = 1u;
        control.stopped_at = os.step - 1u;
      } else {
        running = 1u;
      }
    }
    update = running;
  }
  if (workgroupUniformLoad(&update) == 0u) {
    return;
  }
  for (var k = t; k < os.params; k = k + WG) {
    update_parameter(k);
  }
}
