// One streamed training run in the page, with `nabla train --stream` semantics: a first pass counts the
// rows and computes the standardization statistics (float64), then every epoch is one pass over the data
// in chunks, each chunk standardized in place and handed to the streamed engine of the linear model's formula
// (GpuFormulaEngine.createStreamed on WebGPU, trainFormulaStreamedOnCpu on the fast CPU path), then one more pass
// for the final loss. The
// page holds a few chunks (the one in use, the one read ahead, the reader's recycled buffers), never the file.
import { ChunkBuffers } from '../../data/chunk-builder.ts';
import { DataError } from '../../data/errors.ts';
import { rowsPerChunk, type SampleSource } from '../../data/source.ts';
import { StatsAccumulator, type Standardizer } from '../../data/stats.ts';
import { GpuFormulaEngine } from '../../gpu/formula/gpu-formula-engine.ts';
import { trainFormulaStreamedOnCpu } from '../../cpu-fast/formula-engine.ts';
import { linearFormulaModel } from '../../models/linear-formula.ts';
import type { ModelTrainOptions, ModelTrainResult } from '../../models/model-engine.ts';
import { standardizeChunk, type RowChunk, type RowStream } from '../../models/row-stream.ts';
import { optimizerConfig } from '../../optim/config.ts';
import type { Backend } from '../backend.ts';
import { yieldTask } from '../tasks.ts';
import { openData, type ByteCounter, type DataInput } from './open-data.ts';

export interface StreamPlan {
  input: DataInput;
  target: string;
  features: string[];
  /** Bytes of float32 rows per chunk (--chunk-mb). */
  chunkBytes: number;
  lr: number;
  epochs: number;
  /** Samples per update; null: full batch. */
  batchSize: number | null;
}

export type Phase = 'statistics' | 'epoch' | 'final';

/** What the progress line shows, updated as chunks arrive. */
export interface PassProgress {
  phase: Phase;
  /** 1-based epoch while phase is 'epoch'. */
  epoch: number;
  epochs: number;
  /** Bytes and rows read in this pass, and when it began (performance.now()). */
  bytes: number;
  rows: number;
  startedMs: number;
  /** Rows kept by the first pass; null until it ends. */
  totalRows: number | null;
  droppedRows: number;
}

export interface StreamRunHooks {
  onProgress(p: Readonly<PassProgress>): void;
  /** An epoch's loss (standardized units): J at the epoch's start point for the full batch, the mean batch loss for mini-batches. */
  onLoss(epoch: number, loss: number): void;
}

/** Rows are counted per pass; bytes come from the counter openData feeds. */
export class StreamRun {
  readonly progress: PassProgress;
  private readonly counter: ByteCounter = { bytes: 0 };
  private readonly abort = new AbortController();
  private passes = 0;

  constructor(private readonly backend: Backend, private readonly plan: StreamPlan, private readonly hooks: StreamRunHooks) {
    this.progress = { phase: 'statistics', epoch: 0, epochs: plan.epochs, bytes: 0, rows: 0, startedMs: performance.now(), totalRows: null, droppedRows: 0 };
  }

  stop(): void {
    this.abort.abort();
  }

  get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  async run(): Promise<ModelTrainResult> {
    const { plan } = this;
    // One set of chunk buffers for every pass: each pass opens the source again.
    const opts = { target: plan.target, features: plan.features, buffers: new ChunkBuffers() };
    this.beginPass();
    const first = await openData(plan.input, opts, this.counter);
    const d = first.features.length;
    const chunkRows = rowsPerChunk(plan.chunkBytes, d);
    const stats = new StatsAccumulator(d);
    let dropped = 0;
    for await (const c of first.chunks(chunkRows)) {
      stats.add(c);
      dropped += c.droppedRows;
      this.countRows(c.rows);
      c.recycle?.();
      if (this.stopped) throw new DOMException('stopped', 'AbortError');
      await yieldTask(); // parsing is synchronous: let the page paint between chunks
    }
    if (stats.rows === 0) throw new DataError('no rows to train on', { file: first.file });
    this.progress.totalRows = stats.rows;
    this.progress.droppedRows = dropped;
    const scaler = stats.result();
    const rows = this.rowStream(first, stats.rows, chunkRows, scaler);
    return this.train(rows);
  }

  /**
   * Every pass reads the source opened for the statistics again (chunks() starts over): its schema, and for
   * a URL the version the probe saw, stay those of the first pass, so a file replaced meanwhile is an error.
   */
  private rowStream(source: SampleSource, n: number, chunkRows: number, scaler: Standardizer): RowStream {
    const d = source.features.length;
    const self = this;
    return {
      n, d, chunkRows,
      async *pass(): AsyncGenerator<RowChunk> {
        self.beginPass();
        for await (const c of source.chunks(chunkRows)) {
          self.countRows(c.rows);
          yield standardizeChunk(c, d, scaler);
          await yieldTask();
        }
      },
    };
  }

  private async train(rows: RowStream): Promise<ModelTrainResult> {
    const { plan, backend } = this;
    const model = linearFormulaModel(rows.d);
    const start = new Float64Array(rows.d + 1);
    const options: Omit<ModelTrainOptions, 'chunkRows'> = {
      lr: plan.lr, maxEpochs: plan.epochs, optimizer: optimizerConfig({ kind: 'sgd' }),
      ...(plan.batchSize !== null && plan.batchSize < rows.n ? { batchSize: plan.batchSize } : {}),
      seed: 1, reportEvery: 1, signal: this.abort.signal,
      onEpoch: (e) => this.hooks.onLoss(e.epoch, e.loss),
    };
    if (backend.kind === 'cpu') return (await trainFormulaStreamedOnCpu(model, start, rows, options, { pool: backend.threads.pool })).result;
    const engine = await GpuFormulaEngine.createStreamed(backend.gpu, model, rows, start);
    try {
      return await engine.train(options);
    } finally {
      engine.dispose();
    }
  }

  /** A pass starts: the statistics pass, then epochs 1..E, then the final evaluation. */
  private beginPass(): void {
    const p = this.progress;
    const k = this.passes++;
    p.phase = k === 0 ? 'statistics' : k <= p.epochs ? 'epoch' : 'final';
    p.epoch = Math.min(k, p.epochs);
    p.rows = 0;
    p.startedMs = performance.now();
    this.counter.bytes = 0;
    this.report();
  }

  private countRows(rows: number): void {
    this.progress.rows += rows;
    this.report();
  }

  private report(): void {
    this.progress.bytes = this.counter.bytes;
    this.hooks.onProgress(this.progress);
  }
}
