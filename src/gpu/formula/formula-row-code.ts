// The straight-line per-row code of formula_partials.wgsl (ROW_BODY, FOLD_BODY), emitted from the sample
// program itself rather than as a call of nabla_sample(): an output that is a product a·b is accumulated as
// fma(a, b, block_sum[k]), and a + b·c inside the lets becomes fma(b, c, a). One fused operation where the
// call spelled a multiply, an add and the add into the block sum: y ~ linear(16 columns), mse, is then 32
// fused multiply-adds a row instead of about 66 operations, what the hand-written quad kernel does. The
// leaves, powers and function calls are spelled by the compiler's own emitter (wgslExpression), and its helpers
// (nabla_sq, ...) are assembled before the stage as before; fma rounds once where a·b + c rounds twice, well
// within the float64 twin's check (formula-check.ts). Pure: unit-tested without a GPU.
import type { Node } from '../../formula/ast.ts';
import { wgslExpression } from '../../formula/emit-wgsl.ts';
import type { SampleProgram } from '../../formula/program.ts';

/** Whether a row is whole vec4s: its width a multiple of 4 (the x buffer then holds whole vec4s too). */
export function rowsAsVec4(program: SampleProgram): boolean {
  return program.rowWidth > 0 && program.rowWidth % 4 === 0;
}

type Bin = Extract<Node, { kind: 'bin' }>;
const isProduct = (n: Node): boolean => n.kind === 'bin' && n.op === '*';

/** wgslExpression with sums and differences of a product fused into fma(); the same value up to one rounding. */
export function fusedExpression(n: Node): string {
  if (n.kind === 'neg') return `(-${fusedExpression(n.arg)})`;
  if (n.kind !== 'bin') return wgslExpression(n);
  const { op, left, right } = n;
  const l = left as Bin;
  const r = right as Bin;
  if (op === '+' && isProduct(left)) return `fma(${fusedExpression(l.left)}, ${fusedExpression(l.right)}, ${fusedExpression(right)})`;
  if (op === '+' && isProduct(right)) return `fma(${fusedExpression(r.left)}, ${fusedExpression(r.right)}, ${fusedExpression(left)})`;
  if (op === '-' && isProduct(left)) return `fma(${fusedExpression(l.left)}, ${fusedExpression(l.right)}, (-${fusedExpression(right)}))`;
  if (op === '-' && isProduct(right)) return `fma((-${fusedExpression(r.left)}), ${fusedExpression(r.right)}, ${fusedExpression(left)})`;
  if (op === '+' || op === '-' || op === '*' || op === '/') return `(${fusedExpression(left)} ${op} ${fusedExpression(right)})`;
  return wgslExpression(n); // powers: the emitter's own cases (nabla_sq, nabla_powi, sqrt, pow)
}

/** `block_sum[k] = block_sum[k] + output`, with a product (or a square) fused into the add. */
function accumulate(k: number, n: Node): string {
  const sum = `block_sum[${k}]`;
  if (isProduct(n)) return `  ${sum} = fma(${fusedExpression((n as Bin).left)}, ${fusedExpression((n as Bin).right)}, ${sum});`;
  if (n.kind === 'bin' && n.op === '^' && n.right.kind === 'num' && n.right.value === 2) {
    return `  { let q = ${fusedExpression(n.left)}; ${sum} = fma(q, q, ${sum}); }`;
  }
  return `  ${sum} = ${sum} + ${fusedExpression(n)};`;
}

/**
 * formula_partials.wgsl's ROW_BODY (load row `row`, run the program, add its outputs to the block sums) and
 * FOLD_BODY (fold the block sums into the compensated totals), unrolled: constant indices only. The names
 * are the program's (p0.., x0.., y_, w, its lets); the skeleton's own carry a nabla_ prefix. vec4: the row
 * is loaded as rowWidth / 4 vec4s (formula_partials.wgsl's rows_x4).
 */
export function formulaRowCode(program: SampleProgram, vec4 = false): { ROW_BODY: string; FOLD_BODY: string } {
  const W = Math.max(1, program.rowWidth);
  const S = program.outputs.length;
  if (vec4 && W % 4 !== 0) throw new RangeError(`formula kernel: vec4 rows need a width that is a multiple of 4, got ${W}`);
  const row: string[] = [];
  const column: string[] = [];
  if (vec4) {
    row.push(`  let nabla_base = row * ${W / 4}u;`);
    for (let q = 0; q < W / 4; q++) row.push(`  let nabla_v${q} = rows_x4[nabla_base + ${q}u];`);
    for (let k = 0; k < W; k++) column.push(`nabla_v${k >> 2}.${'xyzw'[k & 3]}`);
  } else {
    row.push(`  let nabla_base = row * ${W}u;`);
    for (let k = 0; k < W; k++) column.push(`rows_x[nabla_base + ${k}u]`);
  }
  for (let j = 0; j < program.params; j++) row.push(`  let p${j} = params[${j}];`);
  for (let k = 0; k < program.features; k++) row.push(`  let x${k} = ${column[k]};`);
  if (program.weighted) row.push(`  let w = ${column[program.features]};`);
  row.push('  let y_ = rows_y[row];');
  for (const { name, node } of program.lets) row.push(`  let ${name} = ${fusedExpression(node)};`);
  program.outputs.forEach((n, k) => row.push(accumulate(k, n)));
  const fold: string[] = [];
  for (let k = 0; k < S; k++) {
    fold.push(`  r = neumaier_add(total[${k}], comp[${k}], block_sum[${k}]);`, `  total[${k}] = r.x;`, `  comp[${k}] = r.y;`, `  block_sum[${k}] = 0.0;`);
  }
  return { ROW_BODY: row.join('\n'), FOLD_BODY: fold.join('\n') };
}
