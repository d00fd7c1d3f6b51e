// Emits the D-dependent parts of shaders/linear_partials_quad.wgsl as straight-line WGSL: every index into
// the private arrays w and g is a constant, so compilers keep them in registers. `layout` (the FORMULA
// variant) says where a formula model of the linear shape keeps each column's weight and the bias in theta,
// which is also the order of its gradient program's outputs.
import { QUADS_PER_BLOCK, quadTreeRows } from '../dispatch.ts';

/** Where the parameters sit in theta: weights[c] for feature column c, then the bias (src/formula/shapes.ts' LinearShape). */
export interface QuadParamLayout {
  readonly weights: readonly number[];
  readonly bias: number;
}

/**
 * Every placeholder of shaders/linear_partials_quad.wgsl for d features in quads of `stride`-float rows;
 * with `layout`, the FORMULA variant (its rows are plain row-major x, stride = d, no records).
 */
export function quadDefines(d: number, stride: number, records: boolean, body: string, unroll: number, layout?: QuadParamLayout) {
  if (layout && (records || stride !== d)) throw new RangeError('quad kernel: the FORMULA variant reads plain rows of d floats');
  return {
    D: d, S: stride, BLOCK: QUADS_PER_BLOCK, TREE_ROWS: quadTreeRows(d), RECORDS: records, QUAD_BODY: body, LOAD_WEIGHTS: loadWeights(d, layout),
    FOLD_BLOCK: foldBlock(d), REDUCE_GRADIENT: reduceGradient(d, layout), WHOLE_BLOCK: wholeBlockLoop(unroll),
    FORMULA: layout !== undefined, TAIL_BODY: layout ? tailBody(d) : '',
  };
}

const LANE = ['x', 'y', 'z', 'w'] as const;

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
  lines.push('  if (rows_left < 4u) {');
  lines.push('    r = select(vec4<f32>(0.0), r, vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(rows_left));');
  lines.push('  }');
  for (const e of elements) lines.push(`  g[${e.j}] = fma(r.${e.sample}, ${e.v}, g[${e.j}]);`);
  return lines.join('\n');
}

/**
 * The quad body of the RECORDS variant of shaders/linear_partials_quad.wgsl: 4 records of `stride` floats (S vec4s); feature j
 * is column columns[j], the target column columns[d]. Each chosen value is standardized in registers,
 * then the fma chains run in quadBody's order (sample by sample, features 0..d-1), so the sums are
 * bit-identical to quadBody over standardized, de-interleaved data.
 */
export function recordsQuadBody(d: number, stride: number, columns: readonly number[]): string {
  if (columns.length !== d + 1 || columns.some((c) => !Number.isInteger(c) || c < 0 || c >= stride)) {
    throw new RangeError(`records: ${d} features + target need ${d + 1} column indices below ${stride}, got [${columns.join(', ')}]`);
  }
  const lines: string[] = [];
  const at = (sample: number, col: number) => {
    const f = sample * stride + col;
    return `v${Math.floor(f / 4)}.${LANE[f % 4]}`;
  };
  const used = new Set<number>();
  for (let s = 0; s < 4; s++) for (const c of columns) used.add(Math.floor((s * stride + c) / 4));
  for (const k of [...used].sort((a, b) => a - b)) lines.push(`  let v${k} = rec4[base + ${k}u];`);
  for (let s = 0; s < 4; s++) {
    for (let j = 0; j < d; j++) lines.push(`  let e${s}_${j} = (${at(s, columns[j])} - mean[${j}]) * inv_std[${j}];`);
  }
  lines.push('  var p = vec4<f32>(bias);');
  for (let s = 0; s < 4; s++) for (let j = 0; j < d; j++) lines.push(`  p.${LANE[s]} = fma(e${s}_${j}, w[${j}], p.${LANE[s]});`);
  const ys = [0, 1, 2, 3].map((s) => `(${at(s, columns[d])} - y_mean) * y_inv_std`);
  lines.push(`  var r = p - vec4<f32>(${ys.join(', ')});`);
  lines.push('  if (rows_left < 4u) {');
  lines.push('    r = select(vec4<f32>(0.0), r, vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(rows_left));');
  lines.push('  }');
  for (let s = 0; s < 4; s++) for (let j = 0; j < d; j++) lines.push(`  g[${j}] = fma(r.${LANE[s]}, e${s}_${j}, g[${j}]);`);
  return lines.join('\n');
}

/**
 * The fixed-trip loop over one block of BLOCK whole quads: `unroll` quads per trip (the tuner's choice; 1 or 2,
 * a divisor of BLOCK). The quads are added in the same order whatever `unroll` is, so the sums are the same bit
 * for bit; fewer trips per byte pay on adapters where the loop itself costs (SwiftShader, d = 1).
 */
export function wholeBlockLoop(unroll: number): string {
  if (!(Number.isInteger(unroll) && unroll >= 1 && QUADS_PER_BLOCK % unroll === 0)) {
    throw new RangeError(`wholeBlockLoop: unroll must divide ${QUADS_PER_BLOCK}, got ${unroll}`);
  }
  const step = (k: number) => [
    `      { let s = accumulate_quad(first + q${k === 0 ? '' : ` + ${k}u * qs`}, bias, 4u);`,
    '        sum_r = sum_r + s.x;',
    '        sum_rr = sum_rr + s.y; }',
  ].join('\n');
  return [
    `    for (var i = 0u; i < ${QUADS_PER_BLOCK / unroll}u; i = i + 1u) {`,
    ...Array.from({ length: unroll }, (_, k) => step(k)),
    `      q = q + ${unroll}u * qs;`,
    '    }',
  ].join('\n');
}

/** w[j] and `bias` from theta: (w_0 .. w_{d-1}, b) in that order, or where `layout` puts them. */
export function loadWeights(d: number, layout?: QuadParamLayout): string {
  checkLayout(d, layout);
  const weight = (j: number) => layout?.weights[j] ?? j;
  return [...Array.from({ length: d }, (_, j) => `  w[${j}] = theta[${weight(j)}];`), `  let bias = theta[${layout?.bias ?? d}];`].join('\n');
}

function checkLayout(d: number, layout?: QuadParamLayout): void {
  if (!layout) return;
  const all = [...layout.weights, layout.bias];
  const ok = layout.weights.length === d && all.every((p) => Number.isInteger(p) && p >= 0 && p <= d) && new Set(all).size === d + 1;
  if (!ok) throw new RangeError(`quad kernel: a layout of ${d} features needs d + 1 distinct parameter indices below ${d + 1}, got weights [${layout.weights.join(', ')}], bias ${layout.bias}`);
}

/**
 * The FORMULA variant's partial last quad, row k of it (accumulate_tail: \`e\` is the row's first float):
 * each feature read as a scalar, then quadBody's operations for one sample in its order.
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
 * rounds of quadTreeRows(d) sums side by side (scratch row r holds sum k0 + r of the round). Without a
 * layout the row is (Σ r·x_0 .. Σ r·x_{d-1}, Σ r, Σ r²); with one it is the formula's gradient program's
 * outputs: column weights[c] holds 2 Σ r·x_c, column bias 2 Σ r, column d + 1 Σ r² (the 2 of d(r²)/dr; doubling
 * is exact, so these are the same sums the generated kernel's terms add up to, up to their rounding).
 */
export function reduceGradient(d: number, layout?: QuadParamLayout): string {
  checkLayout(d, layout);
  const width = quadTreeRows(d);
  // source[k]: the total (and its factor) that goes to output column k.
  const source = Array.from({ length: d + 2 }, (_, k) => ({ total: k, doubled: false }));
  if (layout) {
    layout.weights.forEach((p, c) => (source[p] = { total: c, doubled: true }));
    source[layout.bias] = { total: d, doubled: true };
  }
  const value = ({ total, doubled }: { total: number; doubled: boolean }) => (doubled ? `2.0 * (total[${total}] + comp[${total}])` : `total[${total}] + comp[${total}]`);
  const lines: string[] = [];
  for (let k0 = 0; k0 < d + 2; k0 += width) {
    const count = Math.min(width, d + 2 - k0);
    for (let r = 0; r < count; r++) lines.push(`  scratch[${r}u * WG + t] = ${value(source[k0 + r])};`);
    lines.push(`  reduce_rows(t, ${count}u, out + ${k0}u);`);
  }
  return lines.join('\n');
}
