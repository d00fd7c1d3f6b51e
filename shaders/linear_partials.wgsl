// Pass 1 of a gradient evaluation: one read of X and y.
// Each workgroup walks tiles of ROWS samples (tile, tile + num_groups, ...), stages a tile of X in
// workgroup memory with vec4 loads, computes every residual r = w.x + b - y, and accumulates
// sum(r * x_j), sum(r) and sum(r^2). It writes one row of D + 2 partial sums; reduce_partials.wgsl
// folds the rows. No atomics: the summation order is fixed, so reruns are bit-identical.
// The grid is data (num_groups from src/gpu/dispatch.ts): each thread sums BLOCK tiles plainly, then folds
// the block's sums into compensated totals (shaders/shared/compensated_sum.wgsl), so the error does not grow
// with the tiles a group walks (the argument is in linear_partials_quad.wgsl).
// The placeholders are filled by specializeWgsl() (src/gpu/wgsl.ts) per feature count.

const D: u32 = ${D}u;            // features
const ROWS: u32 = ${ROWS}u;      // samples per tile; ROWS * D is a multiple of 4
const TILE4: u32 = ROWS * D / 4u;
const FPT: u32 = ${FPT}u;        // weight sums held per thread: 1 when D <= WG, else ceil(D / WG)
const BLOCK: u32 = ${BLOCK}u;    // tiles summed plainly before each compensated fold

override WG: u32 = 256u;
// When D <= WG, thread t owns feature t % D; LANES threads take part, G = WG / D per feature.
override G: u32 = WG / D;
override LANES: u32 = G * D;

@group(0) @binding(0) var<uniform> grid: LinearGridUniforms;
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>;   // row-major N x D, zero padded to vec4
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> theta: array<f32>;      // w_0 .. w_{D-1}, b
@group(0) @binding(4) var<storage, read> state: TrainState;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>; // num_groups x (D + 2)

var<workgroup> tile_x: array<vec4<f32>, TILE4>;
var<workgroup> tile_r: array<f32, ROWS>;
var<workgroup> scratch: array<f32, WG>;

fn tile_value(f: u32) -> f32 {
  return tile_x[f >> 2u][f & 3u];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let group = wid.x + wid.y * grid.groups_x;
  // Both conditions are uniform across the workgroup, so returning keeps barriers uniform.
  if (group >= grid.num_groups || state.status != STATUS_RUNNING) {
    return;
  }
  let bias = theta[D];
  var sum_g: array<f32, FPT>;   // the block's weight sums
  var total_g: array<f32, FPT>; // compensated totals (total, comp) of the weight sums and of r, r^2
  var comp_g: array<f32, FPT>;
  var total_r = vec2<f32>(0.0);
  var total_rr = vec2<f32>(0.0);

  let stride = grid.num_groups;
  // Every bound below is uniform across the workgroup, so the barriers inside stay uniform.
  for (var start = group; start < grid.num_tiles; start = start + BLOCK * stride) {
    let end = min(grid.num_tiles, start + BLOCK * stride);
    var sum_r = 0.0;
    var sum_rr = 0.0;
    for (var tile = start; tile < end; tile = tile + stride) {
      let row0 = tile * ROWS;
      let rows = min(ROWS, grid.n - row0);
      let valid4 = (rows * D + 3u) / 4u;
      for (var k = t; k < TILE4; k = k + WG) {
        var v = vec4<f32>(0.0);
        if (k < valid4) {
          v = x4[grid.row_offset * D / 4u + tile * TILE4 + k];
        }
        tile_x[k] = v;
      }
      workgroupBarrier();

      for (var i = t; i < ROWS; i = i + WG) {
        var r = 0.0;
        if (i < rows) {
          var p = bias;
          for (var j = 0u; j < D; j = j + 1u) {
            p = fma(tile_value(i * D + j), theta[j], p);
          }
          r = p - y[grid.row_offset + row0 + i];
        }
        tile_r[i] = r;
        sum_r = sum_r + r;
        sum_rr = fma(r, r, sum_rr);
      }
      workgroupBarrier();

#if ${LANE_MODE}
      if (t < LANES) {
        let j = t % D;
        var acc = sum_g[0];
        for (var i = t / D; i < ROWS; i = i + G) {
          acc = fma(tile_r[i], tile_value(i * D + j), acc);
        }
        sum_g[0] = acc;
      }
#else
      for (var m = 0u; m < FPT; m = m + 1u) {
        let j = t + m * WG;
        if (j < D) {
          var acc = sum_g[m];
          for (var i = 0u; i < ROWS; i = i + 1u) {
            acc = fma(tile_r[i], tile_value(i * D + j), acc);
          }
          sum_g[m] = acc;
        }
      }
#endif
      workgroupBarrier();
    }
    total_r = neumaier_add(total_r.x, total_r.y, sum_r);
    total_rr = neumaier_add(total_rr.x, total_rr.y, sum_rr);
    for (var k = 0u; k < FPT; k = k + 1u) {
      let f = neumaier_add(total_g[k], comp_g[k], sum_g[k]);
      total_g[k] = f.x;
      comp_g[k] = f.y;
      sum_g[k] = 0.0;
    }
  }

  let out = (grid.first_group + group) * (D + 2u);
  let group_r = workgroup_sum(t, total_r.x + total_r.y); // shared/workgroup_sum.wgsl
  let group_rr = workgroup_sum(t, total_rr.x + total_rr.y);
  if (t == 0u) {
    partials[out + D] = group_r;
    partials[out + D + 1u] = group_rr;
  }

#if ${LANE_MODE}
  // Thread t holds feature t % D for lane group t / D: fold the G groups with a tree.
  var mine = 0.0;
  if (t < LANES) {
    mine = total_g[0] + comp_g[0];
  }
  scratch[t] = mine;
  workgroupBarrier();
  var span = 1u;
  while (span < G) {
    span = span * 2u;
  }
  for (var stride = span / 2u; stride > 0u; stride = stride / 2u) {
    let g = t / D;
    if (t < LANES && g < stride && g + stride < G) {
      scratch[t] = scratch[t] + scratch[t + stride * D];
    }
    workgroupBarrier();
  }
  if (t < D) {
    partials[out + t] = scratch[t];
  }
#else
  for (var m = 0u; m < FPT; m = m + 1u) {
    let j = t + m * WG;
    if (j < D) {
      partials[out + j] = total_g[m] + comp_g[m];
    }
  }
#endif
}
