// Structs shared by the linear-model stages. Each mirrors a packing function on the host:
//   LinearGridUniforms   <-> packGridUniforms()   in src/gpu/uniforms.ts
//   ReduceUniforms       <-> packReduceUniforms() in src/gpu/uniforms.ts
//   UpdateUniforms       <-> packUpdateUniforms() in src/gpu/uniforms.ts
//   TrainState           <-> TRAIN_STATE_* in src/gpu/train-state.ts and TrainState in src/cpu/apply_update.ts

// One dispatch of pass 1 covers rows [row_offset, row_offset + n) of one data chunk (a mini-batch or a
// whole chunk) and writes partial rows first_group .. first_group + num_groups - 1.
struct LinearGridUniforms {
  n: u32,           // samples in this slice
  num_tiles: u32,   // ceil(n / ROWS)
  num_groups: u32,  // workgroups in the grid (each walks tiles group, group + num_groups, ...)
  groups_x: u32,    // grid width once folded into 2-D
  first_group: u32, // first partial row this slice writes
  row_offset: u32,  // first sample of the slice within its chunk; a multiple of 4
  _pad0: u32,
  _pad1: u32,
}

struct ReduceUniforms {
  num_groups: u32, // partial rows written by linear_partials
  components: u32, // D + 2: D weight sums, the residual sum, the squared-residual sum
  inv_n: f32,
  _pad: u32,
}

struct UpdateUniforms {
  lr: f32,
  tol: f32,             // stop when the gradient norm falls below it
  explode_factor: f32,  // diverged when the loss exceeds explode_factor * best loss so far
  max_updates: u32,     // stop (without updating) once this many updates were applied
  params: u32,          // D + 1
  history_cap: u32,     // ring length of the per-step (loss, |grad|) history
  _pad0: u32,
  _pad1: u32,
}

const STATUS_RUNNING: u32 = 0u;
const STATUS_CONVERGED: u32 = 1u;
const STATUS_DIVERGED: u32 = 2u;
const STATUS_MAX_EPOCHS: u32 = 3u;

struct TrainState {
  status: u32,
  step: u32,       // gradient evaluations completed while running
  best_loss: f32,
  _pad: u32,
}

fn is_finite_f32(v: f32) -> bool {
  // WGSL has no isinf/isnan, and compilers may fold v != v away: test the exponent bits.
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}
