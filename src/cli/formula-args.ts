// The flags of formula models (`train --formula`, `derive`), validated like every other flag in args.ts:
// each check names its flag. The formula and the loss are parsed here already, so that a syntax error or an
// unknown function is reported (with the formula and a caret under the place) before any data is read.
import { FormulaError, parseModel } from '../formula/parse.ts';
import { parseLoss } from '../formula/losses.ts';
import { sym } from '../formula/ast.ts';
import { UsageError, type Flags, type TrainArgs } from './args.ts';

export interface DeriveArgs {
  command: 'derive';
  formula: string;
  loss?: string;
  /** Which names are columns: a list, or a data file's header; or, with params, which are parameters. */
  columns?: string[];
  params?: string[];
  data?: string;
  json: boolean;
}

/** Flags a formula model has no use for: its formula names its columns and is its model. */
const NOT_WITH_FORMULA: Record<string, string> = {
  model: 'the formula is the model',
  hidden: 'the formula is the model',
  activation: 'the formula is the model',
  classes: 'a formula model fits a number target (0/1 labels for the logistic and cross-entropy losses)',
  features: 'the formula names the columns it reads',
  target: 'the formula names the target, left of "~"',
};

/** The flags only a formula model takes. */
export const FORMULA_ONLY = ['loss', 'start', 'weights'] as const;

/** A FormulaError from the formula or the loss as a usage error naming the flag (the caret lines follow). */
export function formulaFlagError(flag: string, e: unknown): unknown {
  return e instanceof FormulaError ? new UsageError(`--${flag}: ${e.message}`) : e;
}

/** Parses the formula and the loss alone (no data yet): a syntax error or an unknown function is an error now. */
export function checkFormulaSyntax(formula: string | undefined, loss: string | undefined): void {
  if (formula !== undefined) {
    try {
      // linear(...) needs the columns to expand; here only its syntax matters.
      parseModel(formula, { macros: { linear: () => sym('linear') } });
    } catch (e) {
      throw formulaFlagError('formula', e);
    }
  }
  if (loss !== undefined) {
    try {
      parseLoss(loss);
    } catch (e) {
      throw formulaFlagError('loss', e);
    }
  }
}

/**
 * --start b1=500,b2=1e-4. The record has no prototype, so that a name such as constructor or __proto__ is
 * only ever one of the user's items (and then refused as no parameter of the model), never an inherited member.
 */
export function parseStart(raw: string, number: (flag: string, raw: string) => number): Record<string, number> {
  const out: Record<string, number> = Object.create(null);
  for (const item of raw.split(',')) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq).trim();
    if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) throw new UsageError(`--start: expected NAME=VALUE items separated by commas, got "${item.trim()}"`);
    if (Object.hasOwn(out, name)) throw new UsageError(`--start: "${name}" is given twice`);
    out[name] = number(`--start (${name})`, item.slice(eq + 1));
  }
  return out;
}

/** The formula flags of train: sets args.formula, loss, start, weightsColumn, or refuses what cannot apply. */
export function formulaTrainFlags(args: TrainArgs, v: Flags, number: (flag: string, raw: string) => number): void {
  const formula = v.str('formula');
  const resuming = args.resume !== undefined;
  if (formula === undefined) {
    // On a resume the saved model decides; resume.ts refuses these there when it is not a formula model.
    if (!resuming) {
      // --loss also applies to a network on the model trainer (one output); its own checks are in args.ts.
      const orphan = FORMULA_ONLY.find((f) => v.has(f) && !(f === 'loss' && args.engine === 'model'));
      if (orphan === 'loss') {
        throw new UsageError('--loss: the linear model\'s default path (--model linear without model-trainer flags) standardizes the target and trains the squared error only; add --optimizer (sgd, adam, ...) to train --model linear under another loss in the data\'s units, or --formula "Y ~ EXPR"');
      }
      if (orphan) throw new UsageError(`--${orphan}: applies to formula models only (add --formula "Y ~ EXPR")`);
    }
  } else {
    for (const [flag, why] of Object.entries(NOT_WITH_FORMULA)) {
      if (v.has(flag)) throw new UsageError(`--${flag}: does not apply with --formula (${why})`);
    }
    args.formula = formula;
    args.engine = 'formula';
  }
  const loss = v.str('loss');
  if (loss !== undefined) args.loss = loss;
  const start = v.str('start');
  if (start !== undefined) args.start = parseStart(start, number);
  const weights = v.str('weights');
  if (weights !== undefined) args.weightsColumn = weights.trim();
  checkFormulaSyntax(formula, loss);
  if (formula === undefined) return;
  if (args.data === null) throw new UsageError('--data: required with --formula (the formula\'s columns are read from it)');
  if (v.has('seed') && args.batchSize === undefined) {
    throw new UsageError('--seed: a formula model starts from --start and its full-batch training draws nothing; --seed applies with --batch-size');
  }
}

export function deriveArgs(v: Flags): DeriveArgs {
  const formula = v.str('formula');
  if (formula === undefined) throw new UsageError('--formula: required for derive');
  const roles = ['columns', 'params', 'data'].filter((f) => v.has(f));
  if (roles.length > 1) throw new UsageError(`--${roles[1]}: give one of --columns, --params or --data (not with --${roles[0]})`);
  const args: DeriveArgs = { command: 'derive', formula, json: v.has('json') };
  const loss = v.str('loss');
  if (loss !== undefined) args.loss = loss;
  const columns = v.list('columns');
  if (columns) args.columns = columns;
  const params = v.list('params');
  if (params) args.params = params;
  const data = v.str('data');
  if (data !== undefined) args.data = data;
  checkFormulaSyntax(formula, loss);
  return args;
}

/**
 * A --batch-size at or above the row count trains full batch (the rows are only known once read): there a seed
 * of a model whose start draws nothing (a formula, the linear model) has nothing to order either.
 */
export function checkSeedHasBatches(args: TrainArgs, rows: number): void {
  if (!args.given.includes('seed') || args.batchSize === undefined || args.batchSize < rows) return;
  throw new UsageError(`--seed: --batch-size ${args.batchSize} covers all ${rows} rows, so training is full batch and draws nothing; drop --seed, or give a --batch-size below ${rows}`);
}
