// The formula models' headless jobs (gpu-job.ts): the page compiles the formula against the same columns the
// CLI compiled it against (src/formula is pure, so both get the same model), builds GpuFormulaEngine over the
// uploaded rows (or over rows it pulls chunk by chunk: createStreamed), and trains it (through the recovering trainer, as model-train does) or fits it by
// Levenberg-Marquardt, each trial point one normal-equations pass on the device. Never the CPU by itself: the
// float64 twin runs only after a device loss with no new device, and the result says device 'cpu' then.
import { compileFormula, type FormulaModel, type FormulaSpec } from '../formula/model.ts';
import type { FormulaData } from '../models/formula.ts';
import type { EpochInfo } from '../models/linear.ts';
import { requestGpu, type GpuContext } from '../gpu/device.ts';
import { GpuFormulaEngine } from '../gpu/formula/gpu-formula-engine.ts';
import { memoryRowStream } from '../gpu/formula/formula-stream.ts';
import { CpuFormulaEngine } from '../cpu/formula-engine.ts';
import { curveFit, normalEquationsLength, type CurveFitResult, type NormalEquationsPass } from '../fit/curve-fit.ts';
import { FitError, type LmIteration } from '../fit/levenberg-marquardt.ts';
import { streamedNormalEquations } from '../fit/streamed-pass.ts';
import type { RowStream } from '../models/row-stream.ts';
import { fromPlainSnapshot, toPlainSnapshot, type PlainModelSnapshot } from '../models/plain-snapshot.ts';
import { isDeviceLoss, trainFormulaWithRecovery, watchDevice } from './recovering-trainer.ts';
import type { ModelJobOptions } from './gpu-job.ts';

/** What both formula jobs carry besides the rows: the model as the CLI compiled it. */
export interface FormulaJobModel {
  spec: Required<FormulaSpec>;
  /** The names the CLI compiled the formula against (features, target, weights). */
  columns: string[];
  /** The parameters the CLI's compile found, in theta's order: the page's compile must find the same. */
  params: string[];
  start: number[];
}

export interface FormulaTrainJob extends FormulaJobModel {
  options: ModelJobOptions;
}

export interface FormulaFitJob extends FormulaJobModel {
  /** countedRows: the rows the degrees of freedom count (rowsThatCount, over every chunk of a stream). */
  lm: { ftol: number; xtol: number; maxEvaluations: number; countedRows: number };
}

/** One Levenberg-Marquardt iteration as it crosses to the CLI (through the page's epoch channel). */
export interface FitProgress {
  iteration: number;
  evaluations: number;
  rss: number;
}

export interface FormulaTrainOutcome {
  theta: number[]; loss: number; gradNorm: number; epochs: number; updates: number; stopReason: string; divergedAtEpoch?: number;
  lossOf?: 'last-epoch';
  /** The parameters where training went wrong: the host names the first row where the formula is not finite there. */
  divergedTheta?: number[];
  snapshot: PlainModelSnapshot;
  device: 'gpu' | 'cpu'; adapter: string | null;
}

/** CurveFitResult with plain arrays, or the FitError that stopped the fit (the CLI makes it exit 2 or 3 as on the CPU). */
export type FormulaFitOutcome =
  | (Omit<CurveFitResult, 'theta'> & { theta: number[]; device: 'gpu' | 'cpu'; adapter: string | null })
  | { error: { message: string; kind: FitError['kind']; best?: { theta: number[]; rss: number } } };

/** The job's model, compiled here; a page whose compile disagrees with the CLI's is a bug, never trained on. */
export function compileJobModel(job: FormulaJobModel): FormulaModel {
  const model = compileFormula(job.spec, { columns: job.columns });
  if (model.params.join(',') !== job.params.join(',')) {
    throw new Error(`formula job: the page compiled parameters ${model.params.join(', ')}, the CLI ${job.params.join(', ')}`);
  }
  return model;
}

/** rows: in memory (uploaded once), or a stream the page pulls chunk by chunk, one pass per epoch or fit pass. */
export async function runFormulaTrain(
  gpu: GpuContext, job: FormulaTrainJob, rows: FormulaData | RowStream, onEpoch?: (info: EpochInfo) => void, onNotice?: (message: string) => void,
  signal?: AbortSignal,
): Promise<FormulaTrainOutcome> {
  const model = compileJobModel(job);
  const { resumeFrom, ...options } = job.options;
  const { result: r, device, adapter } = await trainFormulaWithRecovery(gpu, model, rows, Float64Array.from(job.start),
    { ...options, resumeFrom: resumeFrom && fromPlainSnapshot(resumeFrom), onEpoch, signal }, { acquire: () => requestGpu(), notice: onNotice });
  const { divergedTheta, ...plain } = r;
  return { ...plain, theta: Array.from(r.theta), ...(divergedTheta && { divergedTheta: Array.from(divergedTheta) }), snapshot: toPlainSnapshot(r.snapshot), device, adapter };
}

/**
 * J and dJ/dθ at the job's `start` on the device: the rows uploaded whole, or with chunkRows held that many at
 * a time (the engine's streamed form over the rows in memory). A device lost here is the caller's error.
 */
export async function runFormulaGradient(gpu: GpuContext, job: FormulaJobModel, rows: FormulaData, chunkRows?: number): Promise<{ loss: number; grad: number[] }> {
  const model = compileJobModel(job);
  const theta = Float64Array.from(job.start);
  const engine = chunkRows === undefined
    ? await GpuFormulaEngine.create(gpu, model, rows, theta)
    : await GpuFormulaEngine.createStreamed(gpu, model, memoryRowStream(rows, chunkRows), theta);
  try {
    const g = await engine.lossAndGradient(theta);
    return { loss: g.loss, grad: Array.from(g.grad) };
  } finally {
    engine.dispose();
  }
}

/** Where the fit's passes run now: a GPU engine, or the float64 twin after a loss with no new device. */
interface PassRunner {
  pass: NormalEquationsPass;
  device: 'gpu' | 'cpu';
  adapter: string | null;
  dispose(): void;
}

async function gpuPasses(gpu: GpuContext, model: FormulaModel, rows: FormulaData | RowStream, start: Float64Array): Promise<PassRunner> {
  const engine = 'pass' in rows ? await GpuFormulaEngine.createStreamed(gpu, model, rows, start) : await GpuFormulaEngine.create(gpu, model, rows, start);
  return { pass: (theta) => engine.normalEquations(theta), device: 'gpu', adapter: engine.adapter, dispose: () => engine.dispose() };
}

function cpuPasses(model: FormulaModel, rows: FormulaData | RowStream, start: Float64Array): PassRunner {
  const perChunk = async (chunk: FormulaData, theta: Float64Array) => {
    const engine = new CpuFormulaEngine(model, chunk, start);
    try {
      return await engine.normalEquations(theta);
    } finally {
      engine.dispose();
    }
  };
  const pass: NormalEquationsPass = 'pass' in rows
    ? streamedNormalEquations(rows, normalEquationsLength(model.params.length), perChunk)
    : (theta) => perChunk(rows, theta);
  return { pass, device: 'cpu', adapter: null, dispose: () => undefined };
}

/**
 * The fit's passes on the device. A device lost during a pass is replaced and the same pass runs again on
 * the new one (a pass is a pure function of theta, so the fit's path does not change); with no new device,
 * the remaining passes run on the float64 twin, said through onNotice and in the result's device.
 */
export async function runFormulaFit(
  first: GpuContext, job: FormulaFitJob, rows: FormulaData | RowStream, onProgress?: (info: FitProgress) => void, onNotice?: (message: string) => void,
  signal?: AbortSignal,
): Promise<FormulaFitOutcome> {
  const model = compileJobModel(job);
  const start = Float64Array.from(job.start);
  let gpu: GpuContext | null = watchDevice(first);
  let runner = await gpuPasses(first, model, rows, start);
  let recoveries = 0;
  const pass: NormalEquationsPass = async (theta) => {
    for (;;) {
      try {
        return await runner.pass(theta);
      } catch (e) {
        if (gpu === null || !isDeviceLoss(gpu, e) || recoveries >= 3) throw e;
        recoveries++;
        onNotice?.(`${(e as Error).message}; repeating the fit's pass on a new device`);
        runner.dispose();
        gpu = await requestGpu().then(watchDevice, (err: Error) => {
          onNotice?.(`no new GPU device (${err.message}); the fit's remaining passes run on the CPU path`);
          return null;
        });
        runner = gpu ? await gpuPasses(gpu, model, rows, start) : cpuPasses(model, rows, start);
      }
    }
  };
  try {
    const onIteration = onProgress && ((it: LmIteration) => onProgress({ iteration: it.iteration, evaluations: it.evaluations, rss: it.rss }));
    const { countedRows, ...lm } = job.lm;
    const fit = await curveFit(model, countedRows, pass, start, { ...lm, onIteration, signal });
    return { ...fit, theta: Array.from(fit.theta), device: runner.device, adapter: runner.adapter };
  } catch (e) {
    if (!(e instanceof FitError)) throw e;
    return { error: { message: e.message, kind: e.kind, ...(e.best && { best: { theta: Array.from(e.best.theta), rss: e.best.rss } }) } };
  } finally {
    runner.dispose();
  }
}
