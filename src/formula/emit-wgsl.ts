// The per-sample program as a WGSL function, spliced by the GPU pass (src/gpu/formula/) into its reduce
// skeleton:
//   fn nabla_sample(p: array<f32, P>, x: array<f32, W>, y_: f32) -> array<f32, S>
// returns the program's S outputs for one row (x holds the row's W = features + weight columns). Literals are
// written as f32 (2.0, not 2, so that select() and min() never see integers); powers with small integer
// exponents are products (WGSL's pow is undefined for a negative base).
import { FLOAT32_MAX } from '../core/float32.ts';
import type { Node } from './ast.ts';
import { FUNCTIONS, WGSL_HELPERS } from './functions.ts';
import type { SampleProgram } from './program.ts';

export function wgslNumber(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`WGSL: the constant ${v} is not a finite f32`);
  if (Math.abs(v) > FLOAT32_MAX) throw new RangeError(`WGSL: the constant ${v} overflows f32`);
  const s = String(Math.abs(v));
  const lit = /[.e]/.test(s) ? s : `${s}.0`;
  return v < 0 ? `(-${lit})` : lit;
}

export function wgslExpression(n: Node): string {
  switch (n.kind) {
    case 'num': return wgslNumber(n.value);
    case 'sym': return n.name === 'y' ? 'y_' : n.name;
    case 'neg': return `(-${wgslExpression(n.arg)})`;
    case 'bin': {
      const a = wgslExpression(n.left);
      if (n.op !== '^') return `(${a} ${n.op} ${wgslExpression(n.right)})`;
      const e = n.right.kind === 'num' ? n.right.value : null;
      if (e === 2) return `nabla_sq(${a})`;
      if (e === 3) return `nabla_cube(${a})`;
      if (e === -1) return `(1.0 / ${a})`;
      if (e === 0.5) return `sqrt(${a})`;
      if (e !== null && Number.isInteger(e)) return `nabla_powi(${a}, ${e})`;
      return `nabla_pow(${a}, ${wgslExpression(n.right)})`;
    }
    case 'call': return FUNCTIONS[n.fn].wgsl(...n.args.map(wgslExpression));
  }
}

/** Integer powers as WGSL functions (wgslExpression spells x^2, x^3, x^k through them). */
export const POWER_HELPERS = `
fn nabla_sq(v: f32) -> f32 {
  return v * v;
}
fn nabla_cube(v: f32) -> f32 {
  return v * v * v;
}
fn nabla_powi(v: f32, k: i32) -> f32 {
  // An integer power of a negative base has the sign of the base when k is odd; 0^k for k < 0 is ∞.
  let m = nabla_pow(abs(v), f32(k));
  return select(m, -m, v < 0.0 && (k % 2) != 0);
}
`;

/**
 * Every helper function the WGSL of these trees calls: the fixed ones (WGSL_HELPERS, POWER_HELPERS) and, for
 * a function of any number of arguments (logsumexp), its helper for each argument count that occurs.
 */
export function wgslHelpers(trees: readonly Node[]): string {
  return [WGSL_HELPERS, POWER_HELPERS, ...sizedHelpers(trees)].join('\n');
}

/** The helpers of the functions of any number of arguments, one per function and argument count. */
function sizedHelpers(trees: readonly Node[]): string[] {
  const sized = new Map<string, string>();
  const seen = new Set<string>();
  const visit = (n: Node): void => {
    if (seen.has(n.key)) return;
    seen.add(n.key);
    if (n.kind === 'neg') visit(n.arg);
    else if (n.kind === 'bin') {
      visit(n.left);
      visit(n.right);
    } else if (n.kind === 'call') {
      const helper = FUNCTIONS[n.fn].wgslHelper;
      const id = `${n.fn}/${n.args.length}`;
      if (helper && !sized.has(id)) sized.set(id, helper(n.args.length));
      n.args.forEach(visit);
    }
  };
  trees.forEach(visit);
  return [...sized.values()];
}

/** The helpers and nabla_sample(): everything a skeleton needs from the formula. */
export function wgslSampleFunction(p: SampleProgram): string {
  const S = p.outputs.length;
  const W = Math.max(1, p.rowWidth);
  const lines = [WGSL_HELPERS, POWER_HELPERS, ...sizedHelpers([...p.lets.map((l) => l.node), ...p.outputs])];
  lines.push(`const SAMPLE_OUTPUTS: u32 = ${S}u;`);
  lines.push(`const ROW_WIDTH: u32 = ${W}u;`);
  lines.push(`const PARAMS: u32 = ${Math.max(1, p.params)}u;`);
  lines.push(`fn nabla_sample(p: array<f32, ${Math.max(1, p.params)}>, x: array<f32, ${W}>, y_: f32) -> array<f32, ${S}> {`);
  for (let j = 0; j < p.params; j++) lines.push(`  let p${j} = p[${j}];`);
  for (let k = 0; k < p.features; k++) lines.push(`  let x${k} = x[${k}];`);
  if (p.weighted) lines.push(`  let w = x[${p.features}];`);
  for (const { name, node } of p.lets) lines.push(`  let ${name} = ${wgslExpression(node)};`);
  lines.push(`  return array<f32, ${S}>(${p.outputs.map(wgslExpression).join(', ')});`);
  lines.push('}');
  return lines.join('\n');
}
