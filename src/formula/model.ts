// A model formula and a loss made into one model: which names are data columns (features) and which are
// parameters, the shorthand linear(...) expanded into named weights and a bias, and the derivative of the
// loss of one sample with respect to every parameter, by the chain rule through yhat:
//   dℓ/dθj = dℓ/dyhat · dyhat/dθj
// A name that is not a column is a parameter and needs a starting value (from the shorthand or --start), so
// that a misspelt column never silently becomes a parameter.
import { mul, substitute, sum, sym, symbols, type Node } from './ast.ts';
import { derive, type DerivationStep } from './derive.ts';
import { parseLoss, type LossSpec } from './losses.ts';
import { FormulaError, JS_OBJECT_NAMES, ownEntry, parseModel } from './parse.ts';
import { CONSTANTS } from './functions.ts';
import { rejectUnknownKeys } from '../core/options.ts';
import { latexNames, print, type LatexNames } from './print.ts';

export interface FormulaSpec {
  /** TARGET ~ EXPRESSION */
  formula: string;
  /** A named loss or a formula of yhat and y; default mse. */
  loss?: string;
  /** A column of row weights: J = (1/N) Σ w_i ℓ_i. */
  weights?: string | null;
}

export interface NameRoles {
  /** The data's columns: every other name is a parameter. */
  columns?: readonly string[];
  /** Without data: the parameters (every other name a column). */
  params?: readonly string[];
}

export interface FormulaModel {
  readonly spec: Required<FormulaSpec>;
  readonly target: string;
  /** yhat as a tree of features and parameters (linear(...) expanded). */
  readonly model: Node;
  readonly loss: LossSpec;
  /** Columns the model reads, in the order a row holds them (the weights column is not among them). */
  readonly features: readonly string[];
  /** theta's layout. */
  readonly params: readonly string[];
  /** Starting values the formula itself gives (linear(...)'s weights and bias start at 0). */
  readonly defaults: Readonly<Record<string, number>>;
  /** The biases linear(...) made: weight decay leaves them alone, as it does a network's biases. */
  readonly biases: readonly string[];
  /** dℓ/dyhat, a tree of yhat and y. */
  readonly dLoss: Node;
  /** dyhat/dθj per parameter. */
  readonly dModel: readonly Node[];
}

export const RESERVED = ['y', 'yhat'];

/** The arguments' own shape, before any parsing: keys, types, and no name both a column and a parameter. */
function checkArguments(spec: FormulaSpec, roles: NameRoles): void {
  rejectUnknownKeys(spec, ['formula', 'loss', 'weights'], 'formula spec');
  rejectUnknownKeys(roles, ['columns', 'params'], 'name roles');
  for (const key of ['columns', 'params'] as const) {
    const names = roles[key];
    if (names !== undefined && !(Array.isArray(names) && names.every((n) => typeof n === 'string'))) {
      throw new TypeError(`name roles: ${key}: expected an array of names, got ${JSON.stringify(names)}`);
    }
  }
  if (roles.columns && roles.params) {
    const both = roles.params.find((p) => roles.columns!.includes(p));
    if (both !== undefined) throw new RangeError(`name roles: "${both}" is among both the columns and the parameters`);
  }
  if (typeof spec?.formula !== 'string') throw new TypeError(`formula: expected the text "TARGET ~ EXPRESSION", got ${typeof spec?.formula}`);
  if (spec.loss !== undefined && typeof spec.loss !== 'string') throw new TypeError(`loss: expected a loss name or a formula of yhat and y, got ${typeof spec.loss}`);
  if (spec.weights !== undefined && spec.weights !== null && (typeof spec.weights !== 'string' || spec.weights === '')) {
    throw new TypeError(`weights: expected the name of a column of row weights (or null), got ${JSON.stringify(spec.weights)}`);
  }
}

export function compileFormula(spec: FormulaSpec, roles: NameRoles): FormulaModel {
  checkArguments(spec, roles);
  const full: Required<FormulaSpec> = { formula: spec.formula, loss: spec.loss ?? 'mse', weights: spec.weights ?? null };
  const text = full.formula;
  // No prototype: a name is a default only where linear(...) made it one.
  const defaults: Record<string, number> = Object.create(null);
  const biases: string[] = [];
  let linearCount = 0;
  const target = targetOf(text);
  const columns = new Set(roles.columns);
  const givenParams = new Set(roles.params);
  // Every name the text writes: a name linear(...) makes must not be one of them (y ~ linear(x) + b has its own b).
  const written = new Set(text.match(/[A-Za-z_][A-Za-z0-9_.]*/g) ?? []);
  const declared = new Map<string, 'column of the data' | 'declared parameter'>([
    ...[...columns].map((c) => [c, 'column of the data'] as const), ...[...givenParams].map((p) => [p, 'declared parameter'] as const),
  ]);
  const { model } = parseModel(text, {
    declared,
    macros: {
      linear: (args, pos) => {
        linearCount++;
        const prefix = linearCount === 1 ? '' : `${linearCount}`;
        const names = args.map((a) => {
          if (a.kind !== 'sym') throw new FormulaError('linear(...) takes column names', text, pos);
          return a.name;
        });
        if (names.length === 0) {
          if (!roles.columns) throw new FormulaError('linear() with no columns means every other numeric column: it needs the data (or name the columns)', text, pos);
          names.push(...roles.columns.filter((c) => c !== target && c !== full.weights));
          if (names.length === 0) throw new FormulaError('linear(): the data has no column besides the target', text, pos);
        }
        const named = new Set(names);
        if (named.size !== names.length) {
          const twice = names.find((c, k) => names.indexOf(c) !== k);
          throw new FormulaError(`linear(...) names the column "${twice}" twice (its two weights could not be told apart)`, text, pos);
        }
        for (const c of names) {
          const notColumn = roles.columns ? !columns.has(c) : givenParams.has(c);
          if (notColumn) throw new FormulaError(`linear(...) takes columns, and "${c}" is not a column of the data${roles.columns ? ` (columns: ${roles.columns.join(', ')})` : ''}`, text, pos);
          if (c === target || c === full.weights) throw new FormulaError(`linear(...) cannot take the ${c === target ? 'target' : 'weights'} column "${c}"`, text, pos);
          if (JS_OBJECT_NAMES.has(c) || ownEntry(CONSTANTS, c) !== undefined) throw new FormulaError(`the column "${c}" cannot be a feature under that name (${JS_OBJECT_NAMES.has(c) ? 'every JavaScript object has a member of that name' : `it is the constant ${c}`}): rename it`, text, pos);
        }
        const free = (name: string) => {
          // A generated name never shadows a column or a name written in the formula: b, then bias, then b_1, ...
          const taken = (n: string) => columns.has(n) || named.has(n) || written.has(n) || n in defaults || n === target;
          for (let k = 0; taken(name); k++) name = k === 0 && name.startsWith('b') ? `bias${prefix}` : `${name.replace(/_\d+$/, '')}_${k}`;
          return name;
        };
        const terms = names.map((c) => {
          const w = free(`w${prefix}_${c}`);
          defaults[w] = 0;
          return mul(sym(w), sym(c));
        });
        const bias = free(`b${prefix}`);
        defaults[bias] = 0;
        biases.push(bias);
        return sum([...terms, sym(bias)]);
      },
    },
  });
  const loss = parseLoss(full.loss);
  const names = symbols(model);
  for (const r of RESERVED) {
    if (names.includes(r) && !(roles.columns?.includes(r))) {
      throw new FormulaError(`"${r}" is reserved in a model: the target is ${target}, the model's output is yhat`, text, namePosition(text, r, text.indexOf('~')));
    }
  }
  if (names.includes(target)) throw new FormulaError(`the model uses its own target "${target}"`, text, namePosition(text, target, text.indexOf('~')));
  if (roles.columns && !roles.columns.includes(target)) {
    throw new FormulaError(`the target "${target}" is not a column of the data (columns: ${roles.columns.join(', ')})`, text, text.indexOf(target));
  }
  if (full.weights !== null) {
    if (full.weights === target) throw new FormulaError(`the weights column "${full.weights}" is the target`, text, text.indexOf(target));
    if (roles.columns && !columns.has(full.weights)) throw new FormulaError(`the weights column "${full.weights}" is not a column of the data (columns: ${roles.columns.join(', ')})`, text, 0);
  }
  const isColumn = (n: string) => (roles.columns ? columns.has(n) : roles.params ? !roles.params.includes(n) && !(n in defaults) : false);
  if (!roles.columns && !roles.params && names.some((n) => !(n in defaults))) {
    throw new FormulaError('say which names are columns (the data, or --columns) or parameters (--params)', text, text.indexOf('~') + 1);
  }
  const features = names.filter((n) => isColumn(n) && !(n in defaults));
  const featureSet = new Set(features);
  const params = names.filter((n) => !featureSet.has(n));
  if (roles.params) {
    // A misspelt parameter would otherwise turn the real one into a column without a word.
    const absent = roles.params.filter((p) => !names.includes(p));
    if (absent.length > 0) {
      throw new RangeError(`params: ${absent.join(', ')} ${absent.length === 1 ? 'is' : 'are'} not in the formula "${text}" (its names: ${[...features, ...params].join(', ') || 'none'})`);
    }
  }
  if (params.length === 0) throw new FormulaError('the model has no parameter to fit (every name is a column)', text, text.indexOf('~') + 1);
  if (full.weights && features.includes(full.weights)) throw new FormulaError(`the weights column "${full.weights}" is also a feature`, text, namePosition(text, full.weights, text.indexOf('~')));
  const dLoss = derive(loss.tree, 'yhat');
  const dModel = params.map((p) => derive(model, p));
  return { spec: full, target, model, loss, features, params, defaults, biases, dLoss, dModel };
}

function targetOf(text: string): string {
  return text.slice(0, Math.max(0, text.indexOf('~'))).trim();
}

/** Where `name` stands as a whole name (not inside a longer one) in text, from `from`: a caret's position. */
function namePosition(text: string, name: string, from: number): number {
  const escaped = name.replace(/[.]/g, '\\.');
  const at = new RegExp(`(?<![A-Za-z0-9_.])${escaped}(?![A-Za-z0-9_.])`, 'g');
  at.lastIndex = Math.max(0, from);
  return at.exec(text)?.index ?? Math.max(0, from);
}

/**
 * The starting parameters: the given values over the formula's defaults; a parameter with neither is an error
 * naming it. No `start` (or null) gives no values: enough where the formula gives every parameter a default.
 * `from` is who gave them, as the errors say it: the API's `start` object, or the CLI's --start flag.
 */
export function startingParameters(m: FormulaModel, start: Readonly<Record<string, number>> | null = {}, from: 'api' | 'cli' = 'api'): Float64Array {
  start ??= {};
  const argument = from === 'cli' ? '--start' : 'start';
  const example = (names: string[]) => (from === 'cli' ? `--start ${names.map((p) => `${p}=1`).join(',')}` : `{ ${names.map((p) => `${p}: 1`).join(', ')} }`);
  if (typeof start !== 'object' || Array.isArray(start) || ArrayBuffer.isView(start)) {
    throw new TypeError(`start: expected an object of starting values by parameter name (e.g. { b1: 500 }), got ${Array.isArray(start) || ArrayBuffer.isView(start) ? 'an array' : typeof start}`);
  }
  for (const name of Object.keys(start)) {
    const value = start[name];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`${argument}: "${name}" = ${String(value)} is not a finite number`);
    if (!m.params.includes(name)) {
      const hint = m.features.includes(name) ? ` (it is a column of the data)` : '';
      throw new RangeError(`${argument}: "${name}" is not a parameter of the model${hint}; parameters: ${m.params.join(', ')}`);
    }
  }
  const missing = m.params.filter((p) => !Object.hasOwn(start, p) && !Object.hasOwn(m.defaults, p));
  if (missing.length > 0) {
    throw new RangeError(`${argument}: no starting value for ${missing.map((p) => `"${p}"`).join(', ')} (a name that is not a column is a parameter: give it a value, e.g. ${example(missing)}, or check the column's spelling)`);
  }
  return Float64Array.from(m.params, (p) => (Object.hasOwn(start, p) ? start[p] : m.defaults[p]));
}

/** The derivation, per parameter: the chain rule's two factors, the steps that found each, and the product. */
export interface Derivation {
  loss: { of: Node; steps: DerivationStep[]; result: Node };
  params: Array<{ name: string; steps: DerivationStep[]; dModel: Node }>;
}

export function derivation(m: FormulaModel): Derivation {
  const lossSteps: DerivationStep[] = [];
  const dLoss = derive(m.loss.tree, 'yhat', lossSteps);
  return {
    loss: { of: m.loss.tree, steps: lossSteps, result: dLoss },
    params: m.params.map((name) => {
      const steps: DerivationStep[] = [];
      const dModel = derive(m.model, name, steps);
      return { name, steps, dModel };
    }),
  };
}

/** How this model's names are typeset in its derivation: never two names alike (see latexNames). */
export function modelLatexNames(m: FormulaModel): LatexNames {
  return latexNames([m.target, ...RESERVED, ...m.features, ...m.params]);
}

/** The loss of one sample as a tree of features, target and parameters (yhat replaced by the model). */
export function sampleLoss(m: FormulaModel): Node {
  return substitute(m.loss.tree, (n) => (n === 'yhat' ? m.model : undefined));
}

export function describe(m: FormulaModel): string {
  return `${m.target} ~ ${print(m.model)}  with loss ${m.loss.text}`;
}
