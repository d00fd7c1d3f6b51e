// The per-sample program as JavaScript: a function that sums the program's outputs over a range of rows in
// float64. It is the float64 twin over float64 or float32 rows, and the fast CPU kernel on float32 rows
// (V8 compiles it to straight-line machine code; each worker compiles the same source). Reruns over the
// same rows in the same order give the same bits.
import type { Node } from './ast.ts';
import { FUNCTIONS, JS_HELPERS } from './functions.ts';
import type { SampleProgram } from './program.ts';

/** sums(theta, x, y, start, end, out): out[k] = Σ_{i in [start, end)} output_k(row i); x is rows × rowWidth. */
export type RowSums = (theta: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>, start: number, end: number, out: Float64Array) => void;

export function jsExpression(n: Node): string {
  switch (n.kind) {
    case 'num': return n.value < 0 ? `(${n.value})` : `${n.value}`;
    case 'sym': return n.name === 'y' ? 'y_' : n.name; // y names the target array
    case 'neg': return `(-${jsExpression(n.arg)})`;
    case 'bin': {
      const a = jsExpression(n.left);
      const b = jsExpression(n.right);
      if (n.op !== '^') return `(${a} ${n.op} ${b})`;
      if (n.right.kind === 'num' && n.right.value === 2) return `nabla_sq(${a})`;
      return `Math.pow(${a}, ${b})`;
    }
    case 'call': return FUNCTIONS[n.fn].js(...n.args.map(jsExpression));
  }
}

/** The source of the row-sum function (a function body for new Function, returning the function). */
export function jsRowSumsSource(p: SampleProgram): string {
  const S = p.outputs.length;
  const lines: string[] = [JS_HELPERS, 'const nabla_sq = (v) => v * v;', 'return function rowSums(theta, x, y, start, end, out) {'];
  for (let j = 0; j < p.params; j++) lines.push(`  const p${j} = theta[${j}];`);
  lines.push(`  let ${Array.from({ length: S }, (_, k) => `s${k} = 0`).join(', ')};`);
  lines.push(`  for (let i = start; i < end; i++) {`);
  lines.push(`    const base_ = i * ${p.rowWidth};`);
  for (let k = 0; k < p.features; k++) lines.push(`    const x${k} = x[base_ + ${k}];`);
  if (p.weighted) lines.push(`    const w = x[base_ + ${p.features}];`);
  lines.push('    const y_ = y[i];');
  for (const { name, node } of p.lets) lines.push(`    const ${name} = ${jsExpression(node)};`);
  p.outputs.forEach((o, k) => lines.push(`    s${k} += ${jsExpression(o)};`));
  lines.push('  }');
  for (let k = 0; k < S; k++) lines.push(`  out[${k}] += s${k};`);
  lines.push('};');
  return lines.join('\n');
}

export function compileRowSums(p: SampleProgram): RowSums {
  return new Function(jsRowSumsSource(p))() as RowSums;
}
