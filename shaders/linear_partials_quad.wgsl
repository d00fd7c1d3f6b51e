// Pass 1 of a formula model of the linear shape (src/formula/shapes.ts: Σ θ·x + b with mse) for D <= 64
// columns: the hand-tuned specialisation the formula engine picks in place of the generated kernel
// (src/gpu/formula/linear-quad-pass.ts). Each thread takes a quad of 4 consecutive samples, which occupy
// exactly D vec4s of row-major X and one vec4 of y, so every whole quad's loads are full vec4s whatever D is.
// The quad body is straight-line code emitted per D (src/gpu/formula/linear-quad-codegen.ts) so that the
// D gradient sums stay in registers; nothing is staged in workgroup memory and there is no barrier until
// the final per-workgroup sums.
//
// It is bound as shaders/formula_partials.wgsl is (an MlpUniforms slot per chained step: n, x_row,
// num_chunks = groups, groups_x) and writes what that kernel writes, so mlp_reduce.wgsl folds its rows
// unchanged: one row of D + 2 sums per workgroup holding the gradient program's outputs in its order,
// 2 Σ r·x_c, 2 Σ r and Σ r² (REDUCE_GRADIENT; doubling is exact). theta is in the formula's parameter order
// (LOAD_WEIGHTS reads each column's weight and the bias at constant indices). The batch start x_row must be
// a multiple of 4 (x4 and y4 are read as vec4s); the data are not padded to whole quads, so the partial last
// quad is read row by row (TAIL_BODY).
//
// The grid is data (a { workgroupSize, groups } configuration, tuned per adapter as the generated kernel's is,
// src/gpu/formula/formula-tuning.ts): num_groups workgroups walk the quads grid-stride, however many that
// makes per thread, so the sums' accuracy must not depend on it. A thread sums BLOCK quads (4 * BLOCK
// samples) plainly into g, then folds the block sums into its running totals with Neumaier's compensated
// addition (shaders/shared/compensated_sum.wgsl). Error of a thread's total: 4 * BLOCK * eps of the sum of
// |terms| from the plain blocks plus 2 * eps from the fold (+ O(M eps^2) for M blocks), whatever M is; the
// workgroup's segmented sum (reduce_rows, shared/segmented_sum.wgsl) adds about 2 sqrt(WG) and
// mlp_reduce.wgsl at most the number of groups. Why not a binary-counter cascade: it needs (D + 2) x log2(M)
// sums indexed by the counter's bits (dynamic indices, which spill private arrays to memory), where this
// needs 2 (D + 2) registers with constant indices and a fold per 4 * BLOCK samples. A compiler that
// reassociated floating point would cancel the compensation; test/gpu/linear-gradient.test.ts runs one
// workgroup over 10^6 rows to catch that on the adapter.

const D: u32 = ${D}u;
const BLOCK: u32 = ${BLOCK}u; // quads per thread summed plainly before each compensated fold
const TREE_ROWS: u32 = ${TREE_ROWS}u; // workgroup trees run side by side (quadTreeRows in src/gpu/dispatch.ts)
// TREE_ROWS rows of the largest WG the text serves (QUAD_MAX_WORKGROUP; shared/segmented_sum.wgsl says why)
const SCRATCH: u32 = ${SCRATCH}u;
const QUADS_PER_TRIP: u32 = ${QUADS_PER_TRIP}u; // whole quads summed per trip of the block loop (a divisor of BLOCK)

override WG: u32 = 256u;
override BLOCKED: bool = false; // a block's quads consecutive, not a grid apart (FormulaKernelConfig.layout)
override SPAN: u32 = 1u;        // blocked: consecutive blocks a thread takes before the next grid step

@group(0) @binding(0) var<uniform> mu: MlpUniforms;              // n, x_row, num_chunks = groups, groups_x
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;   // row-major N x D (whole vec4s, not whole quads)
@group(0) @binding(2) var<storage, read> y4: array<vec4<f32>>;   // N, rounded up to whole vec4s
@group(0) @binding(3) var<storage, read> theta: array<f32>;      // the formula's parameters, in its order
@group(0) @binding(4) var<storage, read_write> partials: array<f32>; // D + 2 per workgroup, the program's order

var<workgroup> scratch: array<f32, SCRATCH>; // row r: tree r of the current round
var<private> w: array<f32, D>;
var<private> g: array<f32, D>;          // the current block's gradient sums
var<private> total: array<f32, D + 2u>; // running totals: D gradient sums, sum r, sum r^2 ...
var<private> comp: array<f32, D + 2u>;  // ... and what their rounding lost (Neumaier)

// Adds whole quad q's contributions to g and returns (sum r, sum r^2).
fn accumulate_quad(q: u32, bias: f32) -> vec2<f32> {
  let base = q * D;
${QUAD_BODY}
  return vec2<f32>(r.x + r.y + r.z + r.w, dot(r, r));
}

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

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let group = wid.x + wid.y * mu.groups_x;
  let num_groups = mu.num_chunks;
  let n = mu.n;
  let first = mu.x_row / 4u; // the batch's first quad (x_row is a multiple of 4)
  if (group >= num_groups) {
    return;
  }
${LOAD_WEIGHTS}
  // Thread t of group G sums blocks of BLOCK quads, each plainly from zero, then folded: strided (the default,
  // for hardware) quads G * WG + t, then every qs further (grid-stride), BLOCK of them a block; BLOCKED (tuned,
  // for CPU-backed adapters, which run a workgroup's threads a few lanes at a time through the whole loop)
  // blocks of BLOCK consecutive quads in spans of SPAN consecutive blocks, spans G * WG + t, then every qs
  // further. The loops are flat per thread
  // (a fixed-trip inner loop, no per-workgroup block bounds): on SwiftShader a nest of per-group block loops
  // with a whole-block test around them cost a third of pass 1's time at d = 1, for the same sums.
  let whole = n / 4u;        // quads with 4 samples in range
  let quads = (n + 3u) / 4u; // ... and the partial last one
  let qs = num_groups * WG;
  let thread = group * WG + t;
  let inner = select(qs, 1u, BLOCKED); // quads between a block's quads
  var s = select(thread, thread * BLOCK * SPAN, BLOCKED); // this thread's next block's first quad
  let next_span = BLOCK + (qs - 1u) * BLOCK * SPAN; // blocked: from a span's last block to the next span's first
  var in_span = 1u;
  var sum_r = 0.0;
  var sum_rr = 0.0;
  while (s + (BLOCK - 1u) * inner < whole) {
    var q = s;
    // QUADS_PER_TRIP quads a trip (quadsPerTrip in linear-quad-codegen.ts: 2 for few features), in order.
    for (var i = 0u; i < BLOCK / QUADS_PER_TRIP; i = i + 1u) {
${TRIP}
    }
${FOLD_BLOCK}
    s = s + select(BLOCK * qs, select(BLOCK, next_span, in_span == SPAN), BLOCKED);
    in_span = select(in_span + 1u, 1u, in_span == SPAN);
  }
  // Fewer than BLOCK quads left to this thread: the whole ones (strided, its own from s on; blocked, those
  // after the last whole block, dealt out), then the partial last quad if it is this thread's, then one fold.
  // Small data (a mini-batch, gd100) is all here.
  var q = select(s, (whole / BLOCK) * BLOCK + thread, BLOCKED);
  for (; q < whole; q = q + qs) {
    let s = accumulate_quad(first + q, bias);
    sum_r = sum_r + s.x;
    sum_rr = sum_rr + s.y;
  }
  if (q < quads) {
    let s = accumulate_tail(first + q, bias, n - 4u * q);
    sum_r = sum_r + s.x;
    sum_rr = sum_rr + s.y;
  }
${FOLD_BLOCK}
  let out = group * (D + 2u);
${REDUCE_GRADIENT}
}
