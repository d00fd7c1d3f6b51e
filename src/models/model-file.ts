// The saved model (`--save model.json`): configuration, parameters, optimizer state, feature
// standardization and class mapping, with a format version. Written to a temporary file and renamed,
// so that a crash never leaves a half-written model where a good one was.
import { rmSync } from 'node:fs';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { validateNetwork, validateTheta, type NetworkConfig } from './network.ts';
import { validateOptimizer, type OptimizerConfig } from '../optim/config.ts';
import { validateSchedule, type Schedule } from '../optim/schedule.ts';
import type { ModelSnapshot } from './model-engine.ts';

export const MODEL_FORMAT = 'nabla-model';
export const MODEL_FORMAT_VERSION = 1;

export interface SavedModel {
  format: typeof MODEL_FORMAT;
  version: number;
  model: NetworkConfig;
  features: string[];
  target: string;
  /** Feature standardization z = (x - mean) / std, or null. */
  standardization: { mean: number[]; std: number[] } | null;
  /** Class labels by index (classification), or null (regression). */
  classes: string[] | null;
  parameters: number[];
  training: {
    optimizer: OptimizerConfig;
    lr: number;
    schedule: Schedule;
    seed: number;
    /** Samples per update; absent or null: full batch. A resume continues with the same batches. */
    batchSize?: number | null;
    /**
     * Rows per chunk the mini-batches were cut in (batches lie inside chunks: src/models/batches.ts), all rows for a
     * run in memory; absent for full batches, and in files written before it was kept. A resume cuts the same.
     */
    chunkRows?: number;
    state: { m: number[]; v: number[]; t: number; bestLoss: number | null };
    /**
     * Set where the run diverged: the parameters are its last good ones (for predict and evaluate), and a resume,
     * which must keep the rate and the batches, would take the same steps to the same divergence.
     */
    diverged?: { update: number };
  };
}

export function snapshotOfSaved(s: SavedModel): ModelSnapshot {
  const st = s.training.state;
  return {
    theta: Float64Array.from(s.parameters),
    optim: { m: Float64Array.from(st.m), v: Float64Array.from(st.v), t: st.t },
    bestLoss: st.bestLoss ?? Infinity,
  };
}

/** Temporary files of saves under way: a process that exits mid-save (a second Ctrl-C) removes them on its way out. */
const savesUnderWay = new Set<string>();
let removedOnExit = false;

export async function saveModel(path: string, model: SavedModel): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  if (!removedOnExit) {
    removedOnExit = true;
    process.on('exit', () => savesUnderWay.forEach((f) => rmSync(f, { force: true })));
  }
  savesUnderWay.add(tmp);
  // JSON numbers round-trip float64 exactly, which makes --resume bit-exact.
  try {
    await writeFile(tmp, `${JSON.stringify(model)}\n`);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  } finally {
    savesUnderWay.delete(tmp);
  }
}

/** A model file's JSON, not yet validated; `flag` names where the path came from in the error. */
export async function readModelJson(path: string, flag: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new RangeError(`${flag} ${path}: cannot read a model (${(e as Error).message})`);
  }
}

/** `flag` names where the path came from in the error (--model for predict, --resume for train). */
export async function loadModel(path: string, flag = '--model'): Promise<SavedModel> {
  return validateSavedModel(await readModelJson(path, flag), path);
}

/**
 * The training fields a file may hold after a run's result: whether it diverged, and at which update, counted
 * from 1 (the one after the kept parameters'): at full batch, an update is an epoch.
 */
export function divergedMark(r: { stopReason: string; updates: number }): Pick<SavedModel['training'], 'diverged'> {
  return r.stopReason === 'diverged' ? { diverged: { update: r.updates + 1 } } : {};
}

/** training.diverged: absent, or the update the run diverged at. */
export function checkDivergedMark(t: SavedModel['training'], bad: (what: string) => Error): void {
  const mark = t.diverged;
  if (mark !== undefined && !(mark !== null && typeof mark === 'object' && Number.isInteger(mark.update) && mark.update >= 1)) throw bad(`diverged ${JSON.stringify(mark)}`);
}

/** training.chunkRows: absent, or a positive integer that comes with a batch size (full batches are not cut). */
export function checkChunkRows(t: SavedModel['training'], bad: (what: string) => Error): void {
  const rows = t.chunkRows;
  if (rows === undefined) return;
  if (!(Number.isInteger(rows) && rows >= 1)) throw bad(`chunkRows ${rows}`);
  if (typeof t.batchSize !== 'number') throw bad('chunkRows without a batchSize');
}

export function validateSavedModel(raw: unknown, path: string): SavedModel {
  const s = raw as SavedModel;
  const bad = (what: string) => new RangeError(`${path}: not a usable nabla model file (${what})`);
  if (!s || typeof s !== 'object' || s.format !== MODEL_FORMAT) throw bad('format');
  if (s.version !== MODEL_FORMAT_VERSION) throw bad(`version ${s.version}, this nabla reads ${MODEL_FORMAT_VERSION}`);
  try {
    validateNetwork(s.model);
    validateTheta(s.model, s.parameters);
    validateOptimizer(s.training.optimizer);
    validateSchedule(s.training.schedule);
  } catch (e) {
    throw bad((e as Error).message);
  }
  const batch = s.training.batchSize;
  if (batch !== undefined && batch !== null && !(Number.isInteger(batch) && batch >= 1)) throw bad(`batchSize ${batch}`);
  checkChunkRows(s.training, bad);
  checkDivergedMark(s.training, bad);
  if (!Array.isArray(s.features) || s.features.length !== s.model.inputs) throw bad('features');
  if (s.classes !== null && (!Array.isArray(s.classes) || s.classes.length !== (s.model.head === 'bce' ? 2 : s.model.outputs))) throw bad('classes');
  return s;
}
