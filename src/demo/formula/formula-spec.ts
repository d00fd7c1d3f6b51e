// The formula mode's inputs made into a model: which names are columns (the file's, or for generated data
// the x-names), the compile with its errors located (the formula's or the loss's text, and the column), and
// example formulas with data and starting values that train well. Pure: unit-testable without a page.
import { NAMED_LOSSES, parseLoss } from '../../formula/losses.ts';
import { compileFormula, type FormulaModel } from '../../formula/model.ts';
import { FormulaError } from '../../formula/parse.ts';

export const DEFAULT_FORMULA = 'y ~ b1*(1-exp(-b2*x))';

/** Where a compile failed: the text to draw, the 0-based column to point at, and why. */
export interface SpecError {
  field: 'formula' | 'loss' | 'other';
  reason: string;
  text: string;
  position: number;
}

export type Compiled = { ok: true; model: FormulaModel } | { ok: false; error: SpecError };

/**
 * Generated data has no header to say which names are columns: x, x1, x2, ... are the features, the name
 * before "~" the target, and every other name a parameter (so b1 is one and x1 is not).
 */
export function generatedColumns(formula: string): string[] {
  const tilde = formula.indexOf('~');
  const target = tilde < 0 ? '' : formula.slice(0, tilde).trim();
  const names = new Set(formula.slice(tilde + 1).match(/[A-Za-z_][A-Za-z0-9_.]*/g) ?? []);
  return [...names].filter((n) => /^x\d*$/.test(n)).concat(target ? [target] : []);
}

/** Never throws: a FormulaError keeps its column, anything else is reported without one. */
export function compileSpec(formula: string, loss: string, columns: readonly string[]): Compiled {
  try {
    return { ok: true, model: compileFormula({ formula, loss }, { columns }) };
  } catch (e) {
    if (e instanceof FormulaError) {
      // A loss is parsed from its own text: an error whose text is not the formula is the loss's.
      const field = e.formula === formula ? 'formula' : 'loss';
      return { ok: false, error: { field, reason: e.reason, text: e.formula, position: e.position } };
    }
    return { ok: false, error: { field: 'other', reason: (e as Error).message, text: '', position: 0 } };
  }
}

/** A generated dataset's settings: features uniform in [lo, hi), y = the model at `truth` + N(0, noise²). */
export interface Preset {
  lo: number;
  hi: number;
  noise: number;
  truth: Record<string, number>;
  start: Record<string, number>;
  lr: number;
  epochs: number;
}

/**
 * Examples whose parameters have similar scales, since Adam moves every parameter by about η per step: for
 * the saturating curve x is in thousands, so b2 is 1 per thousand (1e-3 per unit) next to b1 = 500.
 */
export const EXAMPLES: Readonly<Record<string, Preset>> = {
  [DEFAULT_FORMULA]: { lo: 0, hi: 5, noise: 10, truth: { b1: 500, b2: 1 }, start: { b1: 100, b2: 0.5 }, lr: 1, epochs: 2000 },
  'y ~ a*exp(-k*x) + c': { lo: 0, hi: 5, noise: 0.05, truth: { a: 2, k: 1.5, c: 0.5 }, start: { a: 1, k: 0.5, c: 0 }, lr: 0.05, epochs: 2000 },
  'y ~ L/(1 + exp(-k*(x - m)))': { lo: 0, hi: 10, noise: 0.05, truth: { L: 3, k: 1.2, m: 5 }, start: { L: 1, k: 0.5, m: 3 }, lr: 0.05, epochs: 2000 },
  'y ~ linear(x1, x2)': { lo: -2, hi: 2, noise: 0.1, truth: { w_x1: 1.5, w_x2: -0.7, b: 0.3 }, start: {}, lr: 0.05, epochs: 1000 },
};

/** The example with this formula, ignoring spaces, and its key in EXAMPLES. */
export function exampleFor(formula: string): { key: string; preset: Preset } | null {
  const bare = formula.replace(/\s+/g, '');
  for (const [key, preset] of Object.entries(EXAMPLES)) if (key.replace(/\s+/g, '') === bare) return { key, preset };
  return null;
}

/**
 * What a parameter starts at and what generates the data, when nothing was typed for it. Only the formula
 * gives a start (linear(...)'s weights and bias): any other name has none, so that a misspelt column is
 * reported rather than silently trained as a parameter.
 */
export function fallbackValues(model: FormulaModel, name: string): { start: number | null; truth: number } {
  return { start: model.defaults[name] ?? null, truth: 1 };
}

/** Why training cannot start while these parameters have no starting value. */
export function missingStartMessage(names: readonly string[]): string {
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `${list} ${names.length === 1 ? 'has' : 'have'} no starting value: a name that is not a column is a parameter; give it a value or check the column's spelling`;
}

/** The argument a named loss takes (huber's δ, quantile's τ, cauchy's c) and its default, or null. */
export function lossArgument(name: string): { name: string; fallback: number } | null {
  const arg = NAMED_LOSSES[name]?.arg;
  return arg ? { name: arg.name, fallback: arg.fallback } : null;
}

/** The loss text for a named loss and its argument field (huber:2), or why the argument cannot be used. */
export function namedLossText(name: string, argText: string): { text: string } | { error: string } {
  if (!lossArgument(name)) return { text: name };
  const text = `${name}:${argText.trim()}`;
  try {
    parseLoss(text);
    return { text };
  } catch (e) {
    if (e instanceof FormulaError) return { error: `the ${name} loss's ${e.reason}` };
    throw e;
  }
}

/**
 * The contour's two parameters (indices into `params`) after the formula changed: each axis keeps its
 * parameter by name where the new model still has it, since indices shift when a term comes or goes; an
 * axis whose parameter is gone takes the first the other axis does not show (the map needs two).
 */
export function keptAxes(params: readonly string[], across: string | undefined, up: string | undefined): [number, number] {
  let a = across === undefined ? -1 : params.indexOf(across);
  let b = up === undefined ? -1 : params.indexOf(up);
  const other = (taken: number) => Math.max(0, params.findIndex((_, j) => j !== taken));
  if (a < 0 && b < 0) return [0, Math.min(1, params.length - 1)];
  if (a < 0) a = other(b);
  if (b < 0) b = other(a);
  return [a, b];
}
