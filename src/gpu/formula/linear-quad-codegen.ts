// Emits the D-dependent parts of shaders/linear_partials_quad.wgsl as straight-line WGSL: every index into
// the private arrays w and g is a constant, so compilers keep them in registers. The layout says where a
// formula model of the linear shape keeps each column's weight and the bias in theta, which is also the
// order of its gradient program's outputs.
import { QUAD_MAX_WORKGROUP, QUADS_PER_BLOCK, quadTreeRows } from '../dispatch.ts';

/** Where the parameters sit in theta: weights[c] for feature column c, then the bias (src/formula/shapes.ts' LinearShape). */
export interface QuadParamLayout {
  readonly weights: readonly number[];
  readonly bias: number;
}

/** Every placeholder of shaders/linear_partials_quad.wgsl for d feature columns with parameters where `layout` puts them. */
export function quadDefines(d: number, layout: QuadParamLayout, perTrip = quadsPerTrip(d)) {
  return {
    D: d, BLOCK: QUADS_PER_BLOCK, TREE_ROWS: quadTreeRows(d), SCRATCH: QUAD_MAX_WORKGROUP * quadTreeRows(d), QUAD_BODY: quadBody(d), TAIL_BODY: tailBody(d),
    LOAD_WEIGHTS: loadWeights(d, layout), FOLD_BLOCK: foldBlock(d), REDUCE_GRADIENT: reduceGradient(d, layout),
    QUADS_PER_TRIP: perTrip, TRIP: trip(perTrip),
  };
}

/**
 * Quads a trip of the block loop: two for up to QUADS_TWO_PER_TRIP_MAX features, where the loop's own cost is a
 * large share of a quad's (SwiftShader, 2^22 rows, 4 x 64: d = 1 went from 20.5 to 16.4 ms a gradient), else
 * one (two a trip were no faster at d = 4 and slower on some grids, 31 against 50 ms at 2^22 on 4 x 64; at
 * d = 16, 28 against 54 ms at 2^20: the doubled body crowds the registers).
 */
export const QUADS_TWO_PER_TRIP_MAX = 1;
export function quadsPerTrip(d: number): number {
  return d <= QUADS_TWO_PER_TRIP_MAX ? 2 : 1;
}

/** One trip of the block loop: `perTrip` whole quads `inner` apart, their sums added in order (the same bits for any perTrip). */
export function trip(perTrip: number): string {
  if (!(Number.isInteger(perTrip) && perTrip >= 1 && QUADS_PER_BLOCK % perTrip === 0)) {
    throw new RangeError(`quad kernel: quads a trip must divide ${QUADS_PER_BLOCK}, got ${perTrip}`);
  }
  const lines: string[] = [];
  for (let k = 0; k < perTrip; k++) {
    lines.push(`      let s${k} = accumulate_quad(first + q${k === 0 ? '' : ` + ${k}u * inner`}, bias);`);
    lines.push(`      sum_r = sum_r + s${k}.x;`, `      sum_rr = sum_rr + s${k}.y;`);
  }
  lines.push(`      q = q + ${perTrip}u * inner;`);
  return lines.join('\n');
}

const LANE = ['x', 'y', 'z', 'w'] as const;

/** accumulate_quad's body: the whole quad at vec4 `base` (D vec4s of x) and y4[q], its residuals r, the d fma chains into g. */
export function quadBody(d: number): string {
  const lines: string[] = [];
  for (let k = 0; k < d; k++) lines.push(`  let v${k} = x4[base + ${k}u];`);
  lines.push('  var p = vec4<f32>(bias);');
  // Element f of the quad's 4 * D floats is vector f / 4, lane f % 4, sample f / D, feature f % D.
  const elements = Array.from({ length: 4 * d }, (_, f) => ({
    v: `v${Math.floor(f / 4)}.${LANE[f % 4]}`, sample: LANE[Math.floor(f / d)], j: f % d,
  }));
  for (const e of elements) lines.push(`  p.${e.sample} = fma(${e.v}, w[${e.j}], p.${e.sample});`);
  lines.push('  var r = p - y4[q];');
  for (const e of elements) lines.push(`  g[${e.j}] = fma(r.${e.sample}, ${e.v}, g[${e.j}]);`);
  return lines.join('\n');
}

/** w[j] and `bias` from theta, where `layout` puts them. */
export function loadWeights(d: number, layout: QuadParamLayout): string {
  checkLayout(d, layout);
  return [...layout.weights.map((p, j) => `  w[${j}] = theta[${p}];`), `  let bias = theta[${layout.bias}];`].join('\n');
}

function checkLayout(d: number, layout: QuadParamLayout): void {
  const all = [...layout.weights, layout.bias];
  const ok = layout.weights.length === d && all.every((p) => Number.isInteger(p) && p >= 0 && p <= d) && new Set(all).size === d + 1;
  if (!ok) throw new RangeError(`quad kernel: a layout of ${d} features needs d + 1 distinct parameter indices below ${d + 1}, got weights [${layout.weights.join(', ')}], bias ${layout.bias}`);
}

/**
 * The partial last quad, row k of it (accumulate_tail: \`e\` is the row's first float): each feature read
 * as a scalar, then quadBody's operations for one sample in its order.
 */
export function tailBody(d: number): string {
  const lines: string[] = [];
  for (let j = 0; j < d; j++) lines.push(`    let t${j} = x4[(e + ${j}u) / 4u][(e + ${j}u) % 4u];`);
  lines.push('    var p = bias;');
  for (let j = 0; j < d; j++) lines.push(`    p = fma(t${j}, w[${j}], p);`);
  lines.push('    let r = p - y4[q][k];');
  for (let j = 0; j < d; j++) lines.push(`    g[${j}] = fma(r, t${j}, g[${j}]);`);
  return lines.join('\n');
}

/**
 * Folds a block's sums (g[0..d), sum_r, sum_rr) into the compensated totals (neumaier_add) and clears g
 * for the next block: straight-line code, so every index stays a constant.
 */
export function foldBlock(d: number): string {
  const sums = [...Array.from({ length: d }, (_, j) => `g[${j}]`), 'sum_r', 'sum_rr'];
  return sums.map((v, k) => `    { let f = neumaier_add(total[${k}], comp[${k}], ${v}); total[${k}] = f.x; comp[${k}] = f.y; ${v} = 0.0; }`).join('\n');
}

/**
 * The workgroup sums of the d + 2 compensated totals (total + comp) into the group's partials row, in
 * rounds of quadTreeRows(d) sums side by side (scratch row r holds sum k0 + r of the round). The row holds
 * the formula's gradient program's outputs: column weights[c] 2 Σ r·x_c, column bias 2 Σ r, column d + 1
 * Σ r² (the 2 of d(r²)/dr; doubling is exact, so these are the same sums the generated kernel's terms add
 * up to, up to their rounding).
 */
export function reduceGradient(d: number, layout: QuadParamLayout): string {
  checkLayout(d, layout);
  const width = quadTreeRows(d);
  // source[k]: the total (and its factor) that goes to output column k.
  const source = Array.from({ length: d + 2 }, (_, k) => ({ total: k, doubled: false }));
  layout.weights.forEach((p, c) => (source[p] = { total: c, doubled: true }));
  source[layout.bias] = { total: d, doubled: true };
  const value = ({ total, doubled }: { total: number; doubled: boolean }) => (doubled ? `2.0 * (total[${total}] + comp[${total}])` : `total[${total}] + comp[${total}]`);
  const lines: string[] = [];
  for (let k0 = 0; k0 < d + 2; k0 += width) {
    const count = Math.min(width, d + 2 - k0);
    for (let r = 0; r < count; r++) lines.push(`  scratch[${r}u * WG + t] = ${value(source[k0 + r])};`);
    lines.push(`  reduce_rows(t, ${count}u, out + ${k0}u);`);
  }
  return lines.join('\n');
}
