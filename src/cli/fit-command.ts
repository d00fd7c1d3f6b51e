// `nabla train --formula ... --optimizer lm`: a curve fit by Levenberg-Marquardt (src/fit/). Each trial point
// is one pass over the data on the chosen device (the fast CPU path, the float64 twin, chunk by chunk over a
// stream, or the GPU, where the whole fit runs in the headless page: formula-gpu.ts); the damped system is
// solved in float64 on the host (in the page's JavaScript for the GPU). The result is what a user of curve_fit or
// nls expects: estimates with standard errors, the covariance, RSS, residual standard deviation, degrees of
// freedom, iterations, passes and lmder's stop reason. Exit 2 for a start that cannot be fitted (named
// parameter or row), 3 for a fit that ran out of passes (the best parameters are reported). A saved fit
// (--resume) continues by Levenberg-Marquardt from its parameters, with its formula, loss and weights.
import { startingParameters, type FormulaModel, type FormulaSpec } from '../formula/model.ts';
import { normalEquationsProgram } from '../formula/program.ts';
import { capacityRows } from '../cpu-fast/streamed-training.ts';
import { FastCpuFormulaEngine } from '../cpu-fast/formula-engine.ts';
import { curveFit, normalEquationsLength, type CurveFitResult, type NormalEquationsPass } from '../fit/curve-fit.ts';
import { FitError } from '../fit/levenberg-marquardt.ts';
import { streamedNormalEquations } from '../fit/streamed-pass.ts';
import type { SavedFormulaFit } from '../models/formula-file.ts';
import { saveModel, type SavedModel } from '../models/model-file.ts';
import { formulaPredict, rowsThatCount, type FormulaData } from '../models/formula.ts';
import { compileRowSums } from '../formula/emit-js.ts';
import { UsageError, type TrainArgs } from './args.ts';
import type { Io } from './commands.ts';
import { checkFormulaRows, compileForFile, readFormulaRows, readFormulaRowsFloat64, zeroWeightsError } from './formula-data.ts';
import { openPool } from './formula-backend.ts';
import { openGpuSession } from './backend.ts';
import { fitFormulaOnGpu } from './formula-gpu.ts';
import type { GpuSession } from './gpu-session.ts';
import type { RowStream } from '../models/row-stream.ts';
import { openFormulaStream } from './formula-stream.ts';
import { streamProgress } from './progress.ts';
import { formulaMetrics } from './formula-metrics.ts';
import { streamChunkBytes } from './stream-chunk.ts';
import { deviceRan } from './flags.ts';
import { INTERRUPTED_EXIT, withInterrupt, type TrainingInterrupt } from './interrupt.ts';

/**
 * lmder's relative tolerances (ftol = xtol) per device unless --tol says otherwise: the float64 twin fits to
 * 1e-14 (NIST's certified digits need it: √ε stops MGH09 at 4 digits); paths whose passes round the data to
 * float32 stop at √ε, as MINPACK and scipy do by default, since their sums carry float32 inputs anyway.
 */
export const LM_TOLERANCE = { cpu64: 1e-14, other: Math.sqrt(2.220446049250313e-16) };

/** Flags that cannot apply to a Levenberg-Marquardt fit. */
const NOT_WITH_LM: Record<string, string> = {
  lr: 'Levenberg-Marquardt chooses its own steps (a trust region)',
  schedule: 'Levenberg-Marquardt chooses its own steps (a trust region)',
  momentum: 'it applies to --optimizer momentum or nesterov',
  'weight-decay': 'a least-squares fit has no penalty term',
  'batch-size': 'every pass of a fit reads all rows (the normal equations are a sum over the data)',
  seed: 'a fit draws nothing',
};

export function checkLmFlags(args: TrainArgs): void {
  if (args.formula === undefined && args.resume === undefined) throw new UsageError('--optimizer lm: fits formula models (add --formula "Y ~ EXPR"); the network models train by gradient descent');
  for (const [flag, why] of Object.entries(NOT_WITH_LM)) {
    if (args.given.includes(flag)) throw new UsageError(`--${flag}: does not apply with --optimizer lm (${why})`);
  }
  if (args.given.includes('epochs') && args.epochs < 1) throw new UsageError(`--epochs: caps the passes of a Levenberg-Marquardt fit, so it must be at least 1 (got ${args.epochs})`);
}

/** A saved fit to continue (--resume): its model compiled again, its parameters, and the --start it began from. */
export interface SavedFitStart {
  spec: FormulaSpec;
  model: FormulaModel;
  theta: Float64Array;
  startValues: Record<string, number>;
  /** Where theta came from, for the message of a row where the model is not finite. */
  at: string;
}

export function fitCommand(args: TrainArgs, io: Io, resumed?: SavedFitStart): Promise<number> {
  return withInterrupt(io, 'stopping the fit at its last accepted step', (interrupt) => fitByLm(args, io, interrupt, resumed));
}

async function fitByLm(args: TrainArgs, io: Io, interrupt: TrainingInterrupt, resumed?: SavedFitStart): Promise<number> {
  checkLmFlags(args);
  const path = args.data!;
  const startValues = resumed?.startValues ?? args.start ?? {};
  const spec: FormulaSpec = resumed?.spec ?? { formula: args.formula!, loss: args.loss ?? 'mse', weights: args.weightsColumn ?? null };
  const model = resumed?.model ?? await compileForFile(path, spec, startValues, args.onInvalid);
  if (!model.loss.squaredError) throw new UsageError(`--optimizer lm: fits squared errors, and the loss ${model.loss.text} is not (yhat - y)^2 (use --loss mse, with --weights COL for row weights)`);
  const start = resumed?.theta ?? startingParameters(model, startValues, 'cli');
  const at = resumed?.at ?? 'the starting parameters';
  const p = model.params.length;
  const length = normalEquationsLength(p);
  const notice = (m: string) => io.err(`nabla: ${m}`);
  const exact = args.device === 'cpu64';
  const tol = args.tol ?? (exact ? LM_TOLERANCE.cpu64 : LM_TOLERANCE.other);
  const maxEvaluations = args.given.includes('epochs') ? args.epochs : 100 * (p + 1);
  const closers: Array<() => unknown> = [];
  const threads = async () => {
    const pool = await openPool(notice);
    closers.push(() => pool.dispose());
    return pool;
  };
  try {
    // null: the fit runs in the GPU page (gpu), every pass there.
    let pass: NormalEquationsPass | null = null;
    let gpu: { session: GpuSession; rows: FormulaData | RowStream } | null = null;
    let rows: number;
    // The rows the standard errors' degrees of freedom count: with row weights, those of positive weight.
    let countedRows: number;
    let droppedRows: number;
    let metrics: () => Promise<Record<string, number | null>>;
    // After the rows are read and checked (a stream's first pass included): bad input is reported before Chromium starts.
    const openGpu = async (on: FormulaData | RowStream) => {
      if (on.n <= p) throw new UsageError(`--optimizer lm: ${p} parameter${p === 1 ? '' : 's'} cannot be fitted to ${on.n} row${on.n === 1 ? '' : 's'}: a fit needs more rows than parameters`);
      const session = await openGpuSession(args.device, notice);
      if (!session) return null;
      closers.push(() => session.close());
      session.onNotice = notice;
      return { session, rows: on };
    };
    // The float64 twin's pass: the generated normal-equations sums, compiled once, over rows in memory or a chunk.
    const twinSums = compileRowSums(normalEquationsProgram(model));
    const rowSums = (on: { x: ArrayLike<number>; y: ArrayLike<number>; n: number }, theta: Float64Array) => {
      const out = new Float64Array(length);
      twinSums(theta, on.x, on.y, 0, on.n, out);
      return out;
    };
    if (args.stream) {
      // Streamed chunks are float32 whatever the device: say so where cpu64 would otherwise read the text in float64.
      if (exact && /\.(csv|json|txt|tsv)$/i.test(path.split(/[?#]/)[0])) {
        notice('--stream: the streamed rows are held in float32; without --stream, --device cpu64 reads CSV and JSON in float64 (certified digits need that)');
      }
      const streamed = await openFormulaStream(path, model, args.onInvalid, streamChunkBytes(args.chunkMb, args.device), start, at, streamProgress(args.json, undefined, 'pass'));
      rows = streamed.rows.n;
      countedRows = streamed.countedRows;
      droppedRows = streamed.droppedRows;
      metrics = () => streamed.metrics(fitted);
      gpu = await openGpu(streamed.rows);
      const pool = exact || gpu ? null : await threads();
      if (!gpu && pool) {
        // One engine over a chunk's capacity for the whole fit: each chunk is copied into its rows, and the
        // threads keep the generated sums they compiled once.
        const engine = new FastCpuFormulaEngine(model, capacityRows(streamed.rows, { pool }), start, { pool });
        closers.push(() => engine.dispose());
        const { x, y } = engine.resident;
        pass = streamedNormalEquations(streamed.rows, length, (chunk, theta) => {
          x.set(chunk.x);
          y.set(chunk.y);
          return engine.normalEquations(theta, { start: 0, rows: chunk.n });
        });
      } else if (!gpu) {
        pass = streamedNormalEquations(streamed.rows, length, async (chunk, theta) => rowSums(chunk, theta));
      }
    } else {
      // The float64 twin reads CSV and JSON in float64; the other formats (and the other devices) hold float32.
      const read = exact ? await readFormulaRowsFloat64(path, model, args.onInvalid) : await readFormulaRows(path, model, args.onInvalid);
      // The checks and the twin's row sums read the rows by index only, so float64 rows serve them as they are.
      const data = read.data as FormulaData;
      await checkFormulaRows(path, model, args.onInvalid, data, start, at);
      rows = read.rows;
      countedRows = rowsThatCount(model, data);
      if (countedRows === 0) throw zeroWeightsError(path, model);
      droppedRows = read.droppedRows;
      gpu = await openGpu(data);
      if (!gpu && !exact) {
        const engine = new FastCpuFormulaEngine(model, data, start, { pool: await threads() });
        closers.push(() => engine.dispose());
        pass = (theta) => engine.normalEquations(theta);
      } else if (!gpu) {
        pass = async (theta) => rowSums(data, theta);
      }
      metrics = async () => formulaMetrics(model, formulaPredict(model, fitted, data), data.y);
    }
    let fitted = start;
    const onIteration = args.json ? undefined : (it: { iteration: number; rss: number; evaluations: number }) => io.err(`iteration ${String(it.iteration).padStart(4)}  RSS ${it.rss.toExponential(8)}  passes ${it.evaluations}`);
    let fit: CurveFitResult;
    let where: { device: 'gpu' | 'cpu'; adapter: string | null } = { device: 'cpu', adapter: null };
    try {
      const lm = { ftol: tol, xtol: tol, maxEvaluations };
      const signal = interrupt.arm();
      if (gpu) {
        const outcome = await fitFormulaOnGpu(gpu.session, model, gpu.rows, start, { ...lm, countedRows }, onIteration, signal);
        fit = outcome.result;
        where = outcome;
      } else {
        fit = await curveFit(model, countedRows, pass!, start, { ...lm, onIteration, signal });
      }
    } catch (e) {
      if (e instanceof FitError && e.kind !== 'no-progress') throw new UsageError(`--optimizer lm: ${e.message}`);
      throw e;
    } finally {
      interrupt.trainingDone();
    }
    fitted = fit.theta;
    const ran = deviceRan(args.device, where.device);
    if (args.save) await saveModel(args.save, savedFit(spec, model, fit, startValues) as unknown as SavedModel);
    const report = {
      model: 'formula', formula: spec.formula, lossFunction: model.loss.text, optimizer: 'lm',
      params: fit.params, standardErrors: fit.standardErrors, covariance: fit.covariance,
      rss: fit.rss, residualStd: fit.residualStd, dof: fit.dof, iterations: fit.iterations, passes: fit.passes, stopReason: fit.stopReason,
      loss: fit.rss / rows, rows, droppedRows, device: ran, adapter: where.adapter, metrics: await metrics(), ...(args.save && { saved: args.save }),
    };
    io.out(args.json ? JSON.stringify(report) : fitTable(model, fit, rows, droppedRows, where.adapter ? `${ran} (${where.adapter})` : ran));
    if (fit.stopReason === 'max-evaluations') {
      io.err(`nabla: the fit stopped after ${countOf(fit.passes, 'pass', 'passes')} without meeting its tolerances (--epochs caps the passes); the best parameters so far are reported above`);
      return 3;
    }
    if (fit.stopReason === 'aborted') {
      io.err(`nabla: the fit was stopped by the user after ${countOf(fit.iterations, 'iteration')}; the parameters of its last accepted step are reported above${args.save ? ` and saved to ${args.save} (--resume ${args.save} continues the fit)` : ''}`);
      return INTERRUPTED_EXIT;
    }
    return 0;
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

function fitTable(model: FormulaModel, fit: CurveFitResult, rows: number, droppedRows: number, device: string): string {
  const w = Math.max(9, ...model.params.map((p) => p.length));
  const line = (name: string, est: string, se: string) => `  ${name.padEnd(w)}  ${est.padStart(22)}  ${se.padStart(22)}`;
  return [
    `fitted ${model.spec.formula} by Levenberg-Marquardt on ${rows} rows (${droppedRows} dropped) on ${device}: ${fit.stopReason} after ${countOf(fit.iterations, 'iteration')}, ${countOf(fit.passes, 'pass', 'passes')}`,
    line('parameter', 'estimate', 'std. error'),
    ...model.params.map((p) => line(p, fit.params[p].toPrecision(11), fit.standardErrors ? fit.standardErrors[p].toPrecision(11) : '—')),
    `  residual sum of squares ${fit.rss.toPrecision(11)}, residual std. deviation ${fit.residualStd === null ? '—' : fit.residualStd.toPrecision(11)} on ${fit.dof} degrees of freedom`,
    ...(fit.standardErrors ? [] : ['  JᵀJ is singular at the solution: the parameters are not all identifiable, so there are no standard errors']),
  ].join('\n');
}

function savedFit(spec: FormulaSpec, model: FormulaModel, fit: CurveFitResult, startValues: Record<string, number>): SavedFormulaFit {
  return {
    format: 'nabla-model', version: 1,
    model: { kind: 'formula', formula: spec.formula, loss: spec.loss ?? 'mse', weights: spec.weights ?? null, params: [...model.params] },
    features: [...model.features], target: model.target, standardization: null, classes: null, parameters: Array.from(fit.theta),
    // `fit` marks the file as a fit, which a resume continues by Levenberg-Marquardt (isSavedFit).
    training: {
      start: { ...startValues },
      fit: { method: 'levenberg-marquardt', standardErrors: fit.standardErrors, covariance: fit.covariance, rss: fit.rss, dof: fit.dof, stopReason: fit.stopReason },
    },
  };
}

/** "1 pass", "3 passes". */
function countOf(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
