// The per-step uniform of optim_update.wgsl. Mirrors packOptimStep() in src/gpu/models/optim-update-pass.ts.
// One slot per chained step (256-byte stride): the learning rate comes from the schedule and the bias
// corrections from the step count, both computed in float64 on the host for that step.

struct OptimStep {
  lr: f32,
  bc1: f32,          // 1 - beta1^t (adam, adamw)
  bc2: f32,          // 1 - beta2^t
  weight_decay: f32, // lambda: L2 (coupled) or, for adamw, decoupled
  momentum: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  params: u32,
  step: u32,         // t, 1-based: the update this slot performs
  groups_x: u32,     // grid width once folded into 2-D
  tol: f32,          // stop when |grad J| <= tol (negative: never)
}

// Written by mlp_history.wgsl when |grad J| reaches the tolerance; from then on optim_update.wgsl skips
// every update of the submit, so the parameters stay those of the converged step. Zeroed by the host.
struct TrainControl {
  status: u32,     // 0 running, 1 converged
  stopped_at: u32, // updates applied before the stop (os.step - 1 of the converged step)
}

// Codes of optim_update.wgsl's KIND override (OPTIMIZER_CODES in src/optim/config.ts).
const KIND_SGD: u32 = 0u;
const KIND_MOMENTUM: u32 = 1u;
const KIND_NESTEROV: u32 = 2u;
const KIND_ADAM: u32 = 3u;
const KIND_ADAMW: u32 = 4u;

// The per-step uniform of fold_step.wgsl beside OptimStep: the partial rows its batch's pass 1 wrote and
// 1 / rows. Mirrors packFoldStep() in src/gpu/models/fold-step-pass.ts.
struct FoldStep {
  num_chunks: u32,
  inv_n: f32,
}
