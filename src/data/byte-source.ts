// Random-access bytes for the binary readers (raw format, Parquet): a Node FileHandle or a browser Blob.
import { DataError } from './errors.ts';

export interface ByteSource {
  size: number;
  /** Exactly len bytes at pos, into a fresh aligned buffer, unless the source is shorter. */
  read(pos: number, len: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export function blobBytes(blob: Blob): ByteSource {
  return {
    size: blob.size,
    read: async (pos, len) => new Uint8Array(await blob.slice(pos, pos + len).arrayBuffer()),
    close: async () => {},
  };
}

/** The same bytes, each read reported to onBytes (for a progress line); the source itself without one. */
export function countedBytes(bytes: ByteSource, onBytes?: (n: number) => void): ByteSource {
  if (!onBytes) return bytes;
  return {
    size: bytes.size,
    read: async (pos, len) => {
      const got = await bytes.read(pos, len);
      onBytes(got.length);
      return got;
    },
    close: () => bytes.close(),
  };
}

export async function fileBytes(path: string, onBytes?: (n: number) => void): Promise<ByteSource> {
  const { open } = await import('node:fs/promises');
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new DataError(`cannot read the file (${err instanceof Error ? err.message : String(err)})`, { file: path });
  }
  const { size } = await fh.stat();
  return {
    size,
    read: async (pos, len) => {
      const buf = new Uint8Array(new ArrayBuffer(len)); // fresh ArrayBuffer: offset 0, so Float32-aligned
      let got = 0;
      while (got < len) {
        const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      onBytes?.(got);
      return got === len ? buf : buf.subarray(0, got);
    },
    close: () => fh.close(),
  };
}
