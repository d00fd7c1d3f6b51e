// Streamed data for the linear engine (GpuLinearEngine.createStreamed): what a source hands over
// (ChunkStream), a reader that keeps the next chunk coming while the GPU sums the current one (across
// passes too), the staging buffers, and one gradient evaluation's upload-and-sum loop.
//
// Two chunk forms. De-interleaved x/y chunks (any source, parsed on the host) go to two staging pairs and
// are standardized by StandardizePass after each upload. Raw-format records (`records` set) are uploaded
// as the file stores them, one writeBuffer per chunk, and summed by the RECORDS variant of linear_partials_quad.wgsl, which
// standardizes in registers: no host-side copy per value and no extra pass over the chunk on the GPU.
import type { Standardizer } from '../models/standardize.ts';
import type { DeviceIo } from './device-io.ts';
import type { GpuBatch, GpuChunk } from './linear-buffers.ts';
import { createBufferChecked } from './resources.ts';
import type { LinearPartialsPass } from './passes/linear-partials-pass.ts';
import type { ReducePartialsPass } from './passes/reduce-partials-pass.ts';
import type { ApplyUpdatePass } from './passes/apply-update-pass.ts';
import type { StandardizePass } from './passes/standardize-pass.ts';

/** Raw-format records: `stride` floats per row; feature j is column columns[j], the target columns[d]. */
export interface StreamRecords {
  stride: number;
  columns: number[];
}

export type StreamChunk =
  | { x: Float32Array; y: Float32Array; rows: number }
  /** rows * stride little-endian float32 values, exactly as the raw file stores them. */
  | { records: ArrayBuffer | ArrayBufferView; rows: number };

/**
 * Data that stays on disk (or in a stream): read chunk by chunk for every gradient evaluation, through two
 * staging buffers, so neither host nor GPU memory holds more than a few chunks whatever N is.
 */
export interface ChunkStream {
  readonly n: number;
  readonly d: number;
  /** Rows per chunk, a multiple of 4; every chunk but the last has exactly this many. */
  readonly chunkRows: number;
  /** Set when read() yields records (raw format, d <= 16 features) rather than x/y chunks. */
  readonly records?: StreamRecords;
  /** One pass over the data, in order; called once per gradient evaluation. */
  read(): AsyncIterable<StreamChunk>;
}

/**
 * Passes over a stream, one chunk ahead: while chunk k is uploaded and summed, chunk k + 1 is being read;
 * prime() starts the next pass's first chunk while the GPU finishes the current pass. At most one chunk
 * is read ahead, so host memory stays at a few chunks.
 */
export class ReadAhead<T> {
  private iterator: AsyncIterator<T> | null = null;
  private pending: Promise<IteratorResult<T>> | null = null;

  constructor(private readonly open: () => AsyncIterable<T>) {}

  /** Starts reading the next pass's first chunk, if it is not already under way. */
  prime(): void {
    if (this.pending) return;
    this.iterator = this.open()[Symbol.asyncIterator]();
    this.pending = this.ahead(this.iterator);
  }

  /** One pass, every chunk read while the previous one is in use. */
  async *pass(): AsyncGenerator<T> {
    this.prime();
    try {
      for (;;) {
        const next = await this.pending!;
        if (next.done) return;
        this.pending = this.ahead(this.iterator!);
        yield next.value;
      }
    } finally {
      // The pass ended (or was abandoned, e.g. on an error): the next one starts afresh.
      const it = this.iterator;
      this.iterator = null;
      this.pending = null;
      await it?.return?.(undefined)?.catch(() => undefined);
    }
  }

  /** Closes a pass that was primed but never consumed. */
  async close(): Promise<void> {
    const it = this.iterator;
    this.iterator = null;
    this.pending = null;
    await it?.return?.(undefined)?.catch(() => undefined);
  }

  private ahead(it: AsyncIterator<T>): Promise<IteratorResult<T>> {
    const p = it.next();
    p.catch(() => undefined); // surfaced when the pass awaits it; not an unhandled rejection meanwhile
    return p;
  }
}

/** Where a raw file's records lie (docs/raw-format.md), as the CLI tells the GPU page. */
export interface RecordFileLayout extends StreamRecords {
  dataOffset: number;
}

/**
 * A records stream over a raw file the page holds as a Blob (a File from the CLI's file input): each chunk
 * is one slice read, the bytes exactly as stored. A file changed on disk since it was chosen fails the read.
 */
export function blobRecordStream(file: Blob, layout: RecordFileLayout, n: number, d: number, chunkRows: number): ChunkStream {
  const rowBytes = layout.stride * 4;
  if (file.size < layout.dataOffset + n * rowBytes) throw new RangeError(`stream: the file holds ${file.size} bytes, ${n} records need ${layout.dataOffset + n * rowBytes}`);
  return {
    n, d, chunkRows, records: { stride: layout.stride, columns: layout.columns },
    async *read() {
      for (let start = 0; start < n; start += chunkRows) {
        const rows = Math.min(chunkRows, n - start);
        const at = layout.dataOffset + start * rowBytes;
        yield { records: await file.slice(at, at + rows * rowBytes).arrayBuffer(), rows };
      }
    },
  };
}

/**
 * Two record staging buffers (whole quads of records) and the standardization constants every chunk
 * shares, as GpuChunks: x holds the records, y the constants (the bindings the RECORDS variant of
 * linear_partials_quad.wgsl declares in those places). Without a standardizer the constants are (0, 1): x - 0 and x * 1 are exact.
 */
export async function createRecordStaging(device: GPUDevice, chunkRows: number, d: number, stride: number, standardize: Standardizer | undefined, label: string): Promise<GpuChunk[]> {
  const made: GPUBuffer[] = [];
  const make = async (name: string, size: number) => {
    const b = await createBufferChecked(device, { label: `${label}.${name}`, size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    made.push(b);
    return b;
  };
  try {
    const constants = new Float32Array(2 * d + 2);
    for (let j = 0; j < d; j++) {
      constants[2 * j] = standardize ? standardize.mean[j] : 0;
      constants[2 * j + 1] = standardize ? 1 / standardize.std[j] : 1;
    }
    constants[2 * d] = standardize ? standardize.yMean : 0;
    constants[2 * d + 1] = standardize ? 1 / standardize.yStd : 1;
    const stdz = await make('stdz', Math.ceil(constants.byteLength / 16) * 16);
    device.queue.writeBuffer(stdz, 0, constants);
    const bytes = Math.ceil(chunkRows / 4) * 4 * stride * 4;
    const pairs: GpuChunk[] = [];
    for (const k of [0, 1]) pairs.push({ x: await make(`records${k}`, bytes), y: stdz });
    return pairs;
  } catch (e) {
    for (const b of made) b.destroy();
    throw e;
  }
}

export interface StreamPasses {
  io: DeviceIo;
  stream: ChunkStream;
  reader: ReadAhead<StreamChunk>;
  /** Per chunk of a pass: its rows, and the staging buffers it goes to (pair k % 2). */
  chunkRows: number[];
  staging: GpuChunk[];
  partials: LinearPartialsPass;
  reduce: ReducePartialsPass;
  update: ApplyUpdatePass;
  /** x/y chunks only: standardization after each upload. */
  standardizer: { pass: StandardizePass; chunks: Array<{ bindGroup: GPUBindGroup }> } | null;
  label: string;
}

/**
 * One evaluation over streamed data: chunk k is written to staging k % 2 and its pass-1 slice submitted;
 * the reader fetches chunk k + 1 meanwhile, and the loop waits for chunk k - 1 to finish before writing
 * over its staging, so at most two chunks are queued on the GPU. One validation scope covers the whole
 * evaluation (an error names it, and is never silent), so no per-chunk round trip stalls the pipeline.
 */
export async function streamEvaluation(s: StreamPasses, batch: GpuBatch, update: boolean): Promise<void> {
  const device = s.io.live();
  const { d, chunkRows } = s.stream;
  device.pushErrorScope('validation');
  let popped = false;
  try {
    let k = 0;
    let previous: Promise<unknown> = Promise.resolve();
    for await (const chunk of s.reader.pass()) {
      if (k >= s.chunkRows.length || chunk.rows !== s.chunkRows[k]) {
        throw new RangeError(`stream: chunk ${k} has ${chunk.rows} rows, expected ${s.chunkRows[k] ?? 0} (n = ${s.stream.n}, chunkRows = ${chunkRows})`);
      }
      const { x, y } = s.staging[k];
      if ('records' in chunk) {
        const stride = s.stream.records!.stride;
        const bytes = chunk.rows * stride * 4;
        const view = ArrayBuffer.isView(chunk.records) ? chunk.records : new Uint8Array(chunk.records);
        if (view.byteLength !== bytes) throw new RangeError(`stream: chunk ${k} holds ${view.byteLength} bytes, ${chunk.rows} records of ${stride} floats take ${bytes}`);
        device.queue.writeBuffer(x, 0, view.buffer as ArrayBuffer, view.byteOffset, bytes);
        // A ragged last quad: zeros, not the previous chunk's records, in the masked lanes.
        if (chunk.rows % 4) device.queue.writeBuffer(x, bytes, new Float32Array((4 - (chunk.rows % 4)) * stride));
      } else {
        if (s.stream.records) throw new TypeError('stream: declared records, got an x/y chunk');
        device.queue.writeBuffer(x, 0, chunk.x as Float32Array<ArrayBuffer>, 0, chunk.rows * d);
        device.queue.writeBuffer(y, 0, chunk.y as Float32Array<ArrayBuffer>, 0, chunk.rows);
      }
      const encoder = device.createCommandEncoder({ label: `${s.label}.stream.chunk${k}` });
      const pass = encoder.beginComputePass({ label: `${s.label}.stream.pass` });
      if (s.standardizer) s.standardizer.pass.run(pass, s.standardizer.chunks[k].bindGroup);
      const slice = batch.slices[k];
      s.partials.run(pass, slice.bindGroup, slice.plan);
      pass.end();
      device.queue.submit([encoder.finish()]);
      const done = s.io.guard(device.queue.onSubmittedWorkDone());
      done.catch(() => undefined);
      await previous;
      previous = done;
      k++;
    }
    if (k !== s.chunkRows.length) throw new RangeError(`stream: ended after ${k} chunks, expected ${s.chunkRows.length}`);
    const encoder = device.createCommandEncoder({ label: `${s.label}.stream.reduce` });
    const pass = encoder.beginComputePass({ label: `${s.label}.stream.reducePass` });
    s.reduce.run(pass, batch.reduce);
    if (update) s.update.run(pass);
    pass.end();
    device.queue.submit([encoder.finish()]);
    await previous;
    popped = true;
    const error = await s.io.guard(device.popErrorScope());
    if (error) throw new Error(`${s.label}.stream: ${error.message}`);
  } finally {
    if (!popped) await s.io.guard(device.popErrorScope()).catch(() => undefined);
  }
}
