// What a headless page runs for the CLI: fetch the samples, build the engine, train or evaluate,
// and hand back plain JSON. Runs inside the browser (or Deno); never falls back to the CPU.
import type { EpochInfo, TrainOptions } from '../models/linear.ts';
import { requestGpu, type AdapterSummary, type GpuContext } from '../gpu/device.ts';
import { GpuLinearEngine, type ChunkStream } from '../gpu/gpu-linear-engine.ts';
import { blobRecordStream, type RecordFileLayout } from '../gpu/linear-stream.ts';
import { trainModelStreamedWithRecovery, trainModelWithRecovery, trainWithRecovery } from './recovering-trainer.ts';
import type { RowChunk, RowStream } from '../models/row-stream.ts';
import type { NetworkConfig } from '../models/network.ts';
import type { Standardizer } from '../models/standardize.ts';
import type { ModelTrainOptions } from '../models/model-engine.ts';
import { fromPlainSnapshot, toPlainSnapshot, type PlainModelSnapshot } from '../models/plain-snapshot.ts';
import { runFormulaFit, runFormulaTrain, type FitProgress, type FormulaFitJob, type FormulaFitOutcome, type FormulaTrainJob, type FormulaTrainOutcome } from './formula-jobs.ts';

export type ModelJobOptions = Omit<ModelTrainOptions, 'onEpoch' | 'signal' | 'init' | 'onSnapshot' | 'resumeFrom'> & {
  resumeFrom?: PlainModelSnapshot;
};

export type GpuJob =
  | { kind: 'probe' }
  | {
    kind: 'train' | 'gradient';
    /** URL of n*d float32 features (row-major) followed by n float32 targets. */
    dataUrl: string;
    n: number;
    d: number;
    at?: { w: number[]; b: number };
    train?: Omit<TrainOptions, 'onEpoch' | 'signal' | 'init'>;
    /** Largest GPU data chunk in bytes (default: one storage binding). */
    chunkBytes?: number;
    /** Standardize on the GPU with these statistics (train only). */
    standardize?: PlainStandardizer;
  }
  | { kind: 'model-train'; dataUrl: string; n: number; d: number; config: NetworkConfig; options: ModelJobOptions }
  /** A formula model (src/formula) compiled in the page over rows of its columns (features, then weights): trained, or fitted by Levenberg-Marquardt. */
  | ({ kind: 'formula-train'; dataUrl: string; n: number; d: number } & FormulaTrainJob)
  | ({ kind: 'formula-fit'; dataUrl: string; n: number; d: number } & FormulaFitJob)
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
  }
  | {
    /** Full-batch training over data the page pulls chunk by chunk for every evaluation (streamUrl/next). */
    kind: 'train-stream';
    streamUrl: string;
    n: number;
    d: number;
    chunkRows: number;
    train: Omit<TrainOptions, 'onEpoch' | 'signal' | 'init' | 'batchSize'>;
    standardize?: PlainStandardizer;
    /** Raw-format records read from the file in the page's #nabla-file input rather than from streamUrl. */
    file?: RecordFileLayout;
  };

/** A Standardizer with plain arrays, as it crosses page.evaluate. */
export interface PlainStandardizer {
  mean: number[];
  std: number[];
  yMean: number;
  yStd: number;
}

function fromPlain(s: PlainStandardizer | undefined): Standardizer | undefined {
  return s && { mean: Float64Array.from(s.mean), std: Float64Array.from(s.std), yMean: s.yMean, yStd: s.yStd };
}

export interface GpuJobResult {
  adapter: AdapterSummary;
  gradient?: { loss: number; gradW: number[]; gradB: number };
  train?: {
    w: number[]; b: number; loss: number; gradNorm: number; epochs: number; stopReason: string; divergedAtEpoch?: number;
    /** 'cpu' when the device was lost and no new one could be had. */
    device: 'gpu' | 'cpu'; adapter: string | null;
  };
  model?: {
    theta: number[]; loss: number; gradNorm: number; epochs: number; updates: number; stopReason: string; divergedAtEpoch?: number;
    snapshot: PlainModelSnapshot;
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

async function trainStreamed(gpu: GpuContext, job: Extract<GpuJob, { kind: 'train-stream' }>, onEpoch?: (info: EpochInfo) => void) {
  const { n, d, chunkRows, streamUrl } = job;
  const input = job.file && (globalThis.document?.getElementById('nabla-file') as HTMLInputElement | null)?.files?.[0];
  if (job.file && !input) throw new Error('stream: the page has no file in #nabla-file');
  const stream: ChunkStream = job.file ? blobRecordStream(input!, job.file, n, d, chunkRows) : { n, d, chunkRows, read: () => fetchedPass(streamUrl, d) };
  const engine = await GpuLinearEngine.createStreamed(gpu, stream, { standardize: fromPlain(job.standardize) });
  try {
    const r = await engine.train({ ...job.train, onEpoch });
    const g = await engine.gradient({ w: r.w, b: r.b });
    return {
      gradient: { loss: g.loss, gradW: Array.from(g.gradW), gradB: g.gradB },
      train: { ...r, w: Array.from(r.w), device: 'gpu' as const, adapter: engine.adapter },
    };
  } finally {
    engine.dispose();
  }
}

/** onEpoch hears every training job's epochs, and formula-fit's iterations (FitProgress). */
export async function runGpuJob(job: GpuJob, onEpoch?: (info: EpochInfo | FitProgress) => void, onNotice?: (message: string) => void): Promise<GpuJobResult> {
  const gpu = await requestGpu();
  try {
    const adapter = gpu.summary;
    if (job.kind === 'probe') return { adapter };
    if (job.kind === 'train-stream') return { adapter, ...(await trainStreamed(gpu, job, onEpoch)) };
    if (job.kind === 'model-train-stream') {
      const { n, d, chunkRows, streamUrl } = job;
      const rows: RowStream = { n, d, chunkRows, pass: () => fetchedPass(streamUrl, d) };
      const { resumeFrom, ...options } = job.options;
      const { result: r, device, adapter: finishedOn } = await trainModelStreamedWithRecovery(gpu, job.config, rows, { ...options, resumeFrom: resumeFrom && fromPlainSnapshot(resumeFrom), onEpoch }, {
        acquire: () => requestGpu(), notice: onNotice, engine: { maxBatchRows: job.options.batchSize },
      });
      return { adapter, model: { ...r, theta: Array.from(r.theta), snapshot: toPlainSnapshot(r.snapshot), device, adapter: finishedOn } };
    }
    if (job.kind === 'formula-train-stream' || job.kind === 'formula-fit-stream') {
      const { n, d, chunkRows, streamUrl } = job;
      const rows: RowStream = { n, d, chunkRows, pass: () => fetchedPass(streamUrl, d) };
      if (job.kind === 'formula-train-stream') return { adapter, formula: await runFormulaTrain(gpu, job, rows, onEpoch, onNotice) };
      return { adapter, fit: await runFormulaFit(gpu, job, rows, onEpoch, onNotice) };
    }
    const response = await fetch(job.dataUrl);
    if (!response.ok) throw new Error(`fetching ${job.dataUrl}: HTTP ${response.status}`);
    const bytes = await response.arrayBuffer();
    const { n, d } = job;
    if (bytes.byteLength !== (n * d + n) * 4) throw new Error(`data: expected ${(n * d + n) * 4} bytes, got ${bytes.byteLength}`);
    const data = { n, d, x: new Float32Array(bytes, 0, n * d), y: new Float32Array(bytes, n * d * 4, n) };
    if (job.kind === 'formula-train') return { adapter, formula: await runFormulaTrain(gpu, job, data, onEpoch, onNotice) };
    if (job.kind === 'formula-fit') return { adapter, fit: await runFormulaFit(gpu, job, data, onEpoch, onNotice) };
    if (job.kind === 'model-train') {
      const { resumeFrom, ...options } = job.options;
      const { result: r, device, adapter: finishedOn } = await trainModelWithRecovery(gpu, job.config, data, { ...options, resumeFrom: resumeFrom && fromPlainSnapshot(resumeFrom), onEpoch }, {
        acquire: () => requestGpu(), notice: onNotice, engine: { maxBatchRows: job.options.batchSize },
      });
      return { adapter, model: { ...r, theta: Array.from(r.theta), snapshot: toPlainSnapshot(r.snapshot), device, adapter: finishedOn } };
    }
    const at = job.at ?? { w: new Array<number>(d).fill(0), b: 0 };
    if (job.kind === 'gradient') {
      const engine = await GpuLinearEngine.create(gpu, data, { chunkBytes: job.chunkBytes });
      try {
        const g = await engine.gradient(at);
        return { adapter, gradient: { loss: g.loss, gradW: Array.from(g.gradW), gradB: g.gradB } };
      } finally {
        engine.dispose();
      }
    }
    if (!job.train) throw new Error('train job without options');
    const r = await trainWithRecovery(gpu, data, { ...job.train, init: at, onEpoch }, { acquire: () => requestGpu(), notice: onNotice, engine: { chunkBytes: job.chunkBytes, standardize: fromPlain(job.standardize) } });
    const { final, recoveries: _r, ...result } = r;
    return {
      adapter,
      gradient: { loss: final.loss, gradW: Array.from(final.gradW), gradB: final.gradB },
      train: { ...result, w: Array.from(result.w) },
    };
  } finally {
    gpu.device.destroy();
  }
}
