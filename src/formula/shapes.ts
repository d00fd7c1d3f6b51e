// Shapes of a compiled model that a specialised kernel computes faster than the generated row sums. A
// shape is read from the trees (the model's yhat and the loss), never from the formula's text, so the
// linear(...) macro, a hand-written `w*x + b` and any order of the terms are the same shape. A backend asks
// for a shape and, where it has one, runs its own kernel behind the same engine API; everything it cannot
// prove about a model keeps the generated kernel.
import { add, binary, call, neg, num, pow, sub, sumTerms, sym, symbols, type Node } from './ast.ts';
import { derive } from './derive.ts';
import type { FormulaModel } from './model.ts';

/**
 * yhat = Σ_c θ[weights[c]]·x_c + θ[bias] with the loss (yhat − y)², unweighted: the linear kernel's
 * sums (Σ r·x_c, Σ r, Σ r² with r = yhat − y) give every output of the gradient program.
 */
export interface LinearShape {
  /** weights[c]: the index in model.params of the parameter multiplying feature column c (model.features order). */
  readonly weights: readonly number[];
  /** The index in model.params of the bias. */
  readonly bias: number;
}

// (y − yhat)² is the same loss with the same derivative; both spellings count.
const SQUARED_ERROR_KEYS = [pow(sub(sym('yhat'), sym('y')), num(2)).key, pow(sub(sym('y'), sym('yhat')), num(2)).key];

/**
 * The model as a linear shape, or null: every term of the sum is a parameter times a feature column or
 * the bias alone; each column and each parameter appears once; there is at least one column and exactly
 * one bias; the loss is the squared error without row weights.
 */
export function linearShape(m: FormulaModel): LinearShape | null {
  if (m.spec.weights !== null) return null;
  if (!SQUARED_ERROR_KEYS.includes(m.loss.tree.key)) return null;
  const sum = linearSum(m, m.model);
  return sum && sum.weights.length + 1 === m.params.length ? sum : null;
}

/**
 * The sum as Σ_c θ[weights[c]]·x_c + θ[bias] over every feature column, or null: each term a parameter times
 * a column, or the bias alone; each column and each parameter once; at least one column, one bias.
 */
function linearSum(m: FormulaModel, n: Node): LinearShape | null {
  if (m.features.length === 0) return null;
  const weights: number[] = new Array(m.features.length).fill(-1);
  let bias = -1;
  const used = new Set<number>();
  const paramIndex = new Map(m.params.map((p, j) => [p, j]));
  const columnIndex = new Map(m.features.map((c, k) => [c, k]));
  const param = (n: Node) => (n.kind === 'sym' ? paramIndex.get(n.name) ?? -1 : -1);
  const column = (n: Node) => (n.kind === 'sym' ? columnIndex.get(n.name) ?? -1 : -1);
  for (const term of sumTerms(n)) {
    if (term.kind === 'sym') {
      const p = param(term);
      if (p < 0 || used.has(p) || bias >= 0) return null;
      bias = p;
      used.add(p);
      continue;
    }
    if (term.kind !== 'bin' || term.op !== '*') return null;
    const [p, c] = param(term.left) >= 0 ? [param(term.left), column(term.right)] : [param(term.right), column(term.left)];
    if (p < 0 || c < 0 || used.has(p) || weights[c] >= 0) return null;
    weights[c] = p;
    used.add(p);
  }
  if (bias < 0 || weights.includes(-1)) return null;
  return { weights, bias };
}

/** The reduced model's one column: the linear predictor without its bias, η = Σ_c θ_c·x_c. */
export const ETA = 'eta';

/**
 * yhat = F(η + b, q) with η = Σ_c θ_c·x_c over every feature column, the columns, the weights θ_c and the bias b
 * nowhere else in F, any loss, row weights or not: a generalised linear model. By the chain rule each
 * weight's partial is the bias's times its column, ∂ℓ/∂θ_c = (∂ℓ/∂b)·x_c, so a row's P + 1 outputs come from
 * the `reduced` model, F(η + b, q) of the one column η and the parameters b, q.. (the bias first, the others
 * in the model's order), whose gradient program gives ∂ℓ/∂b, ∂ℓ/∂q.. and ℓ: what a kernel that computes η
 * and the column sums Σ (∂ℓ/∂b)·x_c itself needs from the compiler. F may hold η + b more than once.
 */
export interface LinearPredictorShape extends LinearShape {
  readonly reduced: FormulaModel;
  /** reducedParams[j]: the index in model.params of the reduced model's parameter j (reducedParams[0] = bias). */
  readonly reducedParams: readonly number[];
}

export function linearPredictor(m: FormulaModel): LinearPredictorShape | null {
  const sum = sumsOf(m.model).map((s) => ({ node: s, shape: linearSum(m, s) })).find((s) => s.shape !== null);
  if (!sum?.shape) return null;
  const { weights, bias } = sum.shape;
  const biasName = m.params[bias];
  const outside = replaceSubtree(m.model, sum.node.key, sym(ETA));
  const names = new Set(symbols(outside));
  if (names.has(biasName) || weights.some((p) => names.has(m.params[p])) || m.features.some((f) => names.has(f)) || !names.has(ETA)) return null;
  if (m.params.includes(ETA)) return null;
  const model = replaceSubtree(m.model, sum.node.key, add(sym(ETA), sym(biasName)));
  const isWeight = new Set(weights);
  const reducedParams = [bias, ...m.params.map((_, j) => j).filter((j) => j !== bias && !isWeight.has(j))];
  const params = reducedParams.map((j) => m.params[j]);
  const reduced: FormulaModel = {
    ...m, model, features: [ETA], params, defaults: {}, biases: [], dModel: params.map((p) => derive(model, p)),
  };
  return { weights, bias, reduced, reducedParams };
}

/** The maximal sums of a tree (a '+' whose parent is no '+'), outermost first, those inside its terms too. */
function sumsOf(n: Node, into: Node[] = []): Node[] {
  if (n.kind === 'bin' && n.op === '+') {
    into.push(n);
    for (const term of sumTerms(n)) sumsOf(term, into);
    return into;
  }
  if (n.kind === 'neg') sumsOf(n.arg, into);
  else if (n.kind === 'bin') {
    sumsOf(n.left, into);
    sumsOf(n.right, into);
  } else if (n.kind === 'call') n.args.forEach((a) => sumsOf(a, into));
  return into;
}

/** The tree with every subtree of key `key` replaced by `by`. */
function replaceSubtree(n: Node, key: string, by: Node): Node {
  if (n.key === key) return by;
  switch (n.kind) {
    case 'num':
    case 'sym': return n;
    case 'neg': return neg(replaceSubtree(n.arg, key, by));
    case 'bin': return binary(n.op, replaceSubtree(n.left, key, by), replaceSubtree(n.right, key, by));
    case 'call': return call(n.fn, n.args.map((a) => replaceSubtree(a, key, by)));
  }
}
