// Pass 1 for wide rows (64 < D <= WIDE_MAX_FEATURES, D a multiple of 4; a tuned alternative to
// linear_partials.wgsl): like linear_partials_quad.wgsl, each thread takes quads of 4 consecutive samples
// grid-stride and keeps its sums to itself, with no workgroup memory and no barrier until the final sums;
// but the features are walked in loops over the D / 4 vec4s of a row, not in straight-line code (which
// grows past what compilers take quickly above 64 features), so the weights and the D gradient sums live in
// private arrays indexed by the loop. A row is D / 4 whole vec4s (D is a multiple of 4), and each weight
// vector is loaded once for the quad's 4 rows, each gradient vector read and written once per quad.
// Accuracy as the quad kernel: blocks of BLOCK quads summed plainly, folded into Neumaier-compensated totals
// (shared/compensated_sum.wgsl), then the segmented workgroup sum (shared/segmented_sum.wgsl).

const D: u32 = ${D}u;
const D4: u32 = D / 4u;
const BLOCK: u32 = ${BLOCK}u;         // quads summed plainly before each compensated fold
const TREE_ROWS: u32 = ${TREE_ROWS}u; // workgroup sums run side by side per round

override WG: u32 = 64u;

@group(0) @binding(0) var<uniform> grid: LinearGridUniforms;     // a tile is WG quads (4 * WG samples)
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;   // row-major N x D, zero padded to whole quads
@group(0) @binding(2) var<storage, read> y: array<f32>;          // zero padded to whole quads
@group(0) @binding(3) var<storage, read> theta: array<f32>;      // w_0 .. w_{D-1}, b
@group(0) @binding(4) var<storage, read> state: TrainState;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;

var<workgroup> scratch: array<f32, WG * TREE_ROWS>;
var<private> w: array<vec4<f32>, D4>;
var<private> g: array<vec4<f32>, D4>;     // the current block's gradient sums
var<private> total: array<vec4<f32>, D4>; // compensated totals of the gradient sums ...
var<private> comp: array<vec4<f32>, D4>;  // ... and what their rounding lost

// Adds quad q's contributions to g and returns (sum r, sum r^2); rows_left < 4 masks the samples past N
// (their X and y are the buffers' zero padding).
fn accumulate_quad(q: u32, bias: f32, rows_left: u32) -> vec2<f32> {
  let b0 = q * D; // = 4 q rows of D / 4 vec4s
  var p0 = vec4<f32>(0.0);
  var p1 = vec4<f32>(0.0);
  var p2 = vec4<f32>(0.0);
  var p3 = vec4<f32>(0.0);
  for (var k = 0u; k < D4; k = k + 1u) {
    let wk = w[k];
    p0 = fma(x4[b0 + k], wk, p0);
    p1 = fma(x4[b0 + D4 + k], wk, p1);
    p2 = fma(x4[b0 + 2u * D4 + k], wk, p2);
    p3 = fma(x4[b0 + 3u * D4 + k], wk, p3);
  }
  let one = vec4<f32>(1.0);
  let p = vec4<f32>(dot(p0, one), dot(p1, one), dot(p2, one), dot(p3, one)) + vec4<f32>(bias);
  var r = p - vec4<f32>(y[4u * q], y[4u * q + 1u], y[4u * q + 2u], y[4u * q + 3u]);
  if (rows_left < 4u) {
    r = select(vec4<f32>(0.0), r, vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(rows_left));
  }
  for (var k = 0u; k < D4; k = k + 1u) {
    var acc = g[k];
    acc = fma(vec4<f32>(r.x), x4[b0 + k], acc);
    acc = fma(vec4<f32>(r.y), x4[b0 + D4 + k], acc);
    acc = fma(vec4<f32>(r.z), x4[b0 + 2u * D4 + k], acc);
    acc = fma(vec4<f32>(r.w), x4[b0 + 3u * D4 + k], acc);
    g[k] = acc;
  }
  return vec2<f32>(r.x + r.y + r.z + r.w, dot(r, r));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let group = wid.x + wid.y * grid.groups_x;
  if (group >= grid.num_groups || state.status != STATUS_RUNNING) {
    return;
  }
  for (var k = 0u; k < D4; k = k + 1u) {
    w[k] = vec4<f32>(theta[4u * k], theta[4u * k + 1u], theta[4u * k + 2u], theta[4u * k + 3u]);
  }
  let bias = theta[D];
  let first = grid.row_offset / 4u;
  let quads = (grid.n + 3u) / 4u;
  let qs = grid.num_groups * WG;
  var q = group * WG + t;
  var sum_r = 0.0;
  var sum_rr = 0.0;
  var total_r = vec2<f32>(0.0);  // (total, comp) of the residual sum ...
  var total_rr = vec2<f32>(0.0); // ... and of the squared residuals
  // Blocks of BLOCK quads of this thread (the last block shorter), each summed plainly and then folded.
  loop {
    let last = q + (BLOCK - 1u) * qs >= quads;
    for (var i = 0u; i < BLOCK && q < quads; i = i + 1u) {
      let s = accumulate_quad(first + q, bias, min(4u, grid.n - 4u * q));
      sum_r = sum_r + s.x;
      sum_rr = sum_rr + s.y;
      q = q + qs;
    }
    for (var k = 0u; k < D4; k = k + 1u) {
      let f = neumaier_add4(total[k], comp[k], g[k]);
      total[k] = f[0];
      comp[k] = f[1];
      g[k] = vec4<f32>(0.0);
    }
    total_r = neumaier_add(total_r.x, total_r.y, sum_r);
    total_rr = neumaier_add(total_rr.x, total_rr.y, sum_rr);
    sum_r = 0.0;
    sum_rr = 0.0;
    if (last) {
      break;
    }
  }
  // The D + 2 sums in rounds of TREE_ROWS: the gradient sums, then sum r, then sum r^2.
  let out = (grid.first_group + group) * (D + 2u);
  for (var k0 = 0u; k0 < D + 2u; k0 = k0 + TREE_ROWS) {
    let rows = min(TREE_ROWS, D + 2u - k0);
    for (var r = 0u; r < rows; r = r + 1u) {
      let c = k0 + r;
      var v = total_r.x + total_r.y;
      if (c < D) {
        let sum4 = total[c / 4u] + comp[c / 4u];
        v = sum4[c % 4u];
      } else if (c == D + 1u) {
        v = total_rr.x + total_rr.y;
      }
      scratch[r * WG + t] = v;
    }
    reduce_rows(t, rows, out + k0);
  }
}
