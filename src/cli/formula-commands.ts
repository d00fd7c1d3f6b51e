// `nabla train --formula`, and predict and evaluate on a saved formula model. The formula is compiled against
// the data's columns (formula-data.ts), the rows are checked (the loss's target rule, a model finite at the
// start) before any update, and training runs the one loop through a FormulaEngine (formula-backend.ts)
// with every optimizer, schedule and mini-batch option of the model trainer. Formula models are never
// standardized: the loss, the parameters and the gradient are in the data's own units.
import { compileFormula, startingParameters, type FormulaModel, type FormulaSpec } from '../formula/model.ts';
import { FormulaError } from '../formula/parse.ts';
import { parseLoss } from '../formula/losses.ts';
import { CpuFormulaEngine } from '../cpu/formula-engine.ts';
import { formulaColumns, formulaPredict, rowsThatCount, type FormulaData } from '../models/formula.ts';
import { isSavedFit, type SavedFormulaDescent, type SavedFormulaModel } from '../models/formula-file.ts';
import { divergedMark, saveModel, type SavedModel } from '../models/model-file.ts';
import type { ModelSnapshot } from '../models/model-engine.ts';
import type { EpochInfo } from '../models/linear.ts';
import { optimizerConfig } from '../optim/config.ts';
import { UsageError, type PredictArgs, type TrainArgs } from './args.ts';
import { checkSeedHasBatches } from './formula-args.ts';
import { readAsFloat32 } from './float32-reason.ts';
import type { Io } from './commands.ts';
import { checkFormulaRows, compileForFile, divergenceRow, formulaTarget, noSuchColumn, noWeightsColumn, readFormulaRows, zeroWeightsError } from './formula-data.ts';
import { openSource } from '../data/source.ts';
import type { InvalidPolicy } from '../data/select.ts';
import { openFormulaEngine, openPool } from './formula-backend.ts';
import { openGpuSession } from './backend.ts';
import { trainFormulaOnGpu } from './formula-gpu.ts';
import { checkFitResumeFlags, checkFormulaResumeFlags, resumeBatching } from './resume.ts';
import { formulaMetrics } from './formula-metrics.ts';
import { openFormulaStream } from './formula-stream.ts';
import { divergenceText, streamProgress } from './progress.ts';
import { trainFormulaStreamedOnCpu } from '../cpu-fast/formula-engine.ts';
import { fitCommand } from './fit-command.ts';
import { memoryRowStream } from '../gpu/formula/formula-stream.ts';
import { deviceRan } from './flags.ts';
import { INTERRUPTED_EXIT, lossNote, STOP_AT_EPOCH, stoppedText, withInterrupt, type TrainingInterrupt } from './interrupt.ts';

const named = (m: FormulaModel, theta: ArrayLike<number>) => Object.fromEntries(m.params.map((p, j) => [p, theta[j]]));

function specOf(saved: SavedFormulaModel): FormulaSpec {
  return { formula: saved.model.formula, loss: saved.model.loss, weights: saved.model.weights };
}

/**
 * A saved model's formula compiled again, over its own columns. A formula or loss that does not compile, or
 * parameters that differ, mean a damaged file: the error names the file and its field, not a flag.
 */
function compileSaved(saved: SavedFormulaModel, file: string, weights = true): FormulaModel {
  const spec = { ...specOf(saved), ...(!weights && { weights: null }) };
  const columns = [...saved.features, saved.target, ...(spec.weights ? [spec.weights] : [])];
  const damaged = (what: string) => new RangeError(`${file}: not a usable nabla formula model file (${what})`);
  const inField = (field: string, e: unknown) => (e instanceof FormulaError ? damaged(`model.${field}: ${e.message}`) : e);
  try {
    parseLoss(saved.model.loss);
  } catch (e) {
    throw inField('loss', e);
  }
  let m: FormulaModel;
  try {
    m = compileFormula(spec, { columns });
  } catch (e) {
    throw inField('formula', e);
  }
  if (spec.weights && spec.weights === m.target) throw damaged(`model.weights: ${spec.weights} is the formula's target`);
  if (m.params.join(',') !== saved.model.params.join(',')) {
    throw damaged(`the formula's parameters are ${m.params.join(', ')}, the file lists ${saved.model.params.join(', ')}`);
  }
  return m;
}

/**
 * --weights names a column of row weights, neither the target nor a feature: checked before the formula is
 * compiled against the file, whose readers would call it a feature column.
 */
async function checkWeightsColumn(path: string, formula: string, weights: string, invalid: InvalidPolicy): Promise<void> {
  const target = formulaTarget(formula);
  if (weights === target) throw new UsageError(`--weights: ${weights} is the formula's target; the row weights must be another column`);
  try {
    await openSource(path, { target: null, features: [weights], invalid });
  } catch (e) {
    if (!noSuchColumn(e, weights)) throw e;
    throw new UsageError(`--weights: ${noWeightsColumn(e).message}`);
  }
}

function snapshotOf(saved: SavedFormulaDescent): ModelSnapshot {
  const st = saved.training.state;
  return { theta: Float64Array.from(saved.parameters), optim: { m: Float64Array.from(st.m), v: Float64Array.from(st.v), t: st.t }, bestLoss: st.bestLoss ?? Infinity };
}

export function formulaTrainCommand(args: TrainArgs, io: Io, resumed: SavedFormulaModel | null): Promise<number> {
  return withInterrupt(io, STOP_AT_EPOCH, (interrupt) => trainFormula(args, io, resumed, interrupt));
}

async function trainFormula(args: TrainArgs, io: Io, resumed: SavedFormulaModel | null, interrupt: TrainingInterrupt): Promise<number> {
  if (resumed && isSavedFit(resumed)) {
    checkFitResumeFlags(args, resumed, args.resume!);
    return fitCommand(args, io, {
      spec: specOf(resumed), model: compileSaved(resumed, args.resume!), theta: Float64Array.from(resumed.parameters),
      startValues: resumed.training.start, at: `the parameters saved in ${args.resume}`,
    });
  }
  // A file trained by gradient descent continues so: --optimizer lm is refused here as any other optimizer would be.
  if (resumed) checkFormulaResumeFlags(args, resumed, args.resume!);
  else if (args.weightsColumn !== undefined) await checkWeightsColumn(args.data!, args.formula!, args.weightsColumn, args.onInvalid);
  if (args.optimizer === 'lm') return fitCommand(args, io);
  const path = args.data!;
  const startValues = resumed ? resumed.training.start : args.start ?? {};
  const spec: FormulaSpec = resumed ? specOf(resumed) : { formula: args.formula!, loss: args.loss ?? 'mse', weights: args.weightsColumn ?? null };
  const model = resumed ? compileSaved(resumed, args.resume!) : await readAsFloat32(args.device, () => compileForFile(path, spec, startValues, args.onInvalid));
  const start = resumed ? Float64Array.from(resumed.parameters) : startingParameters(model, startValues, 'cli');
  const at = resumed ? `the parameters saved in ${args.resume}` : 'the starting parameters';
  const batching = resumeBatching(args, resumed?.training, formulaColumns(model).length);
  const streamed = args.stream ? await readAsFloat32(args.device, () => openFormulaStream(path, model, args.onInvalid, batching.chunkBytes, start, at, streamProgress(args.json, args.epochs))) : null;
  const inMemory = streamed ? null : await readAsFloat32(args.device, () => readFormulaRows(path, model, args.onInvalid));
  if (inMemory) {
    await checkFormulaRows(path, model, args.onInvalid, inMemory.data, start, at);
    if (rowsThatCount(model, inMemory.data) === 0) throw zeroWeightsError(path, model);
  }
  const rows = streamed ? streamed.rows.n : inMemory!.rows;
  const droppedRows = streamed ? streamed.droppedRows : inMemory!.droppedRows;
  const t = resumed?.training;
  const opt = t?.optimizer ?? optimizerConfig({ kind: args.optimizer ?? 'sgd', weightDecay: args.weightDecay ?? 0, ...(args.momentum !== undefined && { momentum: args.momentum }) });
  const schedule = t?.schedule ?? args.schedule ?? { kind: 'constant' as const };
  const lr = t?.lr ?? args.lr ?? (opt.kind.startsWith('adam') ? 0.01 : 0.1);
  const seed = t?.seed ?? args.seed ?? 1;
  const { batchSize, chunkRows, keptChunkRows } = batching.cut(rows, streamed?.rows.chunkRows);
  if (!resumed) checkSeedHasBatches(args, rows);
  const every = Math.max(1, Math.floor(args.epochs / 10));
  const progress = args.json ? undefined : (e: EpochInfo) => { if (e.epoch % every === 0) io.err(`epoch ${String(e.epoch).padStart(6)}  loss ${e.loss.toExponential(6)}  |grad J| ${e.gradNorm.toExponential(3)}`); };
  // The seed orders mini-batches only: a formula starts from its --start values.
  const options = { lr, maxEpochs: args.epochs, optimizer: opt, schedule, ...(batchSize !== undefined && { seed }), batchSize, tol: args.tol, onEpoch: progress, resumeFrom: resumed ? snapshotOf(resumed) : undefined };
  const notice = (m: string) => io.err(`nabla: ${m}`);
  let r;
  let engine: { device: 'gpu' | 'cpu'; adapter: string | null };
  // After the rows are read and checked (a stream's first pass included): bad input is reported before Chromium starts.
  const session = await openGpuSession(args.device, notice);
  const signal = interrupt.arm();
  if (session) {
    session.onNotice = notice;
    try {
      const { onEpoch, ...gpuOptions } = options;
      // Rows in memory cut in kept chunk rows go to the page as a stream of such chunks, which cuts its batches so.
      const rowsOnGpu = streamed ? streamed.rows : chunkRows !== undefined ? memoryRowStream(inMemory!.data, chunkRows) : inMemory!.data;
      const outcome = await trainFormulaOnGpu(session, model, rowsOnGpu, start, { ...gpuOptions, signal }, onEpoch);
      r = outcome.result;
      engine = outcome;
    } finally {
      await session.close();
    }
  } else if (streamed) {
    const pool = args.device === 'cpu64' ? null : await openPool(notice);
    try {
      r = (await trainFormulaStreamedOnCpu(model, start, streamed.rows, { ...options, signal }, pool ? { pool } : { reference: true })).result;
    } finally {
      pool?.dispose();
    }
    engine = { device: 'cpu', adapter: null };
  } else {
    const opened = await openFormulaEngine(args.device === 'cpu64', model, inMemory!.data, start, notice);
    engine = opened.engine;
    try {
      r = await opened.engine.train({ ...options, chunkRows, signal });
    } finally {
      opened.close();
    }
  }
  interrupt.trainingDone();
  const training: SavedModel['training'] = {
    optimizer: opt, lr, schedule, seed, batchSize: batchSize ?? null, ...(keptChunkRows !== undefined && { chunkRows: keptChunkRows }),
    state: { m: Array.from(r.snapshot.optim.m), v: Array.from(r.snapshot.optim.v), t: r.snapshot.optim.t, bestLoss: Number.isFinite(r.snapshot.bestLoss) ? r.snapshot.bestLoss : null },
    ...divergedMark(r),
  };
  const saved: SavedFormulaDescent = {
    format: 'nabla-model', version: 1,
    model: { kind: 'formula', formula: spec.formula, loss: spec.loss ?? 'mse', weights: spec.weights ?? null, params: [...model.params] },
    features: [...model.features], target: model.target, standardization: null, classes: null, parameters: Array.from(r.theta),
    training: { ...training, start: { ...startValues } },
  };
  if (args.save) await saveModel(args.save, saved as unknown as SavedModel);
  const params = named(model, r.theta);
  const ran = deviceRan(args.device, engine.device);
  // A stopped stream is not read again (lossOf), for its metrics neither; rows in memory are at hand.
  const metrics = streamed && r.lossOf === 'last-epoch' ? null : streamed ? await streamed.metrics(r.theta) : formulaMetrics(model, formulaPredict(model, r.theta, inMemory!.data), inMemory!.data.y);
  const report: Record<string, unknown> = {
    model: 'formula', formula: spec.formula, lossFunction: model.loss.text, params,
    loss: r.loss, gradNorm: r.gradNorm, ...(r.lossOf && { lossOf: r.lossOf }), epochs: r.epochs, updates: r.updates, batchSize: batchSize ?? rows,
    stopReason: r.stopReason, rows, droppedRows, device: ran, adapter: engine.adapter, metrics, optimizer: opt.kind,
  };
  if (args.save) report.saved = args.save;
  io.out(args.json ? JSON.stringify(report) : [
    `trained ${model.target} ~ ${spec.formula.slice(spec.formula.indexOf('~') + 1).trim()} (loss ${model.loss.text}) on ${rows} rows (${droppedRows} dropped) on ${ran}${engine.adapter ? ` (${engine.adapter})` : ''}: ${r.stopReason} after ${r.epochs} epochs`,
    ...model.params.map((p, j) => `  ${p} = ${r.theta[j]}`),
    `  J = ${r.loss}, |grad J| = ${r.gradNorm.toExponential(3)}${lossNote(r)}`,
    ...Object.entries(metrics ?? {}).map(([k, x]) => `  ${k} = ${x}`),
    ...(args.save ? [`  saved to ${args.save}`] : []),
  ].join('\n'));
  if (r.stopReason === 'diverged') {
    const where = inMemory ? await divergenceRow(path, model, args.onInvalid, inMemory.data, r.divergedTheta, 'the parameters it stepped to') : null;
    io.err(`nabla: ${divergenceText(r, batchSize !== undefined)} (${Object.entries(params).map(([k, x]) => `${k} = ${x}`).join(', ')}). Try a smaller --lr than ${lr}.` +
      (where ? `\n  ${where}` : ''));
    return 3;
  }
  if (r.stopReason === 'aborted') {
    io.err(stoppedText(r.epochs, args.save));
    return INTERRUPTED_EXIT;
  }
  return 0;
}

async function evaluationRows(args: PredictArgs, saved: SavedFormulaModel): Promise<{ model: FormulaModel; data: FormulaData; rows: number; droppedRows: number }> {
  if (args.target !== undefined && args.target !== saved.target) {
    throw new UsageError(`--target: ${args.model} is the formula "${saved.model.formula}", whose target is ${saved.target}`);
  }
  const model = compileSaved(saved, args.model);
  const read = await readFormulaRows(args.data, model, args.onInvalid).catch((e: unknown) => {
    const weights = saved.model.weights;
    if (weights === null || !noSuchColumn(e, weights)) throw e;
    throw noWeightsColumn(e, `. ${args.model} was trained with --weights ${weights}: its loss J is the mean over rows weighted by ${weights}, so evaluate needs that column (predict does not)`);
  });
  await checkFormulaRows(args.data, model, args.onInvalid, read.data, Float64Array.from(saved.parameters), `the parameters saved in ${args.model}`);
  return { model, ...read };
}

export async function formulaPredictCommand(args: PredictArgs, io: Io, saved: SavedFormulaModel): Promise<number> {
  // Row weights do not change yhat: predict reads the model's features alone.
  const model = compileSaved(saved, args.model, false);
  const { data, rows, droppedRows } = await readFormulaRows(args.data, model, args.onInvalid, false);
  const out = Array.from(formulaPredict(model, saved.parameters, data));
  if (droppedRows > 0 && !args.json) io.err(`nabla: ${droppedRows} row(s) with a missing feature were dropped and have no prediction`);
  io.out(args.json ? JSON.stringify({ predictions: out, rows, droppedRows }) : out.join('\n'));
  return 0;
}

export async function formulaEvaluateCommand(args: PredictArgs, io: Io, saved: SavedFormulaModel): Promise<number> {
  const { model, data, rows, droppedRows } = await evaluationRows(args, saved);
  const theta = Float64Array.from(saved.parameters);
  const engine = new CpuFormulaEngine(model, data, theta);
  const { loss } = await engine.lossAndGradient(theta);
  engine.dispose();
  const metrics = { loss, ...formulaMetrics(model, formulaPredict(model, theta, data), data.y) };
  io.out(args.json ? JSON.stringify({ rows, droppedRows, metrics }) : Object.entries(metrics).map(([k, x]) => `${k}: ${JSON.stringify(x)}`).join('\n'));
  return 0;
}
