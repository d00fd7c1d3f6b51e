// What a headless page runs for the CLI: fetch the samples, build the engine, train or evaluate,
// and hand back plain JSON. Runs inside the browser (or Deno); never falls back to the CPU.
import type { EpochInfo } from '../models/linear.ts';
import { requestGpu, type AdapterSummary } from '../gpu/device.ts';
import { trainModelStreamedWithRecovery, trainModelWithRecovery } from './recovering-trainer.ts';
import type { RowChunk, RowStream } from '../models/row-stream.ts';
import type { NetworkConfig } from '../models/network.ts';
import type { ModelTrainOptions } from '../models/model-engine.ts';
import { fromPlainSnapshot, toPlainSnapshot, type PlainModelSnapshot } from '../models/plain-snapshot.ts';
import {
  runFormulaFit, runFormulaGradient, runFormulaTrain,
  type FitProgress, type FormulaFitJob, type FormulaFitOutcome, type FormulaJobModel, type FormulaTrainJob, type FormulaTrainOutcome,
} from './formula-jobs.ts';

export type ModelJobOptions = Omit<ModelTrainOptions, 'onEpoch' | 'signal' | 'init' | 'onSnapshot' | 'resumeFrom'> & {
  resumeFrom?: PlainModelSnapshot;
};

export type GpuJob =
  | { kind: 'probe' }
  | { kind: 'model-train'; dataUrl: string; n: number; d: number; config: NetworkConfig; options: ModelJobOptions }
  /** A formula model (src/formula) compiled in the page over rows of its columns (features, then weights): trained, or fitted by Levenberg-Marquardt. */
  | ({ kind: 'formula-train'; dataUrl: string; n: number; d: number } & FormulaTrainJob)
  | ({ kind: 'formula-fit'; dataUrl: string; n: number; d: number } & FormulaFitJob)
  /** J and dJ/dθ of a formula model at `start`; with chunkRows the GPU holds that many rows at a time. */
  | ({ kind: 'formula-gradient'; dataUrl: string; n: number; d: number; chunkRows?: number } & FormulaJobModel)
  /** The same over rows the page pulls chunk by chunk (streamUrl/next): one pass per epoch, or per trial point of a fit. */
  | ({ kind: 'formula-train-stream'; streamUrl: string; n: number; d: number; chunkRows: number } & FormulaTrainJob)
  | ({ kind: 'formula-fit-stream'; streamUrl: string; n: number; d: number; chunkRows: number } & FormulaFitJob)
  | {
    /** Any model over rows the page pulls chunk by chunk (streamUrl/next), one pass per epoch; mini-batches inside chunks. */
    kind: 'model-train-stream';
    streamUrl: string;
    n: number;
    d: number;
    chunkRows: number;
    config: NetworkConfig;
    options: Omit<ModelJobOptions, 'chunkRows'>;
  };

export interface GpuJobResult {
  adapter: AdapterSummary;
  formulaGradient?: { loss: number; grad: number[] };
  model?: {
    theta: number[]; loss: number; gradNorm: number; epochs: number; updates: number; stopReason: string; divergedAtEpoch?: number;
    lossOf?: 'last-epoch'; snapshot: PlainModelSnapshot;
    /** 'cpu' when the device was lost and no new one could be had. */
    device: 'gpu' | 'cpu'; adapter: string | null;
  };
  formula?: FormulaTrainOutcome;
  fit?: FormulaFitOutcome;
}

/** Chunks as the CLI serves them: rows * d features then rows targets, float32; 204 ends a pass. */
async function* fetchedPass(streamUrl: string, d: number): AsyncGenerator<RowChunk> {
  await fetch(`${streamUrl}/start`);
  for (;;) {
    const r = await fetch(`${streamUrl}/next`);
    if (r.status === 204) return;
    if (!r.ok) throw new Error(`stream: HTTP ${r.status}: ${await r.text()}`);
    const bytes = await r.arrayBuffer();
    const rows = bytes.byteLength / ((d + 1) * 4);
    if (!Number.isInteger(rows)) throw new Error(`stream: a chunk of ${bytes.byteLength} bytes is not whole rows of ${d} features and a target`);
    yield { x: new Float32Array(bytes, 0, rows * d), y: new Float32Array(bytes, rows * d * 4, rows), rows };
  }
}

/** The running job's stop: the CLI's Ctrl-C reaches the page as abortGpuJob (one job runs at a time). */
let running: AbortController | null = null;

/** Stops the running job as its AbortSignal does: training at the last whole epoch, a fit at its last accepted step. */
export function abortGpuJob(): void {
  running?.abort();
}

/** onEpoch hears every training job's epochs, and formula-fit's iterations (FitProgress). */
export async function runGpuJob(job: GpuJob, onEpoch?: (info: EpochInfo | FitProgress) => void, onNotice?: (message: string) => void): Promise<GpuJobResult> {
  const stop = new AbortController();
  running = stop;
  try {
    return await runJob(job, stop.signal, onEpoch, onNotice);
  } finally {
    if (running === stop) running = null;
  }
}

async function runJob(job: GpuJob, signal: AbortSignal, onEpoch?: (info: EpochInfo | FitProgress) => void, onNotice?: (message: string) => void): Promise<GpuJobResult> {
  const gpu = await requestGpu();
  try {
    const adapter = gpu.summary;
    if (job.kind === 'probe') return { adapter };
    if (job.kind === 'model-train-stream') {
      const { n, d, chunkRows, streamUrl } = job;
      const rows: RowStream = { n, d, chunkRows, pass: () => fetchedPass(streamUrl, d) };
      const { resumeFrom, ...options } = job.options;
      const { result: r, device, adapter: finishedOn } = await trainModelStreamedWithRecovery(gpu, job.config, rows, { ...options, resumeFrom: resumeFrom && fromPlainSnapshot(resumeFrom), onEpoch, signal }, {
        acquire: () => requestGpu(), notice: onNotice, engine: { maxBatchRows: job.options.batchSize },
      });
      return { adapter, model: { ...r, theta: Array.from(r.theta), snapshot: toPlainSnapshot(r.snapshot), device, adapter: finishedOn } };
    }
    if (job.kind === 'formula-train-stream' || job.kind === 'formula-fit-stream') {
      const { n, d, chunkRows, streamUrl } = job;
      const rows: RowStream = { n, d, chunkRows, pass: () => fetchedPass(streamUrl, d) };
      if (job.kind === 'formula-train-stream') return { adapter, formula: await runFormulaTrain(gpu, job, rows, onEpoch, onNotice, signal) };
      return { adapter, fit: await runFormulaFit(gpu, job, rows, onEpoch, onNotice, signal) };
    }
    const response = await fetch(job.dataUrl);
    if (!response.ok) throw new Error(`fetching ${job.dataUrl}: HTTP ${response.status}`);
    const bytes = await response.arrayBuffer();
    const { n, d } = job;
    if (bytes.byteLength !== (n * d + n) * 4) throw new Error(`data: expected ${(n * d + n) * 4} bytes, got ${bytes.byteLength}`);
    const data = { n, d, x: new Float32Array(bytes, 0, n * d), y: new Float32Array(bytes, n * d * 4, n) };
    if (job.kind === 'formula-train') return { adapter, formula: await runFormulaTrain(gpu, job, data, onEpoch, onNotice, signal) };
    if (job.kind === 'formula-fit') return { adapter, fit: await runFormulaFit(gpu, job, data, onEpoch, onNotice, signal) };
    if (job.kind === 'formula-gradient') return { adapter, formulaGradient: await runFormulaGradient(gpu, job, data, job.chunkRows) };
    const { resumeFrom, ...options } = job.options;
    const { result: r, device, adapter: finishedOn } = await trainModelWithRecovery(gpu, job.config, data, { ...options, resumeFrom: resumeFrom && fromPlainSnapshot(resumeFrom), onEpoch, signal }, {
      acquire: () => requestGpu(), notice: onNotice, engine: { maxBatchRows: job.options.batchSize },
    });
    return { adapter, model: { ...r, theta: Array.from(r.theta), snapshot: toPlainSnapshot(r.snapshot), device, adapter: finishedOn } };
  } finally {
    gpu.device.destroy();
  }
}
