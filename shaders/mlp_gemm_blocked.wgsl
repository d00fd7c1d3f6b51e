// The dense layers' three products (the same MODEs, operands and epilogues as mlp_gemm.wgsl) without
// workgroup memory or barriers: each thread keeps an RM x RN block of C in registers and reads A and B
// straight from storage, and a persistent grid of `groups` workgroups walks the blocks. This is the shape a
// CPU-backed adapter wants (SwiftShader runs a workgroup with barriers as one coroutine per 4 lanes and
// every dynamic load as four scalar loads: fewer loads per product and no barriers win there); a hardware
// GPU may prefer mlp_gemm.wgsl. Which one, and RM, RN, QUAD, WG and the grid, is tuned per adapter
// (src/gpu/models/gemm-tuning.ts), never chosen by the adapter's name.
//
// QUAD (needs the 'subgroups' feature): the four lanes of a quad share RM rows and own neighbouring column
// blocks; lane l loads rows l, l + 4, ... and quadBroadcast hands each value to the other three, so a quad
// issues RM / 4 loads of A per k instead of 4 RM.
//
// The block's lines are unrolled by blockedGemmWgsl() (src/gpu/models/gemm-blocked.ts), which fills the
// ${...} placeholders: a dynamically indexed private array would live in memory on a CPU-backed adapter.
// Every C value is one thread's sum in ascending k (no atomics): reruns are bit-identical.

${PREAMBLE}

override MODE: u32 = 0u;
override ACT: u32 = 0u;
override WG: u32 = 64u;

const RM: u32 = ${RM}u;
const LANES: u32 = ${LANES}u;      // threads that share a row block (4 with QUAD)
const UNIT_COLS: u32 = ${UNIT_COLS}u; // columns of C one unit (LANES threads) computes

// Fixed lengths (the bound buffers' sizes): the bounds clamp WebGPU adds to every index is then a min()
// with a constant instead of one with arrayLength(), measured ~25 % of this kernel's time on SwiftShader.
@group(0) @binding(0) var<uniform> g: GemmUniforms;
@group(0) @binding(1) var<storage, read> a: array<f32, ${A_LEN}>;
@group(0) @binding(2) var<storage, read> b: array<f32, ${B_LEN}>;
@group(0) @binding(3) var<storage, read_write> c: array<f32, ${C_LEN}>;
@group(0) @binding(4) var<storage, read> aux: array<f32, ${AUX_LEN}>; // 0: the biases (theta); 1: a_prev; 2: unused

// A loop, not four calls: unrolled stores made the JIT of a CPU-backed adapter stall for minutes.
fn store4(m: u32, n: u32, v: vec4<f32>, split: u32) {
  for (var q = 0u; q < 4u; q = q + 1u) {
    store(m, n + q, v[q], split);
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
        @builtin(local_invocation_index) t: u32${LANE_BUILTIN}) {
  let unit = ((wid.x + wid.y * nw.x) * WG + t) / LANES;
  let units = nw.x * nw.y * WG / LANES;
  let lane = ${LANE};
  let col_blocks = (g.n + UNIT_COLS - 1u) / UNIT_COLS;
  let row_blocks = (g.m + RM - 1u) / RM;
  let tiles = col_blocks * row_blocks;
  let items = tiles * ((g.k + g.k_split - 1u) / g.k_split);
  // Each unit takes a contiguous run of items: neighbouring blocks of one split, whose operands stay in
  // cache while the unit walks them (a CPU-backed adapter runs a workgroup's lanes four at a time, each
  // four through their whole loop). The trip count is the same for the lanes of a unit (a quad stays
  // whole for quadBroadcast).
  let per = (items + units - 1u) / units;
  let first = unit * per;
  let end = min(items, first + per);
  for (var item = first; item < end; item = item + 1u) {
    let split = item / tiles;
    let m0 = ((item % tiles) / col_blocks) * RM;
    let n0 = (item % col_blocks) * UNIT_COLS + lane * ${RN}u;
    let k_lo = split * g.k_split;
    let k_hi = min(g.k, k_lo + g.k_split);
    // Rows and columns past the edge read the last valid one (finite values, never stored).
${SETUP}
    for (var k = k_lo; k < k_hi; k = k + 1u) {
      let ka = k * g.a_sk;
      let kb = k * g.b_sk;
${PRODUCTS}
    }
${STORES}
  }
}
