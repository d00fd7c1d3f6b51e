// Pass 1 of a formula model's gradient: the reduce skeleton around the generated per-sample program.
// nabla_sample() and its consts SAMPLE_OUTPUTS (P + 1: the weighted partials, then the weighted loss),
// ROW_WIDTH and PARAMS come from src/formula/emit-wgsl.ts and are assembled before this stage
// (src/gpu/formula/formula-passes.ts), after shared/mlp_layout.wgsl, shared/compensated_sum.wgsl and
// shared/segmented_sum.wgsl. Output: one row of SAMPLE_OUTPUTS sums per workgroup (mlp_reduce.wgsl folds them).
//
// The grid is data (tuned per adapter, src/gpu/formula/formula-tuning.ts): mu.num_chunks workgroups walk
// the batch grid-stride, however many rows that gives a thread, so a thread's accuracy must not depend on
// it: it sums BLOCK rows plainly, then folds the block into running totals with Neumaier's compensated
// addition. Error of a thread's total: about BLOCK eps of its sum of |terms| plus 2 eps from the fold,
// whatever its row count; the workgroup's segmented sum adds about 2 sqrt(WG), mlp_reduce.wgsl the number of
// groups (its fixed order). The batch is rows mu.x_row .. mu.x_row + mu.n - 1 of the data, from the step's
// uniform slot, so chained updates may each take another mini-batch.

const BLOCK: u32 = ${BLOCK}u;         // rows summed plainly before each compensated fold
const TREE_ROWS: u32 = ${TREE_ROWS}u; // sums the workgroup reduces per round (what its scratch holds)

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> mu: MlpUniforms;              // n, x_row, num_chunks = groups, groups_x
@group(0) @binding(1) var<storage, read> rows_x: array<f32>;     // row-major, ROW_WIDTH per row
@group(0) @binding(2) var<storage, read> rows_y: array<f32>;
@group(0) @binding(3) var<storage, read> theta: array<f32>;      // PARAMS values, as the optimizer leaves them
@group(0) @binding(4) var<storage, read_write> partials: array<f32>; // SAMPLE_OUTPUTS per workgroup

var<workgroup> scratch: array<f32, WG * TREE_ROWS>;
var<private> block_sum: array<f32, SAMPLE_OUTPUTS>;
var<private> total: array<f32, SAMPLE_OUTPUTS>;
var<private> comp: array<f32, SAMPLE_OUTPUTS>;

// Adds data row `row`'s outputs to the block sums. Names here never meet the generated program's (it
// declares p0.., x0.., y_, w, g, t0.. inside nabla_sample only). ROW_BODY and FOLD_BODY are straight-line
// code emitted per program (formula-passes.ts: formulaRowCode) so that every private array is indexed by
// constants only: on SwiftShader, loops over them kept the arrays in memory (y ~ linear(16 columns), mse,
// 2^18 rows: 66 ms a gradient with loops, 15 ms unrolled; the quad kernel 11 ms).
fn add_row(row: u32, params: array<f32, PARAMS>) {
  let base = row * ROW_WIDTH;
${ROW_BODY}
}

fn fold_block() {
  var r: vec2<f32>;
${FOLD_BODY}
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let group = wid.x + wid.y * mu.groups_x;
  if (group >= mu.num_chunks) {
    return; // a whole workgroup of a folded grid's surplus: uniform, before any barrier
  }
  // Loaded once per thread: the same theta buffer the optimizer pass updates between chained steps.
  var params: array<f32, PARAMS>;
  for (var j = 0u; j < PARAMS; j = j + 1u) {
    params[j] = theta[j];
  }
  let step = mu.num_chunks * WG;
  var i = group * WG + t;
  // A flat per-thread loop: whole blocks of BLOCK rows, then what is left, then one fold.
  while (i + (BLOCK - 1u) * step < mu.n) {
    for (var b = 0u; b < BLOCK; b = b + 1u) {
      add_row(mu.x_row + i, params);
      i = i + step;
    }
    fold_block();
  }
  for (; i < mu.n; i = i + step) {
    add_row(mu.x_row + i, params);
  }
  fold_block();
  let out = group * SAMPLE_OUTPUTS;
  for (var r0 = 0u; r0 < SAMPLE_OUTPUTS; r0 = r0 + TREE_ROWS) {
    let rows = min(TREE_ROWS, SAMPLE_OUTPUTS - r0);
    for (var r = 0u; r < rows; r = r + 1u) {
      scratch[r * WG + t] = total[r0 + r] + comp[r0 + r];
    }
    reduce_rows(t, rows, out + r0);
  }
}
