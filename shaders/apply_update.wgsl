// Pass 3 of a training step, one workgroup: the gradient norm, the stopping rules and the update
// theta <- theta - lr * grad, all on the GPU so that steps chain without a read-back.
// Its CPU twin is src/cpu/apply_update.ts; keep the two decision orders identical.
// FUSED_REDUCE: the step's reduce too, when one workgroup does it (reduce_partials.wgsl's SINGLE variant):
// thread t sums the partials' columns t, t + WG, ... (shared/partials_column.wgsl) and writes them to
// grad_loss as that pass would, then goes on with exactly the columns it owns below; one dispatch fewer
// per step, and the same gradient, norm and update bit for bit.

override WG: u32 = 256u;

@group(0) @binding(0) var<uniform> uu: UpdateUniforms;
#if ${FUSED_REDUCE}
@group(0) @binding(1) var<storage, read_write> grad_loss: array<f32>; // written here from the partials
@group(0) @binding(6) var<uniform> ru: ReduceUniforms;
@group(0) @binding(7) var<storage, read> partials: array<f32>;
#else
@group(0) @binding(1) var<storage, read> grad_loss: array<f32>;   // params gradient values, then loss
#endif
@group(0) @binding(2) var<storage, read_write> theta: array<f32>;
@group(0) @binding(3) var<storage, read_write> theta_prev: array<f32>; // last parameters with a good loss
@group(0) @binding(4) var<storage, read_write> state: TrainState;
@group(0) @binding(5) var<storage, read_write> history: array<vec2<f32>>; // (loss, |grad|) per step

var<workgroup> scratch: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  let status = state.status;
  let step = state.step;
  let best = state.best_loss;
#if ${FUSED_REDUCE}
  if (status == STATUS_RUNNING) {
    for (var c = t; c < ru.components; c = c + WG) {
      grad_loss[c] = reduced_column(c);
    }
  }
  // The loss (column params) is read by every thread below: make this workgroup's writes visible.
  storageBarrier();
#endif
  var sq = 0.0;
  for (var k = t; k < uu.params; k = k + WG) {
    let g = grad_loss[k];
    sq = fma(g, g, sq);
  }
  let sum_sq = workgroup_sum(t, sq); // shared/workgroup_sum.wgsl
  if (status != STATUS_RUNNING) {
    return;
  }
  let loss = grad_loss[uu.params];
  let norm = sqrt(sum_sq);

  var next = STATUS_RUNNING;
  if (!is_finite_f32(loss) || !is_finite_f32(norm) || (step > 0u && loss > uu.explode_factor * best)) {
    next = STATUS_DIVERGED;
  } else if (norm <= uu.tol) { // at most tol, as every program stops (src/train/program.ts); tol < 0: none
    next = STATUS_CONVERGED;
  } else if (step >= uu.max_updates) {
    next = STATUS_MAX_EPOCHS;
  }

  for (var k = t; k < uu.params; k = k + WG) {
    if (next == STATUS_DIVERGED) {
      theta[k] = theta_prev[k];
    } else if (next == STATUS_RUNNING) {
      let current = theta[k];
      theta_prev[k] = current;
      theta[k] = current - uu.lr * grad_loss[k];
    }
  }
  if (t == 0u) {
    history[step % uu.history_cap] = vec2<f32>(loss, norm);
    state.status = next;
    if (next != STATUS_DIVERGED) {
      state.step = step + 1u;
      if (step == 0u || loss < best) {
        state.best_loss = loss;
      }
    }
  }
}
