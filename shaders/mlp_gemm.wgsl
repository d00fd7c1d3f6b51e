// The dense layers' three matrix products as one tiled kernel, C = A B with A and B read through strides
// (so a transposed operand costs nothing), staged through workgroup memory in 64 x 16 and 16 x 64 tiles:
// 128 threads, each accumulating an 8 x 4 block of C in registers. MODE picks the operands and epilogue:
//   0 forward:   a_out[i][o] = act(b[o] + sum_j a_in[i][j] W[o][j])        M = rows, N = fan_out, K = fan_in
//   1 backprop:  d_prev[i][j] = act'(a_prev[i][j]) sum_o d[i][o] W[o][j]   M = rows, N = fan_in,  K = fan_out
//   2 weights:   partials[s][W[o][j]] = sum_{i in split s} d[i][o] a_in[i][j] M = fan_out, N = fan_in, K = rows
// Every C value is one thread's sum in ascending k (no atomics): reruns are bit-identical, and the weight
// gradient's splits are folded by mlp_reduce.wgsl with the bias and loss partials. CPU twin: the loops
// of src/cpu/mlp_gradient.ts.

override MODE: u32 = 0u;
override ACT: u32 = 0u;

const TM: u32 = 64u;
const TN: u32 = 64u;
const TK: u32 = 16u;
const RM: u32 = 8u;  // rows of C per thread
const RN: u32 = 4u;  // columns of C per thread

@group(0) @binding(0) var<uniform> g: GemmUniforms;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> aux: array<f32>; // 0: the biases (theta); 1: a_prev; 2: unused

// Tiles as vec4 so that a thread's 8 A values and 4 B values per k are three loads. Accumulators are
// named vec4 registers: a dynamically indexed private array ends up in memory on some backends.
var<workgroup> a_tile: array<vec4<f32>, 256>; // [TK][TM / 4]
var<workgroup> b_tile: array<vec4<f32>, 256>; // [TK][TN / 4]

fn load_a(m: u32, k: u32, k_hi: u32) -> f32 {
  if (m < g.m && k < k_hi) {
    return a[g.a_base + m * g.a_sm + k * g.a_sk];
  }
  return 0.0;
}

fn load_b(k: u32, n: u32, k_hi: u32) -> f32 {
  if (n < g.n && k < k_hi) {
    return b[g.b_base + k * g.b_sk + n * g.b_sn];
  }
  return 0.0;
}

fn store_row(m: u32, n: u32, v: vec4<f32>, split: u32) {
  store(m, n, v.x, split);
  store(m, n + 1u, v.y, split);
  store(m, n + 2u, v.z, split);
  store(m, n + 3u, v.w, split);
}

@compute @workgroup_size(128)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  // The weight gradient's z is its split of samples; the other modes fold many row tiles into (y, z).
  let split = select(0u, wid.z, MODE == 2u);
  let m0 = select(wid.y + wid.z * g.groups_y, wid.y, MODE == 2u) * TM;
  let n0 = wid.x * TN;
  let k_lo = split * g.k_split;
  let k_hi = min(g.k, k_lo + g.k_split);
  // Uniform per workgroup: surplus tiles and splits of a smaller batch leave before any barrier.
  if (m0 >= g.m || k_lo >= k_hi) {
    return;
  }
  let tx = t % (TN / RN);
  let ty = t / (TN / RN);
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  var acc4 = vec4<f32>();
  var acc5 = vec4<f32>();
  var acc6 = vec4<f32>();
  var acc7 = vec4<f32>();
  // Tile loads: 256 vec4 slots per tile, two per thread, each 4 consecutive m (A) or n (B) of one k.
  let kk_a = t % TK;
  let mq = t / TK;          // 0..7, and 8..15 for the second slot
  let nq = t % (TN / 4u);   // 0..15
  let kk_b = t / (TN / 4u); // 0..7, and 8..15 for the second slot
  for (var k0 = k_lo; k0 < k_hi; k0 = k0 + TK) {
    for (var h = 0u; h < 2u; h = h + 1u) {
      let ma = m0 + (mq + 8u * h) * 4u;
      let ka = k0 + kk_a;
      a_tile[kk_a * (TM / 4u) + mq + 8u * h] = vec4<f32>(load_a(ma, ka, k_hi), load_a(ma + 1u, ka, k_hi), load_a(ma + 2u, ka, k_hi), load_a(ma + 3u, ka, k_hi));
      let kb = k0 + kk_b + 8u * h;
      let nb = n0 + nq * 4u;
      b_tile[(kk_b + 8u * h) * (TN / 4u) + nq] = vec4<f32>(load_b(kb, nb, k_hi), load_b(kb, nb + 1u, k_hi), load_b(kb, nb + 2u, k_hi), load_b(kb, nb + 3u, k_hi));
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk = kk + 1u) {
      let a_lo = a_tile[kk * (TM / 4u) + ty * 2u];
      let a_hi = a_tile[kk * (TM / 4u) + ty * 2u + 1u];
      let bv = b_tile[kk * (TN / 4u) + tx];
      acc0 = fma(vec4<f32>(a_lo.x), bv, acc0);
      acc1 = fma(vec4<f32>(a_lo.y), bv, acc1);
      acc2 = fma(vec4<f32>(a_lo.z), bv, acc2);
      acc3 = fma(vec4<f32>(a_lo.w), bv, acc3);
      acc4 = fma(vec4<f32>(a_hi.x), bv, acc4);
      acc5 = fma(vec4<f32>(a_hi.y), bv, acc5);
      acc6 = fma(vec4<f32>(a_hi.z), bv, acc6);
      acc7 = fma(vec4<f32>(a_hi.w), bv, acc7);
    }
    workgroupBarrier();
  }
  let m = m0 + ty * RM;
  let n = n0 + tx * RN;
  store_row(m, n, acc0, split);
  store_row(m + 1u, n, acc1, split);
  store_row(m + 2u, n, acc2, split);
  store_row(m + 3u, n, acc3, split);
  store_row(m + 4u, n, acc4, split);
  store_row(m + 5u, n, acc5, split);
  store_row(m + 6u, n, acc6, split);
  store_row(m + 7u, n, acc7, split);
}
