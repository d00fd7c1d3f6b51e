// Streamed training of the model engine (GpuModelEngine.createStreamed): the data buffers hold one chunk of
// a RowStream, and a chain of updates walks the chunks in order (the one loop cuts mini-batches inside
// chunks: BatchSchedule's chunkRows). Each run of updates on one chunk is one submit after that chunk's
// upload (queue order puts the upload after the submits before it and before the one after), with batch
// starts relative to the chunk; the history comes back once, at the chain's end. A batch that spans chunks
// (the full batch) is evaluated piece by piece, the pieces' mean gradients combined in float64 on the host
// weighted by their rows, and its history record and optimizer update then run on that combined gradient.
import type { BatchRange } from '../../models/batches.ts';
import { validateModelData, type NetworkConfig } from '../../models/network.ts';
import { ChunkCursor, type CursorChunk, type RowStream } from '../../models/row-stream.ts';
import type { ChainPlan, ChainRecord, ProgramState } from '../../train/program.ts';
import type { OptimizerConfig } from '../../optim/config.ts';
import type { ModelTrainOptions, ModelTrainResult } from '../../models/model-engine.ts';
import { runTraining } from '../../train/loop.ts';
import type { DeviceIo } from '../device-io.ts';
import { createBufferChecked } from '../resources.ts';
import { GpuModelProgram, type GradientPasses, type ModelProgramContext } from './model-program.ts';
import { CONTROL_BYTES, CONTROL_CONVERGED } from './optim-update-pass.ts';

const kLabel = 'nabla.model.stream';

/** Gradient passes whose step slots can each be pointed at a batch (MlpGradientPasses, FormulaGradientPasses). */
export interface SlotGradientPasses extends GradientPasses {
  writeSlot(slot: number, batch: BatchRange): void;
}

/** A chunk's rows as a model's data checks them (the network's or the formula's validate*Data). */
export type ChunkCheck = (data: { n: number; d: number; x: Float32Array; y: Float32Array }, firstRow: number) => void;

/** The chunk on the GPU: which one the data buffers hold, and the pieces of a range over the chunks. */
export class ResidentChunks {
  readonly cursor: ChunkCursor;
  private resident: CursorChunk | null = null;
  private readonly check: ChunkCheck;

  /** rows: most samples one evaluation covers (the plan's rows, at most one chunk); model: a network or a chunk check. */
  constructor(
    readonly stream: RowStream,
    model: NetworkConfig | ChunkCheck,
    private readonly io: DeviceIo,
    private readonly buffers: { x: GPUBuffer; y: GPUBuffer },
    readonly rows: number,
  ) {
    this.check = typeof model === 'function' ? model : (data, firstRow) => validateModelData(model, data, firstRow);
    this.cursor = new ChunkCursor(stream);
  }

  private chunkIndex(row: number): number {
    return Math.floor(row / this.stream.chunkRows);
  }

  /** A batch one evaluation covers on its chunk: inside one chunk and no larger than an evaluation. */
  direct(batch: BatchRange): boolean {
    return batch.rows <= this.rows && this.chunkIndex(batch.start) === this.chunkIndex(batch.start + batch.rows - 1);
  }

  sameChunk(a: BatchRange, b: BatchRange): boolean {
    return this.chunkIndex(a.start) === this.chunkIndex(b.start);
  }

  /** Makes the chunk holding `row` the one on the GPU (an upload when it changes); returns it. */
  async holding(row: number): Promise<CursorChunk> {
    const chunk = await this.cursor.chunkOf(row);
    this.upload(chunk);
    return chunk;
  }

  private upload(chunk: CursorChunk): void {
    if (chunk === this.resident) return;
    const { d } = this.stream;
    const data = { n: chunk.rows, d, x: chunk.x.subarray(0, chunk.rows * d), y: chunk.y.subarray(0, chunk.rows) };
    try {
      this.check(data, chunk.start);
    } catch (e) {
      throw new RangeError(`stream: chunk ${chunk.index} (rows ${chunk.start}..${chunk.start + chunk.rows - 1}): ${(e as Error).message}`);
    }
    const queue = this.io.live().queue;
    // The previous chunk's submits were queued before this write: they read their own data.
    this.resident = null;
    queue.writeBuffer(this.buffers.x, 0, chunk.x as Float32Array<ArrayBuffer>, 0, chunk.rows * d);
    queue.writeBuffer(this.buffers.y, 0, chunk.y as Float32Array<ArrayBuffer>, 0, chunk.rows);
    this.resident = chunk;
  }

  /** The pieces of a range, each made resident before it is handed out, relative to its chunk. */
  async *pieces(range: BatchRange): AsyncGenerator<BatchRange> {
    for await (const piece of this.cursor.pieces(range)) {
      this.upload(piece.chunk);
      for (let at = 0; at < piece.rows; at += this.rows) yield { start: piece.start + at, rows: Math.min(this.rows, piece.rows - at) };
    }
  }

  /** The data buffers no longer hold what resident says (a new device, a failed write). */
  forget(): void {
    this.resident = null;
  }

  close(): Promise<void> {
    this.resident = null;
    return this.cursor.close();
  }
}

/**
 * The mean loss and gradient over `range`, piece by piece (`pieces`: evaluations of at most the plan's rows over
 * the resident data, or ResidentChunks.pieces over a stream, each uploaded before it is handed out): each piece is
 * one submit through step slot `slot` and one read-back; `first` records into the first piece's submit (before its
 * pass). One piece: its float32 values as they are; several: their means combined in float64, weighted by their rows.
 */
export async function piecewiseGradient(
  io: DeviceIo, pieces: Iterable<BatchRange> | AsyncIterable<BatchRange>, passes: SlotGradientPasses, buffers: { gradLoss: GPUBuffer }, stride: number,
  job: { range: BatchRange; slot: number; readback: GPUBuffer; first?: (encoder: GPUCommandEncoder) => void },
): Promise<{ loss: number; grad: Float64Array }> {
  const { range, slot, readback } = job;
  const P = stride - 1;
  const grad = new Float64Array(P);
  let loss = 0;
  let count = 0;
  let single: Float32Array | null = null;
  for await (const piece of pieces) {
    passes.writeSlot(slot, piece);
    const encoder = io.live().createCommandEncoder({ label: `${kLabel}.gradient.encoder` });
    if (count === 0) job.first?.(encoder);
    const pass = encoder.beginComputePass({ label: `${kLabel}.gradient.pass` });
    passes.record(pass, slot);
    pass.end();
    encoder.copyBufferToBuffer(buffers.gradLoss, 0, readback, 0, stride * 4);
    await io.submitChecked(encoder, 'gradient');
    const out = new Float32Array(await io.readBack(readback, stride * 4));
    count++;
    single = out;
    const weight = piece.rows / range.rows; // each piece's values are means over its rows
    loss += weight * out[P];
    for (let k = 0; k < P; k++) grad[k] += weight * out[k];
  }
  if (count === 1) return { loss: single![P], grad: Float64Array.from(single!.subarray(0, P)) };
  return { loss, grad };
}

export interface StreamedProgramContext extends ModelProgramContext {
  /** stride: values per gradient (params + 1: the gradient, then the loss). */
  plan: ModelProgramContext['plan'] & { stride: number };
  buffers: ModelProgramContext['buffers'];
  passes: SlotGradientPasses;
  chunks: ResidentChunks;
}

export class StreamedModelProgram extends GpuModelProgram {
  readonly fromStream = true;
  private pieceReadback: GPUBuffer | null = null;

  constructor(private readonly streamed: StreamedProgramContext) {
    super(streamed);
  }

  override check(setup: { batchSize: number }): void {
    // The full batch runs chunk by chunk; a mini-batch is one evaluation on its chunk.
    if (setup.batchSize < this.n && setup.batchSize > this.ctx.plan.rows) {
      throw new RangeError(`batch size: ${setup.batchSize} samples exceed the ${this.ctx.plan.rows} this engine holds per evaluation (maxBatchRows)`);
    }
  }

  override async start(state: ProgramState, setup: { optimizer: OptimizerConfig }): Promise<void> {
    await super.start(state, setup);
    try {
      this.pieceReadback = await createBufferChecked(this.ctx.io.live(), {
        label: `${kLabel}.pieceReadback`, size: Math.ceil(this.streamed.plan.stride / 4) * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    } catch (e) {
      super.finish();
      throw e;
    }
  }

  override async run(plan: ChainPlan): Promise<ChainRecord> {
    const { optim, history } = this.live();
    const { passes, buffers, plan: mlp } = this.streamed;
    const { chunks } = this.streamed;
    const io = this.ctx.io;
    const batches = plan.batches;
    const k = batches.length;
    const start = this.beginChain(plan);
    let saved = false;
    const saveStart = (encoder: GPUCommandEncoder) => {
      if (saved) return;
      this.saveStart(encoder, start);
      saved = true;
    };
    let raw: ArrayBuffer | null = null;
    for (let s = 0; s < k;) {
      if (chunks.direct(batches[s])) {
        // The updates on this chunk: one submit, their batches relative to it.
        let end = s + 1;
        while (end < k && chunks.direct(batches[end]) && chunks.sameChunk(batches[end], batches[s])) end++;
        const chunk = await chunks.holding(batches[s].start);
        for (let j = s; j < end; j++) {
          passes.writeSlot(j, { start: batches[j].start - chunk.start, rows: batches[j].rows });
          this.foldSlot(j, batches[j].rows);
        }
        const encoder = io.live().createCommandEncoder({ label: `${kLabel}.encoder` });
        saveStart(encoder);
        const pass = encoder.beginComputePass({ label: `${kLabel}.pass` });
        for (let j = s; j < end; j++) this.recordStep(pass, j);
        pass.end();
        s = end;
        raw = await this.submit(encoder, plan, s === k);
        continue;
      }
      // A batch over several chunks (or pieces): its gradient from the pieces, then its record and update.
      const g = await piecewiseGradient(io, chunks.pieces(batches[s]), passes, buffers, mlp.stride, {
        range: batches[s], slot: s, readback: this.pieceReadback!, first: saveStart,
      });
      const gradLoss = new Float32Array(mlp.stride);
      gradLoss.set(g.grad);
      gradLoss[mlp.params] = g.loss;
      io.live().queue.writeBuffer(buffers.gradLoss, 0, gradLoss);
      const encoder = io.live().createCommandEncoder({ label: `${kLabel}.update.encoder` });
      const pass = encoder.beginComputePass({ label: `${kLabel}.update.pass` });
      history.run(pass, s);
      optim.run(pass, s);
      pass.end();
      s++;
      if (s === k) {
        raw = await this.readOut(encoder, plan);
        break;
      }
      // The stop flag comes back with the update (a few bytes after a pass over the data): once an update
      // met the tolerance nothing after it would run (the resident chain evaluates and skips the rest), so
      // the next pass is not started.
      encoder.copyBufferToBuffer(optim.control, 0, this.pieceReadback!, 0, CONTROL_BYTES);
      const control = await this.ctx.submitAndRead(encoder, this.pieceReadback!, CONTROL_BYTES, 'train');
      if (new Uint32Array(control, 0, 1)[0] === CONTROL_CONVERGED) break;
    }
    // Stopped at the tolerance before the last update: the record comes back on its own.
    return this.endChain(plan, start, raw ?? await this.readOut(io.live().createCommandEncoder({ label: `${kLabel}.readback.encoder` }), plan));
  }

  /** Submits; the chain's last submit also brings back its record (copyOut). */
  private async submit(encoder: GPUCommandEncoder, plan: ChainPlan, last: boolean): Promise<ArrayBuffer | null> {
    if (last) return this.readOut(encoder, plan);
    await this.ctx.io.submitChecked(encoder, 'train');
    return null;
  }

  private readOut(encoder: GPUCommandEncoder, plan: ChainPlan): Promise<ArrayBuffer> {
    return this.ctx.submitAndRead(encoder, this.live().readback, this.copyOut(encoder, plan), 'train');
  }

  override finish(): void {
    this.pieceReadback?.destroy();
    this.pieceReadback = null;
    super.finish();
  }
}

/**
 * An engine's training: the rows it holds (GpuModelProgram), or with a stream's resident chunks one pass over
 * them per epoch (StreamedModelProgram), mini-batches cut inside chunks of the stream's size.
 */
export function trainOnGpu(ctx: Omit<StreamedProgramContext, 'chunks'>, chunks: ResidentChunks | null, o: ModelTrainOptions): Promise<ModelTrainResult> {
  if (!chunks) return runTraining(new GpuModelProgram(ctx), o);
  const chunkRows = chunks.stream.chunkRows;
  if (o.chunkRows !== undefined && o.chunkRows !== chunkRows) {
    throw new RangeError(`chunk rows: ${o.chunkRows} asked for, the stream comes in chunks of ${chunkRows} rows`);
  }
  return runTraining(new StreamedModelProgram({ ...ctx, chunks }), { ...o, chunkRows });
}
