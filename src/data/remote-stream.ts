// A server without range requests: each pass downloads the body once and reads it forward, holding one
// network piece beyond what was asked for. The readers still ask for bytes by position: bytes ahead are
// skipped as they arrive; bytes behind mean downloading again from the start (said through onNotice), so a
// reader that seeks back still works, at the price of a download per seek. Raw, CSV and Arrow streams read
// forward only; Parquet reads its footer when opened (one download) and then its column chunks in file order.
import type { ByteSource } from './byte-source.ts';
import { DataError } from './errors.ts';
import { checkVersion } from './http-bytes.ts';
import { encodingOf, fileChanged, noticeOf, RetryableFetch, withRetries, type HttpOptions, type RemoteFile } from './http-probe.ts';
import { reasonOf } from './source.ts';

export function streamedBytes(remote: RemoteFile, opts: HttpOptions = {}): ByteSource {
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  let at = 0; // file offset of pending[0]
  let pending: Uint8Array = new Uint8Array(0);
  // The whole network piece that pending is the rest of: a read a little behind (apache-arrow reads the
  // magic bytes, then the stream again from byte 0) is served from it rather than by a new download.
  let piece: Uint8Array = new Uint8Array(0);
  let pieceAt = 0;
  let downloads = 0;
  let queue: Promise<unknown> = Promise.resolve();

  const drop = () => {
    const r = reader;
    reader = null;
    pending = new Uint8Array(0);
    piece = pending;
    return r ? r.cancel().catch(() => {}) : Promise.resolve();
  };

  async function start(want: number): Promise<void> {
    await drop();
    if (downloads++ > 0) noticeOf(opts)(`${remote.url}: the server does not take range requests; downloading it again from the start to reach byte ${want}`);
    let res: Response;
    try {
      res = await (opts.fetch ?? fetch)(remote.url, { headers: { 'Accept-Encoding': 'identity' } });
    } catch (err) {
      throw new RetryableFetch(`network error: ${reasonOf(err)}`);
    }
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel().catch(() => {});
      if (res.status >= 500 || res.status === 408 || res.status === 429) throw new RetryableFetch(`HTTP ${res.status}`);
      throw new DataError(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} for the whole file`, { file: remote.url });
    }
    checkVersion(remote, res, 'the start of a new download');
    // A compressed answer's length counts its compressed bytes; the decoded body is checked against the size as it comes.
    const length = encodingOf(res.headers) ? null : res.headers.get('content-length');
    if (remote.sizeKnown && length !== null && Number(length) !== remote.size) {
      await res.body.cancel().catch(() => {});
      throw fileChanged(remote, 'the start of a new download', `size ${remote.size} -> ${length} bytes`);
    }
    reader = res.body.getReader();
    at = 0;
  }

  /** The next network piece into pending; false at the end of the body. */
  async function pull(): Promise<boolean> {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader!.read();
    } catch (err) {
      await drop();
      throw new RetryableFetch(`connection lost at byte ${at} (${reasonOf(err)})`);
    }
    if (next.done) return false;
    if (remote.sizeKnown && at + next.value.length > remote.size) {
      throw new DataError(`the server sent more than the ${remote.size} bytes it announced`, { file: remote.url });
    }
    pending = piece = next.value;
    pieceAt = at;
    return true;
  }

  async function readNow(pos: number, len: number): Promise<Uint8Array> {
    const end = Math.min(remote.size, pos + Math.max(0, len));
    if (end <= pos) return new Uint8Array(0);
    const out = new Uint8Array(new ArrayBuffer(end - pos)); // offset 0: Float32-aligned, as fileBytes gives
    let got = 0;
    await withRetries(remote.url, `bytes ${pos}-${end - 1}`, opts, async () => {
      if (reader !== null && pos + got < at && pos + got >= pieceAt) {
        pending = piece.subarray(pos + got - pieceAt);
        at = pos + got;
      }
      if (reader === null || pos + got < at) await start(pos + got);
      while (pos + got < end) {
        if (pending.length === 0 && !(await pull())) {
          if (remote.sizeKnown) throw new RetryableFetch(`the body ended at byte ${at}, before the ${remote.size} bytes announced`);
          return; // unknown size: this is the end of the file
        }
        const skip = Math.min(pending.length, pos + got - at);
        const n = Math.min(pending.length - skip, end - pos - got);
        out.set(pending.subarray(skip, skip + n), got);
        got += n;
        pending = pending.subarray(skip + n);
        at += skip + n;
      }
    });
    return got === out.length ? out : out.subarray(0, got);
  }

  return {
    size: remote.size,
    // One read at a time: concurrent readers (Parquet's columns) would otherwise interleave on one body.
    read: (pos, len) => {
      const result = queue.then(() => readNow(pos, len));
      queue = result.catch(() => {});
      return result;
    },
    close: async () => {
      await queue;
      await drop();
    },
  };
}

/** Bytes in the body of a download, counted by reading it once: the size of a file served compressed. */
export async function downloadedSize(remote: RemoteFile, opts: HttpOptions = {}): Promise<number> {
  const bytes = streamedBytes(remote, opts);
  let size = 0;
  try {
    for (let piece; (piece = await bytes.read(size, COUNT_PIECE_BYTES)).length > 0; ) size += piece.length;
  } finally {
    await bytes.close();
  }
  return size;
}

const COUNT_PIECE_BYTES = 1 << 20;
