// The chunk size of `--stream` when --chunk-mb is not given. The CPU paths hold about four chunks at once
// (the engine's copy in memory its threads share, the chunk read ahead, the one being filled, the reader's
// block) on top of a ~130 MiB process, so 16 MiB keeps `nabla train --stream` under 250 MiB peak resident
// whatever the file size (README, --stream); the GPU path uploads each chunk and gains from fewer, larger ones.
import { chunkBytesOfRows } from '../data/source.ts';

const MiB = 2 ** 20;

export const STREAM_CHUNK_MB = { cpu: 16, gpu: 64 } as const;

/** Bytes per stream chunk: --chunk-mb, else 64 MiB with --device gpu and 16 MiB otherwise (auto, cpu, cpu64). */
export function streamChunkBytes(chunkMb: number | undefined, device: string | undefined): number {
  return Math.floor((chunkMb ?? (device === 'gpu' ? STREAM_CHUNK_MB.gpu : STREAM_CHUNK_MB.cpu)) * MiB);
}

/**
 * Bytes per stream chunk of `train --stream`. A resumed mini-batch run that kept its chunk rows (saved: those
 * rows, and d, the stream's feature columns) is cut in them again, since its batches lie inside chunks and the
 * default differs by device; a --chunk-mb that contradicts them was refused before (resume.ts).
 */
export function trainChunkBytes(chunkMb: number | undefined, device: string | undefined, saved?: { rows: number; d: number }): number {
  return saved ? chunkBytesOfRows(saved.rows, saved.d) : streamChunkBytes(chunkMb, device);
}
