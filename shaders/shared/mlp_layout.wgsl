// Structs and helpers shared by the mlp_*.wgsl stages. MlpUniforms mirrors packMlpUniforms() in
// src/gpu/models/mlp-plan.ts; one 256-byte slot per (chained step, stage), rewritten when the step's batch
// changes. n counts the samples of this evaluation (a mini-batch); x and y are read from rows x_row and
// y_row on, every other per-sample buffer from row 0.

struct MlpUniforms {
  n: u32,          // samples in this evaluation
  fan_in: u32,     // layer inputs (head: unused)
  fan_out: u32,    // layer outputs (head: K)
  w_offset: u32,   // W_l at theta[w_offset + o * fan_in + j]; b_l at theta[w_offset + fan_out * fan_in + o]
  chunk: u32,      // samples per chunk (grad partials)
  num_chunks: u32, // rows of the partials buffer
  groups_x: u32,   // grid width once folded into 2-D
  stride: u32,     // partials row width: P + 1 (the loss sum last)
  count: u32,      // threads with work in this dispatch
  loss_col: u32,   // = P
  has_loss: u32,   // 1: this grad-partials dispatch also sums the per-sample losses
  x_row: u32,      // first row of a_in read (the batch start where a_in is the data x, else 0)
  y_row: u32,      // first row of y read (head)
  inv_n: f32,
}

// mlp_gemm.wgsl: C (M x N) = A (M x K) B (K x N) with A[i][k] at a[a_base + i * a_sm + k * a_sk], B[k][j]
// at b[b_base + k * b_sk + j * b_sn]. Mirrors packGemmUniforms() in src/gpu/models/mlp-plan.ts; one slot
// per (chained step, stage) as above.
struct GemmUniforms {
  m: u32,
  n: u32,
  k: u32,
  k_split: u32,  // K per split (the weight gradient's chunk of samples); = k otherwise
  a_base: u32,
  a_sm: u32,
  a_sk: u32,
  b_base: u32,
  b_sk: u32,
  b_sn: u32,
  c_base: u32,
  c_sm: u32,
  c_split: u32,  // C offset between splits (a partials row)
  aux_base: u32,
  aux_sm: u32,
  groups_y: u32, // row tiles folded into (y, z) when there are more than one grid dimension holds (MODE 0, 1)
}

const ACT_IDENTITY: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_TANH: u32 = 2u;
const ACT_SIGMOID: u32 = 3u;

fn sigmoid_f32(z: f32) -> f32 {
  // Never exp() of a large positive number.
  if (z >= 0.0) {
    return 1.0 / (1.0 + exp(-z));
  }
  let e = exp(z);
  return e / (1.0 + e);
}

fn activate(kind: u32, z: f32) -> f32 {
  if (kind == ACT_RELU) {
    return max(z, 0.0);
  } else if (kind == ACT_TANH) {
    // Built-in tanh may return NaN for large |z| on some backends (it is specified through exp): use e^{-2|z|}.
    let e = exp(-2.0 * abs(z));
    return sign(z) * (1.0 - e) / (1.0 + e);
  } else if (kind == ACT_SIGMOID) {
    return sigmoid_f32(z);
  }
  return z;
}

/** act'(z) written through a = act(z), which is what the forward pass keeps. */
fn activation_slope(kind: u32, a: f32) -> f32 {
  if (kind == ACT_RELU) {
    return select(0.0, 1.0, a > 0.0);
  } else if (kind == ACT_TANH) {
    return 1.0 - a * a;
  } else if (kind == ACT_SIGMOID) {
    return a * (1.0 - a);
  }
  return 1.0;
}

fn flat_index(wid: vec3<u32>, groups_x: u32, wg: u32, t: u32) -> u32 {
  return (wid.x + wid.y * groups_x) * wg + t;
}
