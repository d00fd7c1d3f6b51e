// Training that survives the loss of its GPU device, for every model: it keeps the snapshot taken at every
// read-back, and when the device goes away it obtains a new one (or falls back to the CPU path, saying so),
// uploads the data again and resumes from that snapshot. No epoch before the snapshot is lost, and on the
// same adapter the result equals an uninterrupted run bit for bit (the step sequence is the same).
// One recovery loop (runWithRecovery) serves the network and formula engines alike (the linear model is a
// formula): each says only how to train on a device or on the CPU from a snapshot. It lives in src/session/, above both backends, because
// it uses both (test/node/layering.test.ts keeps src/gpu free of the CPU twins).
import type { ModelData, NetworkConfig } from '../models/network.ts';
import type { ModelSnapshot, ModelTrainOptions, ModelTrainResult } from '../models/model-engine.ts';
import { CpuModelEngine } from '../cpu/cpu-model-engine.ts';
import type { GpuContext } from '../gpu/device.ts';
import { GpuDeviceLostError } from '../gpu/device-io.ts';
import { GpuModelEngine, type GpuModelEngineOptions } from '../gpu/models/gpu-model-engine.ts';
import { trainModelStreamedOnCpu } from '../cpu-fast/streamed-training.ts';
import { trainFormulaStreamedOnCpu } from '../cpu-fast/formula-engine.ts';
import type { RowStream } from '../models/row-stream.ts';
import type { FormulaModel } from '../formula/model.ts';
import type { FormulaData } from '../models/formula.ts';
import { CpuFormulaEngine } from '../cpu/formula-engine.ts';
import { GpuFormulaEngine } from '../gpu/formula/gpu-formula-engine.ts';

export interface RecoveryOptions {
  /** Obtains a fresh device after a loss (e.g. () => requestGpu()). */
  acquire: () => Promise<GpuContext>;
  /** Train on the CPU path when no new device can be had (default true). */
  fallbackToCpu?: boolean;
  maxRecoveries?: number;
  notice?: (message: string) => void;
}

export interface Recovered<R> {
  result: R;
  device: 'gpu' | 'cpu';
  adapter: string | null;
  recoveries: number;
}

/** What differs between models: training from a snapshot on a device, or on the CPU path. */
export interface RecoverableRun<S, R> {
  onGpu(gpu: GpuContext, resumeFrom: S | undefined, onSnapshot: (s: S) => void): Promise<{ result: R; adapter: string }>;
  onCpu(resumeFrom: S | undefined, onSnapshot: (s: S) => void): Promise<R>;
  /** Where a snapshot stands, for the notices: e.g. "epoch 50". */
  where(s: S | undefined): string;
}

export async function runWithRecovery<S, R>(first: GpuContext, run: RecoverableRun<S, R>, recovery: RecoveryOptions, resumeFrom?: S): Promise<Recovered<R>> {
  const maxRecoveries = recovery.maxRecoveries ?? 3;
  let snapshot = resumeFrom;
  const keep = (s: S) => { snapshot = s; };
  let gpu: GpuContext | null = watchDevice(first);
  for (let recoveries = 0; ; recoveries++) {
    if (gpu === null) {
      recovery.notice?.(`continuing on the CPU path from ${run.where(snapshot)}`);
      return { result: await run.onCpu(snapshot, keep), device: 'cpu', adapter: null, recoveries };
    }
    try {
      const { result, adapter } = await run.onGpu(gpu, snapshot, keep);
      return { result, device: 'gpu', adapter, recoveries };
    } catch (e) {
      // Creating an engine on a lost device fails with other errors: the device's own flag decides.
      if (!isDeviceLoss(gpu, e)) throw e;
      if (recoveries >= maxRecoveries) throw e;
      recovery.notice?.(`${(e as Error).message}; resuming from the snapshot at ${run.where(snapshot)}`);
      gpu = await recovery.acquire().then(watchDevice, (err: Error) => {
        if (recovery.fallbackToCpu === false) throw err;
        recovery.notice?.(`no new GPU device (${err.message})`);
        return null;
      });
    }
  }
}

/** Logistic, softmax and MLP models: snapshots at epoch ends, counted in updates. */
export function trainModelWithRecovery(
  first: GpuContext,
  config: NetworkConfig,
  data: ModelData,
  options: ModelTrainOptions,
  recovery: RecoveryOptions & { engine?: GpuModelEngineOptions },
): Promise<Recovered<ModelTrainResult>> {
  return recoverModel(first, options, recovery, (gpu) => GpuModelEngine.create(gpu, config, data, recovery.engine),
    (o) => new CpuModelEngine(config, data).train(o));
}

/**
 * Any model over streamed rows (GpuModelEngine.createStreamed): after a loss the engine is made again over
 * the same stream on the new device (its first pass starts afresh) and resumes from the last snapshot; the
 * CPU path streams the same rows through the float64 twin.
 */
export function trainModelStreamedWithRecovery(
  first: GpuContext,
  config: NetworkConfig,
  rows: RowStream,
  options: Omit<ModelTrainOptions, 'chunkRows'>,
  recovery: RecoveryOptions & { engine?: GpuModelEngineOptions },
): Promise<Recovered<ModelTrainResult>> {
  return recoverModel(first, options, recovery, (gpu) => GpuModelEngine.createStreamed(gpu, config, rows, recovery.engine),
    async (o) => (await trainModelStreamedOnCpu(config, rows, o, { reference: true })).result);
}

/**
 * A formula model (GpuFormulaEngine) over rows in memory or a stream: the engine is made again on the new
 * device (its kernel checked again; a stream's first pass starts afresh) and resumes from the last snapshot;
 * with no device left, the float64 twin trains on from it over the same rows.
 */
export function trainFormulaWithRecovery(
  first: GpuContext,
  model: FormulaModel,
  rows: FormulaData | RowStream,
  start: Float64Array,
  options: ModelTrainOptions,
  recovery: RecoveryOptions,
): Promise<Recovered<ModelTrainResult>> {
  if ('pass' in rows) {
    const { chunkRows: _c, ...streamed } = options;
    return recoverModel(first, streamed, recovery, (gpu) => GpuFormulaEngine.createStreamed(gpu, model, rows, start),
      async (o) => (await trainFormulaStreamedOnCpu(model, start, rows, o, { reference: true })).result);
  }
  return recoverModel(first, options, recovery, (gpu) => GpuFormulaEngine.create(gpu, model, rows, start),
    (o) => new CpuFormulaEngine(model, rows, start).train(o));
}

/** What recoverModel needs of a GPU engine (GpuModelEngine, GpuFormulaEngine). */
interface RecoverableEngine {
  readonly adapter: string;
  train(o: ModelTrainOptions): Promise<ModelTrainResult>;
  dispose(): void;
}

/** Whether `e`, thrown while using `gpu`, means the device is gone (GpuDeviceLostError, or the device's own flag). */
export function isDeviceLoss(gpu: GpuContext, e: unknown): boolean {
  return e instanceof GpuDeviceLostError || lostDevices.has(gpu.device);
}

/** Watches a device for loss, so that isDeviceLoss sees it after the fact (runWithRecovery does this itself). */
export function watchDevice(gpu: GpuContext): GpuContext {
  void gpu.device.lost.then(() => lostDevices.add(gpu.device));
  return gpu;
}

/** The model engines' run: a GPU engine made per device, the CPU path when none is left, snapshots counted in updates. */
function recoverModel<O extends ModelTrainOptions | Omit<ModelTrainOptions, 'chunkRows'>>(
  first: GpuContext, options: O, recovery: RecoveryOptions,
  engineOn: (gpu: GpuContext) => Promise<RecoverableEngine>, onCpu: (o: O) => Promise<ModelTrainResult>,
): Promise<Recovered<ModelTrainResult>> {
  return runWithRecovery<ModelSnapshot, ModelTrainResult>(first, {
    async onGpu(gpu, resumeFrom, keep) {
      const engine = await engineOn(gpu);
      try {
        return { result: await engine.train(withSnapshots(options, resumeFrom, keep)), adapter: engine.adapter };
      } finally {
        engine.dispose();
      }
    },
    onCpu: (resumeFrom, keep) => onCpu(withSnapshots(options, resumeFrom, keep)),
    where: (s) => `update ${s?.optim.t ?? 0}`,
  }, recovery, options.resumeFrom);
}

/** The options resuming from `resumeFrom`, with every snapshot also kept for the next recovery. */
function withSnapshots<O extends { resumeFrom?: ModelSnapshot; onSnapshot?: (s: ModelSnapshot) => void }>(
  options: O, resumeFrom: ModelSnapshot | undefined, keep: (s: ModelSnapshot) => void,
): O {
  return { ...options, resumeFrom, onSnapshot: (s: ModelSnapshot) => { keep(s); options.onSnapshot?.(s); } };
}

const lostDevices = new WeakSet<GPUDevice>();
