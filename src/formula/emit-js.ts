// The per-sample program as JavaScript: a function that sums the program's outputs over a range of rows in
// float64. It is the float64 twin over float64 or float32 rows, and the fast CPU kernel on float32 rows
// (V8 compiles it to straight-line machine code; each worker compiles the same source). Reruns over the
// same rows in the same order give the same bits.
import type { Node } from './ast.ts';
import { FUNCTIONS, JS_HELPERS } from './functions.ts';
import { gradientProgram, type SampleProgram } from './program.ts';
import type { LinearPredictorShape } from './shapes.ts';
import { FLOAT32_MAX } from '../core/float32.ts';

/** sums(theta, x, y, start, end, out): out[k] = Σ_{i in [start, end)} output_k(row i); x is rows × rowWidth. */
export type RowSums = (theta: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>, start: number, end: number, out: Float64Array) => void;

/**
 * A literal as the GPU kernel holds it: rounded to float32, so that a comparison with float32 data (z <= 0.1,
 * sign(z - 0.1), eq(z, 0.1)) takes the same branch on every device. Beyond float32's range it stays as written
 * (the WGSL cannot hold it either).
 */
export function jsNumber(v: number): string {
  const held = heldLiteral(v);
  return held < 0 ? `(${held})` : `${held}`;
}

/** The value of a literal in the generated code: v rounded to float32 where float32 holds it (jsNumber). */
export function heldLiteral(v: number): number {
  return Math.abs(v) <= FLOAT32_MAX ? Math.fround(v) : v;
}

export function jsExpression(n: Node, float32 = false): string {
  const go = (c: Node) => jsExpression(c, float32);
  const rounded = (v: string) => (float32 ? `Math.fround(${v})` : v);
  switch (n.kind) {
    case 'num': return jsNumber(n.value);
    case 'sym': return n.name === 'y' ? 'y_' : n.name; // y names the target array
    case 'neg': return `(-${go(n.arg)})`;
    case 'bin': {
      const a = go(n.left);
      const b = go(n.right);
      if (n.op !== '^') return rounded(`(${a} ${n.op} ${b})`);
      if (n.right.kind === 'num' && n.right.value === 2) return rounded(`nabla_sq(${a})`);
      return rounded(`Math.pow(${a}, ${b})`);
    }
    case 'call': {
      const call = FUNCTIONS[n.fn].js(...n.args.map(go));
      return rounded(call);
    }
  }
}

/** The source of the row-sum function (a function body for new Function, returning the function). */
export function jsRowSumsSource(p: SampleProgram, float32 = false): string {
  const S = p.outputs.length;
  const helpers = [JS_HELPERS, 'const nabla_sq = (v) => v * v;'];
  const lines: string[] = [...helpers, 'return function rowSums(theta, x, y, start, end, out) {'];
  for (let j = 0; j < p.params; j++) lines.push(`  const p${j} = theta[${j}];`);
  lines.push(`  let ${Array.from({ length: S }, (_, k) => `s${k} = 0`).join(', ')};`);
  lines.push(`  for (let i = start; i < end; i++) {`);
  lines.push(`    const base_ = i * ${p.rowWidth};`);
  for (let k = 0; k < p.features; k++) lines.push(`    const x${k} = x[base_ + ${k}];`);
  if (p.weighted) lines.push(`    const w = x[base_ + ${p.features}];`);
  lines.push('    const y_ = y[i];');
  for (const { name, node } of p.lets) lines.push(`    const ${name} = ${jsExpression(node, float32)};`);
  p.outputs.forEach((o, k) => lines.push(`    s${k} += ${jsExpression(o, float32)};`));
  lines.push('  }');
  for (let k = 0; k < S; k++) lines.push(`  out[${k}] += s${k};`);
  lines.push('};');
  return lines.join('\n');
}

/** Rows whose column sums the linear predictor's row sums add in one sweep of the columns (the code spells 4). */
const ROW_BLOCK = 4;

/**
 * The row sums of a generalised linear model's gradient program (P + 1 outputs, model.params order, then ℓ)
 * through its linear predictor (shapes.ts: linearPredictor): a row's η = Σ θ_c·x_c is one loop over the
 * columns, the reduced program gives ∂ℓ/∂b, ∂ℓ/∂q.. and ℓ from η, and each weight's sum adds (∂ℓ/∂b)·x_c in a
 * second loop, ROW_BLOCK rows at a time. The generated function spells one statement per column instead, which V8 stops optimising
 * somewhere past a few hundred columns (at 1,024, about a tenth of this loop's speed). η is summed in column
 * order, not the model tree's order: a few ulps a row from the generated sums.
 */
export function jsPredictorRowSumsSource(p: SampleProgram, shape: LinearPredictorShape): string {
  const reduced = gradientProgram(shape.reduced);
  const C = shape.weights.length;
  const R = reduced.outputs.length;
  const lines: string[] = [
    JS_HELPERS, 'const nabla_sq = (v) => v * v;',
    `const weights_ = Int32Array.from([${shape.weights.join(', ')}]);`,
    'return function rowSums(theta, x, y, start, end, out) {',
    `  const coef_ = new Float64Array(${C});`,
    `  for (let c = 0; c < ${C}; c++) coef_[c] = theta[weights_[c]];`,
    `  const columns_ = new Float64Array(${C});`,
  ];
  shape.reducedParams.forEach((j, k) => lines.push(`  const p${k} = theta[${j}];`));
  lines.push(`  let ${Array.from({ length: R }, (_, k) => `s${k} = 0`).join(', ')};`);
  lines.push(`  const slope_ = new Float64Array(${ROW_BLOCK});`);
  lines.push(`  for (let i0 = start; i0 < end; i0 += ${ROW_BLOCK}) {`);
  lines.push(`    const rows_ = Math.min(${ROW_BLOCK}, end - i0);`);
  lines.push('    for (let r = 0; r < rows_; r++) {');
  lines.push('      const i = i0 + r;');
  lines.push(`      const base_ = i * ${p.rowWidth};`);
  // Four running sums: four independent chains of adds instead of one.
  const C4 = C - (C % 4);
  lines.push('      let e0 = 0, e1 = 0, e2 = 0, e3 = 0;');
  lines.push(`      for (let c = 0; c < ${C4}; c += 4) {`);
  lines.push('        e0 += coef_[c] * x[base_ + c]; e1 += coef_[c + 1] * x[base_ + c + 1]; e2 += coef_[c + 2] * x[base_ + c + 2]; e3 += coef_[c + 3] * x[base_ + c + 3];');
  lines.push('      }');
  lines.push(`      for (let c = ${C4}; c < ${C}; c++) e0 += coef_[c] * x[base_ + c];`);
  lines.push('      const x0 = (e0 + e1) + (e2 + e3);');
  if (p.weighted) lines.push(`      const w = x[base_ + ${C}];`);
  lines.push('      const y_ = y[i];');
  for (const { name, node } of reduced.lets) lines.push(`      const ${name} = ${jsExpression(node)};`);
  reduced.outputs.forEach((o, k) => lines.push(`      const o${k} = ${jsExpression(o)};`, `      s${k} += o${k};`));
  lines.push('      slope_[r] = o0;');
  lines.push('    }');
  // A block's column sums in one sweep: each columns_[c] is loaded and stored once per ROW_BLOCK rows.
  lines.push(`    if (rows_ === ${ROW_BLOCK}) {`);
  lines.push(`      const b0 = i0 * ${p.rowWidth}, b1 = b0 + ${p.rowWidth}, b2 = b1 + ${p.rowWidth}, b3 = b2 + ${p.rowWidth};`);
  lines.push('      const g0 = slope_[0], g1 = slope_[1], g2 = slope_[2], g3 = slope_[3];');
  lines.push(`      for (let c = 0; c < ${C}; c++) columns_[c] += (g0 * x[b0 + c] + g1 * x[b1 + c]) + (g2 * x[b2 + c] + g3 * x[b3 + c]);`);
  lines.push('    } else {');
  lines.push('      for (let r = 0; r < rows_; r++) {');
  lines.push(`        const g = slope_[r], b = (i0 + r) * ${p.rowWidth};`);
  lines.push(`        for (let c = 0; c < ${C}; c++) columns_[c] += g * x[b + c];`);
  lines.push('      }');
  lines.push('    }');
  lines.push('  }');
  lines.push(`  for (let c = 0; c < ${C}; c++) out[weights_[c]] += columns_[c];`);
  shape.reducedParams.forEach((j, k) => lines.push(`  out[${j}] += s${k};`));
  lines.push(`  out[${p.params}] += s${R - 1};`);
  lines.push('};');
  return lines.join('\n');
}

/**
 * float32: each row's outputs computed as a GPU kernel might, every operation rounded to float32 (the sums stay
 * float64; the kernels' sin, cos and tan are the WGSL helpers, a few ulps, not the built-ins WGSL lets be
 * 2^-11 off): beside the float64 twin it measures how far a correct float32 kernel can be from it, for the
 * creation check. Not a kernel to train with.
 */
export function compileRowSums(p: SampleProgram, float32 = false): RowSums {
  return new Function(jsRowSumsSource(p, float32))() as RowSums;
}
