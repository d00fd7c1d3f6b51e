// Training that survives the loss of its GPU device: it keeps the snapshot taken at every read-back,
// and when the device goes away it obtains a new one (or falls back to the CPU path, saying so),
// uploads the data again and resumes from that snapshot. No epoch before the snapshot is lost, and on the
// same adapter the result equals an uninterrupted run bit for bit (the step sequence is the same).
import type { GradientResult, LinearData, TrainOptions, TrainResult, TrainSnapshot } from '../models/linear.ts';
import { CpuLinearEngine } from '../cpu/cpu-linear-engine.ts';
import type { GpuContext } from './device.ts';
import { GpuDeviceLostError, GpuLinearEngine, type GpuLinearEngineOptions } from './gpu-linear-engine.ts';

export interface RecoveryOptions {
  /** Obtains a fresh device after a loss (e.g. () => requestGpu()). */
  acquire: () => Promise<GpuContext>;
  /** Train on the CPU path when no new device can be had (default true). */
  fallbackToCpu?: boolean;
  maxRecoveries?: number;
  notice?: (message: string) => void;
  engine?: GpuLinearEngineOptions;
}

export interface RecoveredResult extends TrainResult {
  device: 'gpu' | 'cpu';
  adapter: string | null;
  recoveries: number;
  /** Loss and full gradient at the returned parameters, on the device that finished the run. */
  final: GradientResult;
}

export async function trainWithRecovery(
  first: GpuContext,
  data: LinearData,
  options: TrainOptions,
  recovery: RecoveryOptions,
): Promise<RecoveredResult> {
  const maxRecoveries = recovery.maxRecoveries ?? 3;
  let snapshot: TrainSnapshot | undefined = options.resumeFrom;
  const run: TrainOptions = {
    ...options,
    onSnapshot: (s) => {
      snapshot = s;
      options.onSnapshot?.(s);
    },
  };
  let gpu: GpuContext | null = watchDevice(first);
  for (let recoveries = 0; ; recoveries++) {
    if (gpu === null) {
      recovery.notice?.(`continuing on the CPU path from epoch ${snapshot?.step ?? 0}`);
      const cpu = new CpuLinearEngine(data);
      const result = await cpu.train({ ...run, resumeFrom: snapshot });
      return { ...result, device: 'cpu', adapter: null, recoveries, final: await cpu.gradient(result) };
    }
    let engine: GpuLinearEngine | null = null;
    try {
      engine = await GpuLinearEngine.create(gpu, data, recovery.engine);
      const result = await engine.train({ ...run, resumeFrom: snapshot });
      return { ...result, device: 'gpu', adapter: engine.adapter, recoveries, final: await engine.gradient(result) };
    } catch (e) {
      // Creating an engine on a lost device fails with other errors: the device's own flag decides.
      if (!(e instanceof GpuDeviceLostError) && !lostDevices.has(gpu.device)) throw e;
      if (recoveries >= maxRecoveries) throw e;
      recovery.notice?.(`${(e as Error).message}; resuming from the snapshot at epoch ${snapshot?.step ?? 0}`);
      gpu = await recovery.acquire().then(watchDevice, (err: Error) => {
        if (recovery.fallbackToCpu === false) throw err;
        recovery.notice?.(`no new GPU device (${err.message})`);
        return null;
      });
    } finally {
      engine?.dispose();
    }
  }
}

const lostDevices = new WeakSet<GPUDevice>();

function watchDevice(gpu: GpuContext): GpuContext {
  void gpu.device.lost.then(() => lostDevices.add(gpu.device));
  return gpu;
}
