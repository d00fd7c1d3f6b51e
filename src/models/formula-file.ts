// A saved formula model (`train --formula ... --save F.json`): the formula text, the loss, the weights
// column, the parameters by name and value, and the optimizer state, in the same file format and version as
// the network models (model-file.ts) with model.kind 'formula'. The formula is kept as text and compiled
// again on load, so the file holds what the user wrote, not a tree of this version's making.
import { validateOptimizer } from '../optim/config.ts';
import { validateSchedule } from '../optim/schedule.ts';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, checkChunkRows, checkDivergedMark, readModelJson, validateSavedModel, type SavedModel } from './model-file.ts';

export interface FormulaConfig {
  kind: 'formula';
  formula: string;
  loss: string;
  /** The row-weights column, or null. */
  weights: string | null;
  /** Parameter names in the order of `parameters`. */
  params: string[];
}

/** A formula model trained by gradient descent: the network models' training fields and the --start values. */
export type FormulaDescentTraining = SavedModel['training'] & {
  /** The --start values the run began from (a resume may repeat them). */
  start: Record<string, number>;
};

/**
 * A curve fit (--optimizer lm): the --start values and what the fit found. No optimizer, rate, schedule, seed or
 * moments: none of them took part. Files written while the format asked every formula model for them hold
 * placeholders as well, which load and are never read.
 */
export interface FormulaFitTraining {
  start: Record<string, number>;
  fit: {
    method: 'levenberg-marquardt';
    standardErrors: Record<string, number> | null;
    covariance: number[][] | null;
    rss: number;
    dof: number;
    stopReason: string;
  };
}

interface SavedFormulaFields extends Omit<SavedModel, 'model' | 'standardization' | 'classes' | 'training'> {
  model: FormulaConfig;
  /** Formula models are never standardized and fit a number target. */
  standardization: null;
  classes: null;
}

export interface SavedFormulaDescent extends SavedFormulaFields {
  training: FormulaDescentTraining;
}

export interface SavedFormulaFit extends SavedFormulaFields {
  training: FormulaFitTraining;
}

export type SavedFormulaModel = SavedFormulaDescent | SavedFormulaFit;

/** Whether a saved formula model was fitted by --optimizer lm rather than trained by gradient descent. */
export function isSavedFit(saved: SavedFormulaModel): saved is SavedFormulaFit {
  return (saved.training as Partial<FormulaFitTraining>).fit?.method === 'levenberg-marquardt';
}

export type AnySavedModel = { kind: 'network'; saved: SavedModel } | { kind: 'formula'; saved: SavedFormulaModel };

/** Reads a model file of either kind; `flag` names where the path came from in the error. */
export async function loadAnyModel(path: string, flag = '--model'): Promise<AnySavedModel> {
  const raw = await readModelJson(path, flag);
  const kind = (raw as { model?: { kind?: unknown } } | null)?.model?.kind;
  return kind === 'formula' ? { kind, saved: validateSavedFormula(raw, path) } : { kind: 'network', saved: validateSavedModel(raw, path) };
}

const isStrings = (a: unknown): a is string[] => Array.isArray(a) && a.every((s) => typeof s === 'string');
const isNumbers = (a: unknown, n?: number): a is number[] =>
  Array.isArray(a) && a.every((v) => typeof v === 'number' && Number.isFinite(v)) && (n === undefined || a.length === n);

export function validateSavedFormula(raw: unknown, path: string): SavedFormulaModel {
  const s = raw as SavedFormulaModel;
  const bad = (what: string) => new RangeError(`${path}: not a usable nabla formula model file (${what})`);
  if (!s || typeof s !== 'object' || s.format !== MODEL_FORMAT) throw bad('format');
  if (s.version !== MODEL_FORMAT_VERSION) throw bad(`version ${s.version}, this nabla reads ${MODEL_FORMAT_VERSION}`);
  const m = s.model;
  if (typeof m.formula !== 'string' || typeof m.loss !== 'string') throw bad('formula or loss');
  if (m.weights !== null && typeof m.weights !== 'string') throw bad('weights');
  if (!isStrings(m.params) || m.params.length === 0) throw bad('params');
  if (!isNumbers(s.parameters, m.params.length)) throw bad(`parameters: expected ${m.params.length} finite numbers`);
  if (!isStrings(s.features) || typeof s.target !== 'string') throw bad('features or target');
  if (s.standardization !== null || s.classes !== null) throw bad('a formula model has no standardization and no classes');
  const t = s.training;
  if (!t || typeof t !== 'object') throw bad('training');
  if (!t.start || typeof t.start !== 'object' || !isNumbers(Object.values(t.start))) throw bad('start');
  if ('fit' in t) {
    const fit = (t as Partial<FormulaFitTraining>).fit;
    if (!fit || typeof fit !== 'object' || fit.method !== 'levenberg-marquardt') throw bad('fit: expected a Levenberg-Marquardt fit (method "levenberg-marquardt")');
    return s;
  }
  checkDescentTraining(t, bad);
  return s;
}

/** The fields of gradient descent, which a resume continues from. */
function checkDescentTraining(t: FormulaDescentTraining, bad: (what: string) => Error): void {
  try {
    validateOptimizer(t.optimizer);
    validateSchedule(t.schedule);
  } catch (e) {
    throw bad((e as Error).message);
  }
  if (!(typeof t.lr === 'number' && t.lr > 0) || !Number.isSafeInteger(t.seed)) throw bad('lr or seed');
  const batch = t.batchSize;
  if (batch !== undefined && batch !== null && !(Number.isInteger(batch) && batch >= 1)) throw bad(`batchSize ${batch}`);
  checkChunkRows(t, bad);
  checkDivergedMark(t, bad);
  const st = t.state;
  if (!st || !isNumbers(st.m) || !isNumbers(st.v) || !Number.isInteger(st.t) || st.t < 0) throw bad('optimizer state');
}
