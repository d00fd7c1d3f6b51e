// Pass 1 of a formula model's gradient for wide rows of a generalised linear model, yhat = F(η + b, q..) with
// η = Σ_c θ_c·x_c over every column (src/formula/shapes.ts: linearPredictor): each weight's partial is the
// bias's times its column, so a thread holds a few column sums instead of one per parameter. Bound, gridded
// and reduced as formula_partials.wgsl (MlpUniforms slot, one row of OUTPUTS sums per workgroup in the
// gradient program's order, mlp_reduce.wgsl folds them); assembled after shared/mlp_layout.wgsl,
// shared/compensated_sum.wgsl and shared/segmented_sum.wgsl, its placeholders from linear-predictor-pass.ts.
//
// A workgroup takes tiles of TILE consecutive rows. Per tile: each thread computes η of its rows (rows t,
// t + WG, ..; CHUNK floats a load, the coefficients from workgroup memory), runs the reduced program
// (ROW_BODY: ∂ℓ/∂b, ∂ℓ/∂q.., ℓ, summed per thread) and leaves each slope ∂ℓ/∂b in workgroup memory; then the
// threads turn to the columns: thread t owns chunk t % C of every SLOTS-th row (C <= WG: SLOTS = WG / C row
// slots) or chunks t, t + WG, .. of every row (C > WG), and adds slope · chunk into its column sums.
// Neighbouring threads then read neighbouring chunks of a row, which a hardware GPU coalesces. Two barriers a
// tile. Accuracy as formula_partials.wgsl: at most 64 rows summed plainly (FOLD_ROWS column terms, BLOCK_TILES
// tiles of scalars), folded with Neumaier's sum, then the segmented workgroup sum and mlp_reduce.wgsl's order.

alias Chunk = ${CHUNK_TYPE};
const C: u32 = ${C}u;                   // chunks a row: the row width / CHUNK
const W: u32 = ${W}u;                   // floats a row: the features, then the row weight when there is one
const FEATURES: u32 = ${FEATURES}u;
const OUTPUTS: u32 = ${OUTPUTS}u;       // P + 1: the model's partials in its parameter order, then ℓ
const SCALARS: u32 = ${SCALARS}u;       // the reduced program's outputs: ∂ℓ/∂b, ∂ℓ/∂q.., ℓ
const PARAMS: u32 = ${PARAMS}u;         // the reduced program's parameters: b, q..
const SLOTS: u32 = ${SLOTS}u;           // row slots of the column phase (1 when C > WG)
const CPT: u32 = ${CPT}u;               // chunks a thread owns in the column phase
const BLOCK_TILES: u32 = ${BLOCK_TILES}u; // tiles of scalar sums summed plainly before each fold
const FOLD_ROWS: u32 = ${FOLD_ROWS}u;   // rows of a column sum summed plainly before each fold
const TILE: u32 = ${TILE}u;             // rows a tile: TILE_THREAD_ROWS times the WG this text is for
const TREE_ROWS: u32 = ${TREE_ROWS}u;   // sums the workgroup reduces per round
const SCRATCH: u32 = ${SCRATCH}u;       // WG * TREE_ROWS (shared/segmented_sum.wgsl)

// Column k's coefficient: the index in theta of its weight; PARAM_NONE for the row-weight column and padding.
const PARAM_NONE: u32 = 0xffffffffu;
const COEF_PARAM = array<u32, ${COEF_LENGTH}>(${COEF_PARAM});
// Output k of the row: column OUT_COLUMN[k] of the column sums, or (OUT_COLUMN[k] = PARAM_NONE) scalar OUT_SCALAR[k].
const OUT_COLUMN = array<u32, OUTPUTS>(${OUT_COLUMN});
const OUT_SCALAR = array<u32, OUTPUTS>(${OUT_SCALAR});

override WG: u32 = 64u;
override BLOCKED: bool = false;         // a workgroup takes SPAN consecutive tiles before its next grid step
override SPAN: u32 = 1u;

@group(0) @binding(0) var<uniform> mu: MlpUniforms;              // n, x_row, num_chunks = groups, groups_x
@group(0) @binding(1) var<storage, read> rows_x: array<Chunk>;   // row-major, C chunks a row
@group(0) @binding(2) var<storage, read> rows_y: array<f32>;
@group(0) @binding(3) var<storage, read> theta: array<f32>;      // the model's parameters, as the optimizer leaves them
@group(0) @binding(4) var<storage, read_write> partials: array<f32>; // OUTPUTS per workgroup

var<workgroup> coef: array<Chunk, C>;
var<workgroup> slope: array<f32, TILE>;
var<workgroup> scratch: array<f32, SCRATCH>;
var<private> params: array<f32, PARAMS>;
var<private> block_sum: array<f32, SCALARS>;
var<private> total: array<f32, SCALARS>;
var<private> comp: array<f32, SCALARS>;
var<private> col_total: array<Chunk, CPT>;
var<private> col_comp: array<Chunk, CPT>;

#if ${VEC4}
fn chunk_total(v: vec4<f32>) -> f32 { return (v.x + v.y) + (v.z + v.w); }
fn chunk_lane(v: vec4<f32>, lane: u32) -> f32 { return v[lane]; }
fn x_at(i: u32) -> f32 { return rows_x[i >> 2u][i & 3u]; }
fn fold_chunk(k: u32, v: vec4<f32>) {
  let r = neumaier_add4(col_total[k], col_comp[k], v);
  col_total[k] = r[0];
  col_comp[k] = r[1];
}
#else
fn chunk_total(v: f32) -> f32 { return v; }
fn chunk_lane(v: f32, lane: u32) -> f32 { return v; }
fn x_at(i: u32) -> f32 { return rows_x[i]; }
fn fold_chunk(k: u32, v: f32) {
  let r = neumaier_add(col_total[k], col_comp[k], v);
  col_total[k] = r.x;
  col_comp[k] = r.y;
}
#endif

fn load_coefficients(t: u32) {
  var map = COEF_PARAM; // a copy: runtime indices go through a variable
  for (var c = t; c < C; c = c + WG) {
    var v = Chunk(0.0);
#if ${VEC4}
    for (var i = 0u; i < 4u; i = i + 1u) {
      let p = map[4u * c + i];
      if (p != PARAM_NONE) {
        v[i] = theta[p];
      }
    }
#else
    let p = map[c];
    if (p != PARAM_NONE) {
      v = theta[p];
    }
#endif
    coef[c] = v;
  }
}

// Row `row` of the data (x_row-based): η, the reduced program, its sums; returns the slope ∂ℓ/∂b.
fn add_row(row: u32) -> f32 {
  let base = row * C;
  var acc = Chunk(0.0);
  for (var c = 0u; c < C; c = c + 1u) {
    acc = fma(rows_x[base + c], coef[c], acc);
  }
  let x0 = chunk_total(acc);
  let y_ = rows_y[row];
  var nabla_slope: f32;
${ROW_BODY}
  return nabla_slope;
}

fn fold_block() {
  var r: vec2<f32>;
${FOLD_BODY}
}

// Thread t's column sum k over rows first, first + step, .. < end of the tile, folded every FOLD_ROWS rows.
fn add_column(k: u32, c: u32, row0: u32, first: u32, step: u32, end: u32) {
  for (var r0 = first; r0 < end; r0 = r0 + FOLD_ROWS * step) {
    var acc = Chunk(0.0);
    for (var r = r0; r < min(end, r0 + FOLD_ROWS * step); r = r + step) {
      acc = fma(Chunk(slope[r]), rows_x[(row0 + r) * C + c], acc);
    }
    fold_chunk(k, acc);
  }
}

// The tile of batch rows first .. first + TILE - 1 (fewer at the batch's end): every thread calls it, in
// uniform control flow.
fn add_tile(first: u32, t: u32) {
  let rows = min(TILE, mu.n - first);
  for (var i = t; i < TILE; i = i + WG) {
    var s = 0.0;
    if (i < rows) {
      s = add_row(mu.x_row + first + i);
    }
    slope[i] = s;
  }
  workgroupBarrier();
  let row0 = mu.x_row + first;
  if (C <= WG) {
    if (t / C < SLOTS) {
      add_column(0u, t % C, row0, t / C, SLOTS, rows);
    }
  } else {
    for (var k = 0u; k < CPT; k = k + 1u) {
      if (t + k * WG < C) {
        add_column(k, t + k * WG, row0, 0u, 1u, rows);
      }
    }
  }
  workgroupBarrier();
}

// Thread t's share of output k: its column sum where it owns the column's chunk, else its scalar sum.
fn share(t: u32, k: u32, columns: ptr<function, array<u32, OUTPUTS>>, scalars: ptr<function, array<u32, OUTPUTS>>) -> f32 {
  let j = (*columns)[k];
  if (j == PARAM_NONE) {
    let s = (*scalars)[k];
    return total[s] + comp[s];
  }
  let c = j / ${CHUNK}u;
  var owned = 0u;
  if (C <= WG) {
    if (t % C != c || t / C >= SLOTS) {
      return 0.0;
    }
  } else {
    if (c < t || (c - t) % WG != 0u) {
      return 0.0;
    }
    owned = (c - t) / WG;
  }
  return chunk_lane(col_total[owned] + col_comp[owned], j % ${CHUNK}u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let group = wid.x + wid.y * mu.groups_x;
  if (group >= mu.num_chunks) {
    return; // a whole workgroup of a folded grid's surplus: uniform, before any barrier
  }
${LOAD_PARAMS}
  load_coefficients(t);
  workgroupBarrier();
  let tiles = (mu.n + TILE - 1u) / TILE;
  let run = select(1u, SPAN, BLOCKED);
  var since_fold = 0u;
  for (var start = group * run; start < tiles; start = start + mu.num_chunks * run) {
    for (var tile = start; tile < min(tiles, start + run); tile = tile + 1u) {
      add_tile(tile * TILE, t);
      since_fold = since_fold + 1u;
      if (since_fold == BLOCK_TILES) {
        fold_block();
        since_fold = 0u;
      }
    }
  }
  fold_block();
  var columns = OUT_COLUMN;
  var scalars = OUT_SCALAR;
  let out = group * OUTPUTS;
  for (var r0 = 0u; r0 < OUTPUTS; r0 = r0 + TREE_ROWS) {
    let rows = min(TREE_ROWS, OUTPUTS - r0);
    for (var r = 0u; r < rows; r = r + 1u) {
      scratch[r * WG + t] = share(t, r0 + r, &columns, &scalars);
    }
    reduce_rows(t, rows, out + r0);
  }
}
