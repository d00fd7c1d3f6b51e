// `nabla convert IN OUT.f32`: any supported source to the raw format, streamed chunk by chunk. The
// output is written under a temporary name in the same directory and renamed only once complete, so
// an error (bad cell at row 10^7, full disk) never leaves a half-written OUT that looks valid.
import { dirname, basename, join } from 'node:path';
import { rename, unlink } from 'node:fs/promises';
import { createRawWriter } from './raw-format.ts';
import { openSource, type SourceOptions } from './source.ts';

export interface ConvertOptions extends SourceOptions {
  /** The raw format stores a number target (labels could not be told apart from numbers there). */
  target: string;
  labels?: undefined;
  /** Rows per chunk while converting (memory is about this many rows of float32). */
  chunkRows?: number;
}

export interface ConvertResult {
  rows: number;
  droppedRows: number;
  features: string[];
  target: string;
}

export async function convertToRaw(inPath: string, outPath: string, opts: ConvertOptions): Promise<ConvertResult> {
  const { chunkRows, ...sourceOptions } = opts;
  const source = await openSource(inPath, sourceOptions);
  // Same directory: rename is then atomic (no cross-device copy).
  const tmp = join(dirname(outPath), `.${basename(outPath)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  const writer = await createRawWriter(tmp, source.features, opts.target);
  let droppedRows = 0;
  try {
    for await (const c of source.chunks(chunkRows ?? 65536)) {
      await writer.append(c.x, c.y, c.rows);
      droppedRows += c.droppedRows;
    }
    const rows = await writer.finish();
    await rename(tmp, outPath);
    return { rows, droppedRows, features: source.features, target: opts.target };
  } catch (err) {
    await writer.abort();
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
