// Pass 1 for few features (D <= 64; above 16 a tuned alternative to linear_partials.wgsl): each thread takes
// a quad of 4 consecutive samples, which occupy exactly D vec4s of row-major X and one vec4 of y, so every
// load is a full vec4 with no padding whatever D is.
// The quad body is straight-line code emitted per D (src/gpu/passes/linear-quad-codegen.ts) so that the
// D gradient sums stay in registers; nothing is staged in workgroup memory and there is no barrier until
// the final per-workgroup sums. Output: one row of D + 2 partial sums per workgroup, as linear_partials.wgsl.
//
// The grid is data (src/gpu/dispatch.ts, planLinearGrid): num_groups workgroups walk the tiles grid-stride,
// however many that makes per thread, so the sums' accuracy must not depend on it. A thread sums BLOCK
// tiles (one quad each, 4 * BLOCK samples) plainly into g, then folds the block sums into its running
// totals with Neumaier's compensated addition (shaders/shared/compensated_sum.wgsl). Error of a thread's total:
// 4 * BLOCK * eps of the sum of |terms| from the plain blocks plus 2 * eps from the fold (+ O(M eps^2) for
// M blocks), whatever M is; the workgroup's segmented sum (reduce_rows, shared/segmented_sum.wgsl) adds
// about 2 sqrt(WG) and reduce_partials.wgsl at most the number of groups. Why not a
// binary-counter cascade: it needs (D + 2) x log2(M) sums indexed by the counter's bits (dynamic indices,
// which spill private arrays to memory), where this needs 2 (D + 2) registers with constant indices and a
// fold per 4 * BLOCK samples. A compiler that reassociated floating point would cancel the compensation;
// test/gpu/linear-gradient.test.ts runs one workgroup over 10^6 rows to catch that on the adapter.
//
// RECORDS: the variant for streamed raw-format records (docs/raw-format.md). The chunk is uploaded as the
// file holds it, S floats per record (the file's columns, the target among them), and a quad is 4 records,
// exactly S vec4s. Standardization is fused: every chosen value is standardized in registers,
// (v - mean) * inv_std, the very operations of standardize.wgsl, so the sums equal the plain variant's over
// standardized, de-interleaved chunks bit for bit (quad body: linear-quad-codegen.ts, recordsQuadBody).
//
// FORMULA: the same sums as pass 1 of a formula model of the linear shape (src/formula/shapes.ts: Σ θ·x + b
// with mse; src/gpu/formula/linear-quad-pass.ts), bound as shaders/formula_partials.wgsl is (an MlpUniforms
// slot per chained step: n, x_row, num_chunks, groups_x), so that mlp_reduce.wgsl folds its rows unchanged.
// theta is in the formula's parameter order (LOAD_WEIGHTS reads each column's weight and the bias at constant
// indices); each workgroup's row holds the program's outputs in its order, 2 Σ r·x_c, 2 Σ r and Σ r²
// (REDUCE_GRADIENT; doubling is exact). The batch start x_row must be a multiple of 4 (x4 and y4 are read
// as vec4s); the data are not padded to whole quads, so the partial last quad is read row by row (TAIL_BODY).

const D: u32 = ${D}u;
const S: u32 = ${S}u; // floats per quad / 4: D for row-major X, the record width for RECORDS
const BLOCK: u32 = ${BLOCK}u; // tiles (quads per thread) summed plainly before each compensated fold
const TREE_ROWS: u32 = ${TREE_ROWS}u; // workgroup trees run side by side (quadTreeRows in src/gpu/dispatch.ts)

override WG: u32 = 256u;

#if ${FORMULA}
@group(0) @binding(0) var<uniform> mu: MlpUniforms;              // n, x_row, num_chunks = groups, groups_x
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;   // row-major N x D (whole vec4s, not whole quads)
@group(0) @binding(2) var<storage, read> y4: array<vec4<f32>>;   // N, rounded up to whole vec4s
@group(0) @binding(3) var<storage, read> theta: array<f32>;      // the formula's parameters, in its order
@group(0) @binding(4) var<storage, read_write> partials: array<f32>; // D + 2 per workgroup, the program's order
#else
@group(0) @binding(0) var<uniform> grid: LinearGridUniforms;     // a tile is WG quads (4 * WG samples)
#if ${RECORDS}
@group(0) @binding(1) var<storage, read> rec4: array<vec4<f32>>; // records, S floats each, whole quads
@group(0) @binding(2) var<storage, read> stdz: array<f32>;       // (mean_j, inv_std_j) per feature, then (y_mean, y_inv_std)
#else
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;   // row-major N x D, zero padded to whole quads
@group(0) @binding(2) var<storage, read> y4: array<vec4<f32>>;   // zero padded to whole quads
#endif
@group(0) @binding(3) var<storage, read> theta: array<f32>;      // w_0 .. w_{D-1}, b
@group(0) @binding(4) var<storage, read> state: TrainState;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;
#endif

var<workgroup> scratch: array<f32, WG * TREE_ROWS>; // row r: tree r of the current round
var<private> w: array<f32, D>;
var<private> g: array<f32, D>;          // the current block's gradient sums
var<private> total: array<f32, D + 2u>; // running totals: D gradient sums, sum r, sum r^2 ...
var<private> comp: array<f32, D + 2u>;  // ... and what their rounding lost (Neumaier)
#if ${RECORDS}
var<private> mean: array<f32, D>;
var<private> inv_std: array<f32, D>;
var<private> y_mean: f32;
var<private> y_inv_std: f32;
#endif

// Adds quad q's contributions to g and returns (sum r, sum r^2); rows_left < 4 masks the samples past N.
fn accumulate_quad(q: u32, bias: f32, rows_left: u32) -> vec2<f32> {
  let base = q * S;
${QUAD_BODY}
  return vec2<f32>(r.x + r.y + r.z + r.w, dot(r, r));
}

#if ${FORMULA}
// The partial last quad q (rows_left < 4 of its rows in range), row by row with scalar reads, so that nothing
// past the data is read; adds to g and returns (sum r, sum r^2) as accumulate_quad does.
fn accumulate_tail(q: u32, bias: f32, rows_left: u32) -> vec2<f32> {
  var sums = vec2<f32>(0.0);
  for (var k = 0u; k < rows_left; k = k + 1u) {
    let e = (4u * q + k) * D;
${TAIL_BODY}
    sums = sums + vec2<f32>(r, r * r);
  }
  return sums;
}
#endif

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
#if ${FORMULA}
  let group = wid.x + wid.y * mu.groups_x;
  let num_groups = mu.num_chunks;
  let n = mu.n;
  let first = mu.x_row / 4u; // the batch's first quad (x_row is a multiple of 4)
  if (group >= num_groups) {
    return;
  }
#else
  let group = wid.x + wid.y * grid.groups_x;
  let num_groups = grid.num_groups;
  let n = grid.n;
  let first = grid.row_offset / 4u;
  if (group >= num_groups || state.status != STATUS_RUNNING) {
    return;
  }
#endif
${LOAD_WEIGHTS}
#if ${RECORDS}
  for (var j = 0u; j < D; j = j + 1u) {
    mean[j] = stdz[2u * j];
    inv_std[j] = stdz[2u * j + 1u];
  }
  y_mean = stdz[2u * D];
  y_inv_std = stdz[2u * D + 1u];
#endif
  // Thread t of group G takes quads G * WG + t, then every qs further (grid-stride), and sums them in blocks of
  // BLOCK consecutive ones of its own, each block plainly from zero, then folded. The loops are flat per thread
  // (a fixed-trip inner loop, no per-workgroup block bounds): on SwiftShader the earlier nest of per-group
  // block loops with a whole-block test around them cost a third of pass 1's time at d = 1, for the same sums.
  let whole = n / 4u;        // quads with 4 samples in range
  let quads = (n + 3u) / 4u; // ... and the partial last one
  let qs = num_groups * WG;
  var q = group * WG + t;
  var sum_r = 0.0;
  var sum_rr = 0.0;
  while (q + (BLOCK - 1u) * qs < whole) {
    // BLOCK whole quads: UNROLL per trip (a tuned choice, linear-quad-codegen.ts: wholeBlockLoop), in order.
${WHOLE_BLOCK}
${FOLD_BLOCK}
  }
  // Fewer than BLOCK quads left to this thread: the whole ones, then the partial last quad if it is this
  // thread's (its samples past n masked), then one fold. Small data (a mini-batch, gd100) is all here.
  for (; q < whole; q = q + qs) {
    let s = accumulate_quad(first + q, bias, 4u);
    sum_r = sum_r + s.x;
    sum_rr = sum_rr + s.y;
  }
  if (q < quads) {
#if ${FORMULA}
    let s = accumulate_tail(first + q, bias, n - 4u * q);
#else
    let s = accumulate_quad(first + q, bias, n - 4u * q);
#endif
    sum_r = sum_r + s.x;
    sum_rr = sum_rr + s.y;
  }
${FOLD_BLOCK}
#if ${FORMULA}
  let out = group * (D + 2u);
#else
  let out = (grid.first_group + group) * (D + 2u);
#endif
${REDUCE_GRADIENT}
}
