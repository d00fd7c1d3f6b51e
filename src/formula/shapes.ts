// Shapes of a compiled model that a specialised kernel computes faster than the generated row sums. A
// shape is read from the trees (the model's yhat and the loss), never from the formula's text, so the
// linear(...) macro, a hand-written `w*x + b` and any order of the terms are the same shape. A backend asks
// for a shape and, where it has one, runs its own kernel behind the same engine API; everything it cannot
// prove about a model keeps the generated kernel.
import { num, pow, sub, sym, type Node } from './ast.ts';
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
  if (m.features.length === 0) return null;
  const weights: number[] = new Array(m.features.length).fill(-1);
  let bias = -1;
  const used = new Set<number>();
  const param = (n: Node) => (n.kind === 'sym' ? m.params.indexOf(n.name) : -1);
  const column = (n: Node) => (n.kind === 'sym' ? m.features.indexOf(n.name) : -1);
  for (const term of sumTerms(m.model)) {
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
  if (bias < 0 || weights.includes(-1) || used.size !== m.params.length) return null;
  return { weights, bias };
}

/** The operands of a tree of '+' (the tree itself when it is no sum). */
function sumTerms(n: Node, into: Node[] = []): Node[] {
  if (n.kind === 'bin' && n.op === '+') {
    sumTerms(n.left, into);
    sumTerms(n.right, into);
  } else into.push(n);
  return into;
}
