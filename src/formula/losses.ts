// Losses of one sample as formulas of yhat (the model's output) and y (the target), by name or written out.
// A named loss may take one argument after a colon (huber:2). Each says what yhat means for it and which
// targets it applies to; the target check runs on the data before training. J is the mean of the (row-
// weighted) per-sample losses. A loss is in the data's own units: formula models are not standardized.
import { symbols, type Node } from './ast.ts';
import { FormulaError, ownEntry, parseExpression } from './parse.ts';

export interface LossSpec {
  /** The name (mse, huber, ...) or 'custom'. */
  name: string;
  /** As given: mse, huber:2, or the formula. */
  text: string;
  /** The loss of one sample as a tree of yhat and y. */
  tree: Node;
  /** What the model's output means for this loss. */
  yhat: string;
  /** (yhat - y)^2: Levenberg-Marquardt's residual form. */
  squaredError: boolean;
  /** Why a target value cannot be used with this loss, or null. */
  checkTarget(y: number): string | null;
}

interface NamedLoss {
  formula: (arg: number) => string;
  yhat: string;
  arg?: { name: string; fallback: number; check: (v: number) => string | null };
  squaredError?: boolean;
  checkTarget?: (y: number) => string | null;
}

const probability = (y: number) => (y >= 0 && y <= 1 ? null : 'expected a 0/1 label or a probability in [0, 1]');

export const NAMED_LOSSES: Readonly<Record<string, NamedLoss>> = {
  mse: { formula: () => '(yhat - y)^2', yhat: 'the conditional mean of y', squaredError: true },
  mae: { formula: () => 'abs(yhat - y)', yhat: 'the conditional median of y' },
  huber: {
    // huber(r, δ) = min(|r|, δ)(|r| − min(|r|, δ)/2) is r²/2 for |r| <= δ and δ(|r| − δ/2) beyond (functions.ts).
    formula: (d) => `huber(yhat - y, ${d})`,
    yhat: 'a robust mean of y (quadratic within δ of it, linear beyond; δ in the target\'s units)',
    arg: { name: 'δ', fallback: 1, check: (v) => (v > 0 ? null : 'δ must be positive') },
  },
  quantile: {
    formula: (t) => `max(${t} * (y - yhat), (${t} - 1) * (y - yhat))`,
    yhat: 'the τ-quantile of y (the pinball loss)',
    arg: { name: 'τ', fallback: 0.5, check: (v) => (v > 0 && v < 1 ? null : 'τ must lie strictly between 0 and 1') },
  },
  poisson: {
    formula: () => 'yhat - y * log(yhat)',
    yhat: 'the mean count (> 0; write the model as exp(...) for a log link: the loss becomes exp(η) − y·η)',
    checkTarget: (y) => (y >= 0 ? null : 'expected a count (>= 0)'),
  },
  logistic: {
    formula: () => 'softplus(yhat) - y * yhat',
    yhat: 'the logit (log-odds) of P(y = 1)',
    checkTarget: probability,
  },
  'cross-entropy': {
    formula: () => '-(y * log(yhat) + (1 - y) * log(1 - yhat))',
    yhat: 'the probability P(y = 1) (write sigmoid(...) for a logit model: the logs are then taken stably)',
    checkTarget: probability,
  },
  cauchy: {
    // cauchy(r, c) = (c²/2) ln(1 + (r/c)²), spelled so that (r/c)² never overflows (functions.ts).
    formula: (c) => `cauchy(yhat - y, ${c})`,
    yhat: 'a location of y robust to outliers (c in the target\'s units)',
    arg: { name: 'c', fallback: 1, check: (v) => (v > 0 ? null : 'c must be positive') },
  },
  logcosh: {
    // log cosh r = |r| + softplus(−2|r|) − ln 2, which never overflows.
    formula: () => 'abs(yhat - y) + softplus(-2 * abs(yhat - y)) - log(2)',
    yhat: 'a smooth robust mean of y',
  },
};

export function parseLoss(text: string): LossSpec {
  if (typeof text !== 'string') throw new TypeError(`loss: expected a loss name or a formula of yhat and y, got ${typeof text}`);
  const trimmed = text.trim();
  // Positions are reported in the text as given, leading spaces included.
  const lead = text.length - text.trimStart().length;
  const m = /^([a-z-]+)(?::(.*))?$/.exec(trimmed);
  const named = m ? ownEntry(NAMED_LOSSES, m[1]) : undefined;
  if (m && named) {
    let arg = named.arg?.fallback ?? 0;
    if (m[2] !== undefined) {
      if (!named.arg) throw new FormulaError(`the ${m[1]} loss takes no argument`, text, lead + m[1].length);
      arg = Number(m[2]);
      if (m[2].trim() === '' || !Number.isFinite(arg)) throw new FormulaError(`${named.arg.name} must be a number`, text, lead + m[1].length + 1);
      const bad = named.arg.check(arg);
      if (bad) throw new FormulaError(bad, text, lead + m[1].length + 1);
    }
    return {
      name: m[1], text: trimmed, tree: parseExpression(named.formula(arg)), yhat: named.yhat,
      squaredError: named.squaredError ?? false, checkTarget: named.checkTarget ?? (() => null),
    };
  }
  if (m && !/[()*+/^]/.test(trimmed) && !['yhat', 'y'].includes(m[1])) {
    throw new FormulaError(`unknown loss "${m[1]}" (named losses: ${Object.keys(NAMED_LOSSES).join(', ')}; or a formula of yhat and y)`, text, lead);
  }
  const tree = parseExpression(trimmed, {}, lead, text);
  for (const name of symbols(tree)) {
    if (name !== 'yhat' && name !== 'y') {
      throw new FormulaError(`a loss formula may name only yhat and y, found "${name}"`, text, lead + Math.max(0, trimmed.search(new RegExp(`\\b${name.replace('.', '\\.')}\\b`))));
    }
  }
  if (!symbols(tree).includes('yhat')) throw new FormulaError('a loss formula must depend on yhat', text, lead);
  return { name: 'custom', text: trimmed, tree, yhat: 'what the formula makes of it', squaredError: isSquaredError(tree), checkTarget: () => null };
}

function isSquaredError(tree: Node): boolean {
  return tree.key === parseExpression('(yhat - y)^2').key || tree.key === parseExpression('(y - yhat)^2').key;
}
