// Pass 1 of a formula model's gradient: the reduce skeleton around the generated per-sample program.
// The row body (ROW_BODY, from the program) and the consts SAMPLE_OUTPUTS (P + 1: the weighted partials, then the weighted loss),
// ROW_WIDTH and PARAMS come from src/formula/emit-wgsl.ts and are assembled before this stage
// (src/gpu/formula/formula-passes.ts), after shared/mlp_layout.wgsl, shared/compensated_sum.wgsl and
// shared/segmented_sum.wgsl. Output: one row of SAMPLE_OUTPUTS sums per workgroup (mlp_reduce.wgsl folds them),
// or, for a program of more outputs than one kernel keeps (FORMULA_MAX_SUMS), this kernel's slice of them.
//
// The grid is data (tuned per adapter, src/gpu/formula/formula-tuning.ts): mu.num_chunks workgroups walk
// the batch grid-stride, however many rows that gives a thread, so a thread's accuracy must not depend on
// it: it sums BLOCK rows plainly, then folds the block into running totals with Neumaier's compensated
// addition. Error of a thread's total: about BLOCK eps of its sum of |terms| plus 2 eps from the fold,
// whatever its row count; the workgroup's segmented sum adds about 2 sqrt(WG), mlp_reduce.wgsl the number of
// groups (its fixed order). The batch is rows mu.x_row .. mu.x_row + mu.n - 1 of the data, from the step's
// uniform slot, so chained updates may each take another mini-batch. A thread reads its rows 4 consecutive
// at a time (add_quad, from a row that is a multiple of 4: the batch's first rows up to one are left over
// with its last), as formula-row-code.ts's rowLoads says: rows of up to 64 columns (X_VEC4 and Y_VEC4) a
// quad's vec4s at once, wider rows of a width that is a multiple of 4 (X_VEC4) each its vec4s, others a float
// per column.

const BLOCK: u32 = ${BLOCK}u;         // rows summed plainly before each compensated fold (a multiple of 4)
const TREE_ROWS: u32 = ${TREE_ROWS}u; // sums the workgroup reduces per round (what its scratch holds)
const SCRATCH: u32 = ${SCRATCH}u;     // WG * TREE_ROWS for the WG this text is for (shared/segmented_sum.wgsl)
const TRIP: u32 = ${TRIP}u;           // quads per trip of the block loop (formulaTripQuads: 1 or 2)
const PARTIALS_ROW: u32 = ${PARTIALS_ROW}u;       // sums in a workgroup's row of partials: the whole program's outputs
const PARTIALS_OFFSET: u32 = ${PARTIALS_OFFSET}u; // where this kernel's SAMPLE_OUTPUTS sit in that row (its slice)

const PER: u32 = BLOCK / 4u;          // quads a block

override WG: u32 = 64u;
override BLOCKED: bool = false;       // a block's quads consecutive, not a grid apart (FormulaKernelConfig.layout)
override SPAN: u32 = 1u;              // blocked: consecutive blocks a thread takes before the next grid step

@group(0) @binding(0) var<uniform> mu: MlpUniforms;              // n, x_row, num_chunks = groups, groups_x
#if ${X_VEC4}
@group(0) @binding(1) var<storage, read> rows_x4: array<vec4<f32>>; // row-major, ROW_WIDTH per row, whole vec4s
#else
@group(0) @binding(1) var<storage, read> rows_x: array<f32>;     // row-major, ROW_WIDTH per row
#endif
#if ${Y_VEC4}
@group(0) @binding(2) var<storage, read> rows_y4: array<vec4<f32>>; // whole vec4s
#else
@group(0) @binding(2) var<storage, read> rows_y: array<f32>;
#endif
@group(0) @binding(3) var<storage, read> theta: array<f32>;      // PARAMS values, as the optimizer leaves them
@group(0) @binding(4) var<storage, read_write> partials: array<f32>; // SAMPLE_OUTPUTS per workgroup

var<workgroup> scratch: array<f32, SCRATCH>;
var<private> block_sum: array<f32, SAMPLE_OUTPUTS>;
var<private> total: array<f32, SAMPLE_OUTPUTS>;
var<private> comp: array<f32, SAMPLE_OUTPUTS>;
// Loaded once per thread: the same theta buffer the optimizer pass updates between chained steps. A private
// array, not an argument: on SwiftShader passing it to add_row by value cost ~15 % at one column. Filled at
// constant indices (LOAD_PARAMS, unrolled), as every other use indexes it, so that it can stay in registers.
var<private> params: array<f32, PARAMS>;

// Adds data row `row`'s outputs to the block sums. ROW_BODY is the program's own straight-line code (its
// names p0.., x0.., y_, w, g, t0..; the skeleton's carry a nabla_ prefix), with each product accumulated by
// fma (formula-row-code.ts: formulaRowCode); ROW_BODY and FOLD_BODY use constant indices only: on
// SwiftShader, loops over the private arrays kept them in memory (y ~ linear(16 columns), mse, 2^18 rows:
// 66 ms a gradient with loops, 15 ms unrolled; the quad kernel 11 ms).
// Vec4 loads are fewer, wider loads, which SwiftShader turns into fewer memory operations.
fn add_row(row: u32) {
${ROW_BODY}
}

// Rows row .. row + 3, in order; with quad loads row is a multiple of 4.
fn add_quad(row: u32) {
${QUAD_BODY}
}

// TRIP quads, `next` rows apart.
fn add_trip(row: u32, next: u32) {
  add_quad(row);
#if ${TWO_A_TRIP}
  add_quad(row + next);
#endif
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
${LOAD_PARAMS}
  let step = mu.num_chunks * WG;
  // A thread takes quads of 4 consecutive rows (one contiguous read of 4 rows) in blocks of PER quads, each
  // block summed plainly (TRIP quads a trip), then folded; then its share of the quads no whole block holds,
  // the one leftover row that is its own, and one fold (at most BLOCK - 3 rows). Strided (the default, for
  // hardware: neighbouring threads read neighbouring quads) a block is PER quads a grid apart; BLOCKED (tuned,
  // for CPU-backed adapters, which run a workgroup's threads a few lanes at a time through the whole loop)
  // it is PER consecutive quads, a thread's blocks SPAN consecutive ones, the spans a grid apart. The quads
  // start at the batch's first row that is a multiple of 4; the rows before it (head, at most 3) and after the
  // last whole quad are the leftovers. On SwiftShader, y ~ exp(linear(16 columns)) with poisson over 2^22
  // rows: 167 ms a gradient strided, 98 ms blocked, 90 ms in spans of 4 or 16 blocks; y ~ b1*(1-exp(-b2*x))
  // 18.1 ms blocked, 15.5 ms in spans of 16.
  let head = min(mu.n, (4u - mu.x_row % 4u) % 4u);
  let quads_from = mu.x_row + head;
  let whole = (mu.n - head) / 4u;
  let first = group * WG + t;
  let inner = select(step, 1u, BLOCKED); // quads between a block's quads
  var s = select(first, first * PER * SPAN, BLOCKED); // this thread's next block's first quad
  // Strided, the next block is a grid on; blocked, the next of the span, or after the span's last one the
  // next span, a grid of spans on.
  let next_span = PER + (step - 1u) * PER * SPAN;
  var in_span = 1u;
  while (s + (PER - 1u) * inner < whole) {
    var q = s;
    for (var b = 0u; b < PER / TRIP; b = b + 1u) {
      add_trip(quads_from + 4u * q, 4u * inner);
      q = q + TRIP * inner;
    }
    fold_block();
    s = s + select(PER * step, select(PER, next_span, in_span == SPAN), BLOCKED);
    in_span = select(in_span + 1u, 1u, in_span == SPAN);
  }
  // Strided, this thread's quads go on from s; blocked, the quads after the last whole block are dealt out.
  for (var q = select(s, (whole / PER) * PER + first, BLOCKED); q < whole; q = q + step) {
    add_quad(quads_from + 4u * q);
  }
  if (first < mu.n - 4u * whole) {
    add_row(select(quads_from + 4u * whole + (first - head), mu.x_row + first, first < head));
  }
  fold_block();
  let out = group * PARTIALS_ROW + PARTIALS_OFFSET;
  for (var r0 = 0u; r0 < SAMPLE_OUTPUTS; r0 = r0 + TREE_ROWS) {
    let rows = min(TREE_ROWS, SAMPLE_OUTPUTS - r0);
    for (var r = 0u; r < rows; r = r + 1u) {
      scratch[r * WG + t] = total[r0 + r] + comp[r0 + r];
    }
    reduce_rows(t, rows, out + r0);
  }
}
