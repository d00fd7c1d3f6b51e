// Streamed rows as a gradient source of the CPU program (cpu-program.ts): the gradient of a batch is
// evaluated on the chunk that holds it (mini-batches lie inside chunks, BatchSchedule's chunkRows), the
// full batch chunk by chunk with the pieces' means combined in float64, weighted by their rows. What
// evaluates a chunk is the caller's: the float64 network, or a fast engine built once over a chunk's
// capacity that takes every chunk into the same buffers (load): buffers shared with worker threads are
// freed only when every thread's garbage collector gets to them, so one engine per chunk grows the
// process by a chunk or more per chunk read.
import type { BatchRange } from '../models/batches.ts';
import type { ModelData } from '../models/network.ts';
import { ChunkCursor, type CursorChunk, type RowStream } from '../models/row-stream.ts';
import type { CpuGradientSource, ModelRules } from './cpu-program.ts';
import type { ModelGradient } from './mlp_gradient.ts';

export interface ChunkEvaluator {
  /** Mean loss and gradient over rows range.start.. of the chunk (relative to it). */
  gradient(theta: Float64Array, range: BatchRange): ModelGradient | Promise<ModelGradient>;
  /**
   * Takes the next chunk in place of the current one (copied into the same buffers; at most as many rows
   * as the first chunk). An evaluator with load() copies every chunk, the first included, and never reads
   * the chunk's arrays afterwards. Without it every chunk gets a new evaluator over the chunk's arrays.
   */
  load?(chunk: ModelData): void;
  dispose(): void;
}

export type EvaluatorFactory = (chunk: ModelData) => ChunkEvaluator;

export class StreamedGradients {
  readonly cursor: ChunkCursor;
  private evaluator: { chunk: CursorChunk; on: ChunkEvaluator } | null = null;

  /**
   * check: the model's data checks (labels in range, targets the loss takes), run on every chunk as they run on
   * rows in memory: an evaluator that loads later chunks into its first one's buffers would not see them. It is
   * told the chunk's first row in the stream, so that a bad row is named by its place in the whole stream.
   */
  constructor(readonly rows: RowStream, private readonly evaluatorFor: EvaluatorFactory, private readonly check: (chunk: ModelData, firstRow: number) => void) {
    this.cursor = new ChunkCursor(rows);
  }

  private on(chunk: CursorChunk): ChunkEvaluator {
    if (this.evaluator?.chunk !== chunk) {
      const data = { x: chunk.x.subarray(0, chunk.rows * this.rows.d), y: chunk.y.subarray(0, chunk.rows), n: chunk.rows, d: this.rows.d };
      this.check(data, chunk.start);
      const reused = this.evaluator?.on.load ? this.evaluator.on : null;
      if (reused) reused.load!(data);
      else this.evaluator?.on.dispose();
      this.evaluator = null;
      const on = reused ?? this.evaluatorFor(data);
      this.evaluator = { chunk, on };
      // An evaluator that loads holds its own copy: the reader may refill the chunk's buffers now, while
      // this one is computed on, so a run holds the copy, the chunk read ahead and the one being read. The
      // cursor's recycle gives a chunk back once: moving past it later does not give it again.
      if (on.load) chunk.recycle?.();
    }
    return this.evaluator.on;
  }

  async gradient(theta: Float64Array, range: BatchRange): Promise<ModelGradient> {
    let loss = 0;
    let grad: Float64Array | null = null;
    for await (const piece of this.cursor.pieces(range)) {
      const g = await this.on(piece.chunk).gradient(theta, { start: piece.start, rows: piece.rows });
      if (piece.rows === range.rows) return g; // a mini-batch: its own chunk's evaluation, as resident data gives it
      const weight = piece.rows / range.rows;
      grad ??= new Float64Array(g.grad.length);
      loss += weight * g.loss;
      for (let k = 0; k < grad.length; k++) grad[k] += weight * g.grad[k];
    }
    return { loss, grad: grad! };
  }

  /** The CPU program's source: the model's own rules (initial parameters, checks) with these gradients. */
  source(base: ModelRules): CpuGradientSource {
    return { ...base, n: this.rows.n, fromStream: true, gradient: (theta, range) => this.gradient(theta, range) };
  }

  async dispose(): Promise<void> {
    this.evaluator?.on.dispose();
    this.evaluator = null;
    await this.cursor.close();
  }
}
