// The straight-line per-row code of formula_partials.wgsl (ROW_BODY, FOLD_BODY), emitted from the sample
// program itself rather than as a call of nabla_sample(): an output that is a product a·b is accumulated as
// fma(a, b, block_sum[k]), and a + b·c inside the lets becomes fma(b, c, a). One fused operation where the
// call spelled a multiply, an add and the add into the block sum: y ~ linear(16 columns), mse, is then 32
// fused multiply-adds a row instead of about 66 operations, what the hand-written quad kernel does. The
// leaves, powers and function calls are spelled by the compiler's own emitter (wgslExpression), and its helpers
// (nabla_sq, ...) are assembled before the stage as before; fma rounds once where a·b + c rounds twice, well
// within the float64 twin's check (formula-check.ts). Rows are read as rowLoads says. Pure: unit-tested
// without a GPU.
import type { Node } from '../../formula/ast.ts';
import { wgslExpression } from '../../formula/emit-wgsl.ts';
import type { SampleProgram } from '../../formula/program.ts';

/**
 * How pass 1 reads a row. 'quad': x and y bound as vec4s, each aligned quad of 4 rows loaded at once (its W
 * vec4s of x, whatever W is, and one of y) and its 4 row bodies run in turn on those registers; 'vec4': a
 * width that is a multiple of 4, each row its W / 4 vec4s; 'scalar': one load per column. Quads are for
 * narrow rows, and for rows of up to QUAD_LOAD_MAX_WIDTH columns whose program has at most
 * QUAD_LOAD_MAX_OUTPUTS outputs: the quad body is four row bodies, and a wider one (the normal equations of
 * linear(16 columns), 171 outputs) is four times the code to compile for what is then a small share of the
 * work. On SwiftShader, y ~ b1*(1-exp(-b2*x)) with mse over 2^20 rows: 7.3 ms a gradient with scalar loads,
 * 5.1 ms with quad loads, two quads a trip and the parameters in a private array (formulaTripQuads); at
 * 2^22 rows of 16 columns, huber 86 → 82 ms and poisson 89 → 82 ms against vec4 rows.
 */
export type RowLoads = 'quad' | 'vec4' | 'scalar';

export const QUAD_LOAD_NARROW_WIDTH = 3;
export const QUAD_LOAD_MAX_WIDTH = 64;
export const QUAD_LOAD_MAX_OUTPUTS = QUAD_LOAD_MAX_WIDTH + 2;

export function rowLoads(program: SampleProgram): RowLoads {
  const W = Math.max(1, program.rowWidth);
  if (W <= QUAD_LOAD_NARROW_WIDTH || (W <= QUAD_LOAD_MAX_WIDTH && program.outputs.length <= QUAD_LOAD_MAX_OUTPUTS)) return 'quad';
  return W % 4 === 0 ? 'vec4' : 'scalar';
}

/**
 * Quads per trip of pass 1's block loop: two for quad loads of few outputs (the case above), else one; two
 * quads of a 16-column Poisson model (18 outputs) crowded the registers: 39 ms a gradient became 58 ms.
 */
export const TWO_QUADS_MAX_OUTPUTS = 5;

export function formulaTripQuads(program: SampleProgram): number {
  return rowLoads(program) === 'quad' && program.outputs.length <= TWO_QUADS_MAX_OUTPUTS ? 2 : 1;
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
export function accumulate(k: number, n: Node): string {
  const sum = `block_sum[${k}]`;
  if (isProduct(n)) return `  ${sum} = fma(${fusedExpression((n as Bin).left)}, ${fusedExpression((n as Bin).right)}, ${sum});`;
  if (n.kind === 'bin' && n.op === '^' && n.right.kind === 'num' && n.right.value === 2) {
    return `  { let q = ${fusedExpression(n.left)}; ${sum} = fma(q, q, ${sum}); }`;
  }
  return `  ${sum} = ${sum} + ${fusedExpression(n)};`;
}

/** The program's lets and its outputs added to the block sums, after its columns and y_ are bound. */
function programBody(program: SampleProgram, indent: string): string[] {
  const out = program.lets.map(({ name, node }) => `${indent}let ${name} = ${fusedExpression(node)};`);
  program.outputs.forEach((n, k) => out.push(indent + accumulate(k, n).trimStart()));
  return out;
}

/** The lets binding a row's columns (features, then the weight) to their WGSL spellings. */
function bindColumns(program: SampleProgram, column: (k: number) => string, indent: string): string[] {
  const out: string[] = [];
  for (let k = 0; k < program.features; k++) out.push(`${indent}let x${k} = ${column(k)};`);
  if (program.weighted) out.push(`${indent}let w = ${column(program.features)};`);
  return out;
}

/**
 * formula_partials.wgsl's ROW_BODY (load row `row`, run the program, add its outputs to the block sums),
 * QUAD_BODY (the same for rows row .. row + 3; with quad loads `row` is a multiple of 4) and FOLD_BODY (fold
 * the block sums into the compensated totals), unrolled: constant indices only. The names are the
 * program's (p0.., x0.., y_, w, its lets); the skeleton's own carry a nabla_ prefix. The parameters are
 * formula_partials.wgsl's private array `params`.
 */
export function formulaRowCode(program: SampleProgram, loads: RowLoads = rowLoads(program)): { ROW_BODY: string; QUAD_BODY: string; FOLD_BODY: string; LOAD_PARAMS: string } {
  const W = Math.max(1, program.rowWidth);
  const S = program.outputs.length;
  if (loads === 'vec4' && W % 4 !== 0) throw new RangeError(`formula kernel: vec4 rows need a width that is a multiple of 4, got ${W}`);
  const params = Array.from({ length: program.params }, (_, j) => `  let p${j} = params[${j}];`);
  const row: string[] = [];
  if (loads === 'vec4') {
    row.push(`  let nabla_base = row * ${W / 4}u;`);
    for (let q = 0; q < W / 4; q++) row.push(`  let nabla_v${q} = rows_x4[nabla_base + ${q}u];`);
  } else {
    row.push(`  let nabla_base = row * ${W}u;`);
  }
  const rowColumn = (k: number) => loads === 'vec4' ? `nabla_v${k >> 2}.${'xyzw'[k & 3]}`
    : loads === 'quad' ? `rows_x4[(nabla_base + ${k}u) >> 2u][(nabla_base + ${k}u) & 3u]` : `rows_x[nabla_base + ${k}u]`;
  row.push(...params, ...bindColumns(program, rowColumn, '  '));
  row.push(loads === 'quad' ? '  let y_ = rows_y4[row >> 2u][row & 3u];' : '  let y_ = rows_y[row];');
  row.push(...programBody(program, '  '));
  let quad: string[];
  if (loads === 'quad') {
    quad = [`  let nabla_base = (row >> 2u) * ${W}u;`];
    for (let q = 0; q < W; q++) quad.push(`  let nabla_q${q} = rows_x4[nabla_base + ${q}u];`);
    quad.push('  let nabla_y = rows_y4[row >> 2u];', ...params);
    for (let i = 0; i < 4; i++) {
      const column = (k: number) => `nabla_q${(i * W + k) >> 2}.${'xyzw'[(i * W + k) & 3]}`;
      quad.push('  {', ...bindColumns(program, column, '    '), `    let y_ = nabla_y.${'xyzw'[i]};`, ...programBody(program, '    '), '  }');
    }
  } else {
    quad = [0, 1, 2, 3].map((i) => `  add_row(row${i ? ` + ${i}u` : ''});`);
  }
  const load = Array.from({ length: Math.max(1, program.params) }, (_, j) => `  params[${j}] = theta[${j}];`);
  return { ROW_BODY: row.join('\n'), QUAD_BODY: quad.join('\n'), FOLD_BODY: foldBody(S), LOAD_PARAMS: load.join('\n') };
}

/** Folds the S block sums into the compensated totals and clears them: FOLD_BODY of the pass-1 kernels (a `var r: vec2<f32>` in scope). */
export function foldBody(S: number): string {
  const fold: string[] = [];
  for (let k = 0; k < S; k++) {
    fold.push(`  r = neumaier_add(total[${k}], comp[${k}], block_sum[${k}]);`, `  total[${k}] = r.x;`, `  comp[${k}] = r.y;`, `  block_sum[${k}] = 0.0;`);
  }
  return fold.join('\n');
}
