// One per-sample program for every backend: straight-line assignments over the row's features (x0..),
// its target (y), its weight (w) and the parameters (p0..), computing yhat once, then each output. A
// subexpression used twice or more is computed once into a temporary (common subexpressions share a key,
// ast.ts). The emitters (emit-js.ts, emit-wgsl.ts) only spell this program; none knows a model.
import { add, mul, num, pow, sub, substitute, sym, type Node } from './ast.ts';
import { derive } from './derive.ts';
import type { FormulaModel } from './model.ts';

export interface SampleProgram {
  /** Columns per row in the data layout: the features, then the weight when there is one. */
  readonly rowWidth: number;
  readonly features: number;
  readonly params: number;
  readonly weighted: boolean;
  /** let name = node, in order; nodes name x0.., y, w, p0.., and earlier lets. */
  readonly lets: ReadonlyArray<{ name: string; node: Node }>;
  /** The values summed over rows. */
  readonly outputs: readonly Node[];
}

/** Canonical names: the emitters see x0.., p0.., y, w and temporaries t0.. only. */
function canonical(m: FormulaModel): (name: string) => Node | undefined {
  const map = new Map<string, Node>();
  m.features.forEach((f, k) => map.set(f, sym(`x${k}`)));
  m.params.forEach((p, j) => map.set(p, sym(`p${j}`)));
  return (name) => map.get(name);
}

/**
 * Outputs: the P weighted partials dℓ/dθj, then the weighted loss ℓ (the partials row layout of the GPU
 * reduce). The chain rule through yhat, dℓ/dθj = dℓ/dyhat · dyhat/dθj, shares the factor dℓ/dyhat across
 * parameters. Where the loss simplifies once the model is put in (ln σ(z) = −softplus(−z): a loss of a
 * probability from a logit model), the composed loss is differentiated instead, so that it stays finite where
 * yhat rounds to 0 or 1.
 */
export function gradientProgram(m: FormulaModel): SampleProgram {
  const rename = canonical(m);
  const yhat = substitute(m.model, rename);
  const weigh = (n: Node) => (m.spec.weights ? mul(sym('w'), n) : n);
  const composed = substitute(m.loss.tree, (n) => (n === 'yhat' ? yhat : undefined));
  if (composed.key !== placed(m.loss.tree, yhat).key) {
    return straightLine(m, [], [...m.params.map((_, j) => weigh(derive(composed, `p${j}`))), weigh(composed)]);
  }
  const g = weigh(substitute(m.dLoss, (n) => (n === 'yhat' ? yhat : undefined)));
  return straightLine(m, [{ name: 'g', node: g }], [...m.dModel.map((d) => mul(sym('g'), substitute(d, rename))), weigh(composed)]);
}

/** The tree with yhat replaced by the model and nothing simplified: what the composition is before simplifying. */
function placed(n: Node, yhat: Node): Node {
  return n.kind === 'sym' && n.name === 'yhat' ? yhat : rebuild(n, (c) => placed(c, yhat));
}

/** Outputs: yhat alone (predict). */
export function predictionProgram(m: FormulaModel): SampleProgram {
  return straightLine(m, [], [substitute(m.model, canonical(m))]);
}

function straightLine(m: FormulaModel, named: Array<{ name: string; node: Node }>, outputs: Node[]): SampleProgram {
  const shared = shareSubexpressions(named, outputs.map(factorCommon));
  return {
    rowWidth: m.features.length + (m.spec.weights ? 1 : 0),
    features: m.features.length,
    params: m.params.length,
    weighted: m.spec.weights !== null,
    ...shared,
  };
}

/**
 * Deepest expression a let or an output may hold before a part of it becomes a temporary of its own: a sum
 * over hundreds of columns is a tree hundreds deep, and WGSL compilers refuse text nested that deep (Tint:
 * "maximum parser recursive depth reached" at linear(128 columns)). Splitting changes no operation.
 */
export const MAX_LET_DEPTH = 12;

/**
 * Straight-line code for `named` lets and `outputs`: every subexpression used twice or more becomes a
 * temporary t0.., computed once, and so does a part nested MAX_LET_DEPTH deep; the named lets keep their names.
 */
export function shareSubexpressions(named: ReadonlyArray<{ name: string; node: Node }>, outputs: readonly Node[]): { lets: Array<{ name: string; node: Node }>; outputs: Node[] } {
  const roots = [...named.map((n) => n.node), ...outputs];
  const uses = new Map<string, number>();
  const count = (n: Node) => {
    const k = uses.get(n.key) ?? 0;
    uses.set(n.key, k + 1);
    if (k > 0) return; // children counted at the first visit
    if (n.kind === 'neg') count(n.arg);
    else if (n.kind === 'bin') {
      count(n.left);
      count(n.right);
    } else if (n.kind === 'call') n.args.forEach(count);
  };
  roots.forEach(count);
  const lets: Array<{ name: string; node: Node }> = [];
  const temps = new Map<string, Node>();
  // Depth of each rebuilt node (a leaf or a temporary's name is 1).
  const depth = new Map<Node, number>();
  const depthOf = (n: Node) => depth.get(n) ?? 1;
  const hoist = (n: Node): Node => {
    if (n.kind === 'num' || n.kind === 'sym') return n;
    const done = temps.get(n.key);
    if (done) return done;
    const inner = rebuild(n, hoist);
    const children = inner.kind === 'neg' ? [inner.arg] : inner.kind === 'bin' ? [inner.left, inner.right] : inner.kind === 'call' ? inner.args : [];
    const d = 1 + Math.max(0, ...children.map(depthOf));
    depth.set(inner, d);
    if ((uses.get(n.key) ?? 0) < 2 && d < MAX_LET_DEPTH) return inner;
    const name = `t${lets.length}`;
    lets.push({ name, node: inner });
    const ref = sym(name);
    temps.set(n.key, ref);
    return ref;
  };
  for (const { name, node } of named) {
    lets.push({ name, node: hoist(node) });
  }
  return { lets, outputs: outputs.map(hoist) };
}

/**
 * a·c ± b·c as (a ± b)·c, bottom up, a factor common to both products on either side (the distributive law).
 * A partial of a composed loss comes out of the rules as such a sum, e.g. Poisson's exp(η)·x_j − y·x_j:
 * factored, its first factor is the same for every j and shared once (t = exp(η) − y), and each partial is
 * one multiply-add into its sum instead of three operations (y ~ exp(linear(16 columns)), poisson: 2 of
 * 3 operations a row per column saved).
 */
export function factorCommon(n: Node): Node {
  const r = rebuild(n, factorCommon);
  if (r.kind !== 'bin' || (r.op !== '+' && r.op !== '-')) return r;
  const { left, right } = r;
  if (left.kind !== 'bin' || left.op !== '*' || right.kind !== 'bin' || right.op !== '*') return r;
  const join = (a: Node, b: Node) => (r.op === '+' ? add(a, b) : sub(a, b));
  if (left.right.key === right.right.key) return mul(join(left.left, right.left), left.right);
  if (left.left.key === right.left.key) return mul(left.left, join(left.right, right.right));
  if (left.right.key === right.left.key) return mul(join(left.left, right.right), left.right);
  if (left.left.key === right.right.key) return mul(left.left, join(left.right, right.left));
  return r;
}

/** The node with its children mapped, keeping its operator (no re-simplification: the tree is already simple). */
function rebuild(n: Node, f: (c: Node) => Node): Node {
  switch (n.kind) {
    case 'num':
    case 'sym': return n;
    case 'neg': { const arg = f(n.arg); return { kind: 'neg', arg, key: `(-${arg.key})` }; }
    case 'bin': {
      const left = f(n.left);
      const right = f(n.right);
      return { kind: 'bin', op: n.op, left, right, key: `(${left.key}${n.op}${right.key})` };
    }
    case 'call': {
      const args = n.args.map(f);
      return { kind: 'call', fn: n.fn, args, key: `${n.fn}(${args.map((a) => a.key).join(',')})` };
    }
  }
}

/** Index of JᵀJ[a][b] (a <= b) in the packed upper triangle, row by row. */
export function upperIndex(p: number, a: number, b: number): number {
  return a * p - (a * (a - 1)) / 2 + (b - a);
}

/**
 * Gauss-Newton's sums in one pass: outputs the upper triangle of w·j jᵀ (p(p+1)/2 values, row by row), then
 * w·j r (p values), then w·r² (the residual sum of squares), where r = yhat − y and j = dyhat/dθ.
 */
export function normalEquationsProgram(m: FormulaModel): SampleProgram {
  const rename = canonical(m);
  const weigh = (n: Node) => (m.spec.weights ? mul(sym('w'), n) : n);
  const r = sub(substitute(m.model, rename), sym('y'));
  const jac = m.dModel.map((d) => substitute(d, rename));
  const p = jac.length;
  const outputs: Node[] = [];
  for (let a = 0; a < p; a++) for (let b = a; b < p; b++) outputs.push(weigh(mul(sym(`j${a}`), sym(`j${b}`))));
  for (let a = 0; a < p; a++) outputs.push(weigh(mul(sym(`j${a}`), sym('r'))));
  outputs.push(weigh(pow(sym('r'), num(2))));
  return straightLine(m, [{ name: 'r', node: r }, ...jac.map((node, a) => ({ name: `j${a}`, node }))], outputs);
}
