// Formula models on the GPU from the command line: the rows go to the headless page (GpuSession), which
// compiles the same formula over the same columns and runs GpuFormulaEngine there (src/session/formula-jobs.ts).
// These wrap the two jobs so that formulaTrainCommand and fitCommand get what their CPU engines give them.
// Rows in memory are uploaded once; a RowStream (--stream) is served chunk by chunk, read again for every
// pass the page makes (GpuFormulaEngine.createStreamed holds one chunk on the device).
import type { FormulaModel } from '../formula/model.ts';
import type { FormulaData } from '../models/formula.ts';
import type { ModelTrainOptions, ModelTrainResult } from '../models/model-engine.ts';
import type { EpochInfo } from '../models/linear.ts';
import type { CurveFitResult } from '../fit/curve-fit.ts';
import { FitError } from '../fit/levenberg-marquardt.ts';
import { fromPlainSnapshot, toPlainSnapshot } from '../models/plain-snapshot.ts';
import type { FitProgress, FormulaJobModel } from '../session/formula-jobs.ts';
import type { RowStream } from '../models/row-stream.ts';
import type { GpuSession } from './gpu-session.ts';

export interface GpuOutcome<R> {
  result: R;
  /** 'cpu' when the page lost its device and no new one could be had (it said so through the session's notices). */
  device: 'gpu' | 'cpu';
  adapter: string | null;
}

/** The names the formula was compiled against: the page's compile over them finds the same features and parameters. */
function jobModel(model: FormulaModel, start: Float64Array): FormulaJobModel {
  const columns = [...model.features, model.target, ...(model.spec.weights ? [model.spec.weights] : [])];
  return { spec: { ...model.spec }, columns, params: [...model.params], start: Array.from(start) };
}

export async function trainFormulaOnGpu(
  session: GpuSession, model: FormulaModel, rows: FormulaData | RowStream, start: Float64Array,
  options: Omit<ModelTrainOptions, 'onEpoch' | 'init' | 'onSnapshot' | 'chunkRows'>, onEpoch?: (info: EpochInfo) => void,
): Promise<GpuOutcome<ModelTrainResult>> {
  const { resumeFrom, signal, ...rest } = options;
  const job = { ...jobModel(model, start), options: { ...rest, resumeFrom: resumeFrom && toPlainSnapshot(resumeFrom) } };
  const r = 'pass' in rows
    ? await session.runStreamed({ kind: 'formula-train-stream', n: rows.n, d: rows.d, chunkRows: rows.chunkRows, ...job }, () => rows.pass(), onEpoch, { signal })
    : await session.run({ kind: 'formula-train', ...job }, rows, onEpoch, signal);
  const { device, adapter, divergedTheta, ...m } = r.formula!;
  const result: ModelTrainResult = {
    ...m, theta: Float64Array.from(m.theta), stopReason: m.stopReason as ModelTrainResult['stopReason'], snapshot: fromPlainSnapshot(m.snapshot),
    ...(divergedTheta && { divergedTheta: Float64Array.from(divergedTheta) }),
  };
  return { result, device, adapter };
}

/** A FitError in the page is thrown here as the same FitError, so that the CLI's exit codes are those of the CPU paths. */
export async function fitFormulaOnGpu(
  session: GpuSession, model: FormulaModel, rows: FormulaData | RowStream, start: Float64Array,
  lm: { ftol: number; xtol: number; maxEvaluations: number; countedRows: number }, onIteration?: (info: FitProgress) => void, signal?: AbortSignal,
): Promise<GpuOutcome<CurveFitResult>> {
  const job = { ...jobModel(model, start), lm };
  const r = 'pass' in rows
    ? await session.runStreamed({ kind: 'formula-fit-stream', n: rows.n, d: rows.d, chunkRows: rows.chunkRows, ...job }, () => rows.pass(), onIteration, { signal })
    : await session.run({ kind: 'formula-fit', ...job }, rows, onIteration, signal);
  const fit = r.fit!;
  if ('error' in fit) {
    const { message, kind, best } = fit.error;
    throw new FitError(message, kind, best && { theta: Float64Array.from(best.theta), rss: best.rss });
  }
  const { device, adapter, ...f } = fit;
  return { result: { ...f, theta: Float64Array.from(f.theta) }, device, adapter };
}
