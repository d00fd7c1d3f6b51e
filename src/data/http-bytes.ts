// Bytes of an http(s) URL through the global fetch (browser, Deno, Node 18+), as the ByteSource the binary
// readers already take. A probe learns the size, whether ranges are served and the file's version (ETag,
// Last-Modified); each read is then one range request whose answer is checked (206, Content-Range,
// Content-Length, version) before its bytes are used. A dropped connection resumes at the first byte not
// yet received, after a growing pause, a bounded number of times. A server without range support is read
// by remote-stream.ts instead: one download of the whole body per pass.
import type { ByteSource } from './byte-source.ts';
import { DataError } from './errors.ts';
import { reasonOf } from './source.ts';
import { encodingOf, fileChanged, RetryableFetch, withRetries, type HttpOptions, type RemoteFile } from './http-probe.ts';

/** Reads shorter than this fetch this much (one block kept), so many small metadata reads cost one request. */
export const READ_AHEAD_BYTES = 256 << 10;

/**
 * One pass's view of a ranged remote file: every read is a range request, checked against the probe. The
 * block a short read fetched is kept, in flight included: a later read that starts inside it takes its
 * bytes from there and asks only for the rest. Readers that ask for consecutive pieces shorter than the
 * block (a Parquet file's column chunks, started together) then fetch each byte once, not once per piece.
 */
export function rangedBytes(remote: RemoteFile, opts: HttpOptions = {}): ByteSource {
  const readAhead = opts.readAheadBytes ?? READ_AHEAD_BYTES;
  let block: { pos: number; end: number; bytes: Promise<Uint8Array> } | null = null;
  // Starts its request before the first await, so that a read issued right after sees the new block.
  const fresh = async (pos: number, end: number): Promise<Uint8Array> => {
    if (end - pos >= readAhead) return fetchRange(remote, pos, end, opts);
    const stop = Math.min(remote.size, pos + readAhead);
    const bytes = fetchRange(remote, pos, stop, opts);
    const mine = { pos, end: stop, bytes };
    block = mine;
    bytes.catch(() => {
      if (block === mine) block = null; // the caller gets the error; a later read tries afresh
    });
    return (await bytes).slice(0, end - pos);
  };
  return {
    size: remote.size,
    read: async (pos, len) => {
      const end = Math.min(remote.size, pos + Math.max(0, len));
      if (end <= pos) return new Uint8Array(0);
      const kept = block;
      if (!kept || pos < kept.pos || pos >= kept.end) return fresh(pos, end);
      if (end <= kept.end) return (await kept.bytes).slice(pos - kept.pos, end - kept.pos); // a copy: fresh and aligned, as the contract says
      const rest = fresh(kept.end, end);
      rest.catch(() => undefined); // awaited below, unless the kept block fails first
      const head = (await kept.bytes).subarray(pos - kept.pos);
      const out = new Uint8Array(new ArrayBuffer(end - pos));
      out.set(head);
      out.set(await rest, head.length);
      return out;
    },
    close: async () => {
      block = null;
    },
  };
}

/** Bytes [from, to) into one fresh buffer; an interrupted body is resumed where it stopped. */
export async function fetchRange(remote: RemoteFile, from: number, to: number, opts: HttpOptions): Promise<Uint8Array> {
  const out = new Uint8Array(new ArrayBuffer(to - from)); // offset 0: Float32-aligned, as fileBytes gives
  let got = 0;
  await withRetries(remote.url, `bytes ${from}-${to - 1}`, opts, () => fetchInto(remote, out, from + got, to, got, opts, (n) => (got += n)));
  return out;
}

/**
 * One range request for [from, to), written into out at `at`. Progress is reported through `advance` as it
 * arrives, so that a retry resumes after it. Throws RetryableFetch for what a retry may
 * cure (network errors, 5xx, 408, 429, a body cut short) and DataError for what it cannot.
 */
async function fetchInto(remote: RemoteFile, out: Uint8Array, from: number, to: number, at: number, opts: HttpOptions,
  advance: (n: number) => void): Promise<void> {
  const range = `bytes ${from}-${to - 1}`;
  const headers: Record<string, string> = { Range: `bytes=${from}-${to - 1}`, 'Accept-Encoding': 'identity' };
  // No If-Match: from a page on another origin it would cost a CORS preflight per read (Range alone is
  // safelisted); the ETag and Last-Modified of every answer are compared instead (checkVersion).
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(remote.url, { headers });
  } catch (err) {
    throw new RetryableFetch(`network error: ${reasonOf(err)}`);
  }
  if (res.status !== 206) {
    await res.body?.cancel().catch(() => {});
    if (res.status === 200) {
      throw new DataError(`the server ignored the range request for ${range} (it answered 200 with the whole file, though it advertised ` +
        'range support); nabla does not download a whole file for each read', { file: remote.url });
    }
    if (res.status === 416) throw fileChanged(remote, range, `the server says ${range} is beyond the end of the file (416)`);
    if (res.status >= 500 || res.status === 408 || res.status === 429) throw new RetryableFetch(`HTTP ${res.status}`);
    throw new DataError(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} for ${range}`, { file: remote.url });
  }
  const encoding = encodingOf(res.headers);
  if (encoding) {
    await res.body?.cancel().catch(() => {});
    // fetch would decode the range as if it were a whole compressed stream: no bytes of the file come of it.
    throw new DataError(`the server compressed its answer to the range request for ${range} (Content-Encoding: ${encoding}) though asked ` +
      'for identity, so its bytes are not those of the file; serve the file uncompressed, or without range support', { file: remote.url });
  }
  checkVersion(remote, res, range);
  checkContentRange(remote, res, from, to, range);
  const body = res.body;
  if (!body) throw new RetryableFetch('a 206 answer without a body');
  const reader = body.getReader();
  let pos = at;
  try {
    for (;;) {
      let piece: ReadableStreamReadResult<Uint8Array>;
      try {
        piece = await reader.read();
      } catch (err) {
        throw new RetryableFetch(`connection lost after ${pos - at} of ${to - from} bytes (${reasonOf(err)})`);
      }
      if (piece.done) break;
      if (pos + piece.value.length > out.length) {
        throw new DataError(`the server sent more than the ${to - from} bytes of ${range}`, { file: remote.url });
      }
      out.set(piece.value, pos);
      pos += piece.value.length;
      advance(piece.value.length);
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => {});
  }
  if (pos < out.length) throw new RetryableFetch(`the answer ended after ${pos - at} of ${to - from} bytes`);
}

/** The version must be the one probed: a file replaced between two reads must not mix into one pass. */
export function checkVersion(remote: RemoteFile, res: Response, range: string): void {
  const etag = res.headers.get('etag');
  if (remote.etag && etag && etag !== remote.etag) throw fileChanged(remote, range, `ETag ${remote.etag} -> ${etag}`);
  const modified = res.headers.get('last-modified');
  if (remote.lastModified && modified && modified !== remote.lastModified) {
    throw fileChanged(remote, range, `Last-Modified ${remote.lastModified} -> ${modified}`);
  }
}

/** `bytes a-b/total` must be exactly the range asked for, of a file of the probed size; Content-Length must agree. */
function checkContentRange(remote: RemoteFile, res: Response, from: number, to: number, range: string): void {
  const header = res.headers.get('content-range');
  const m = header ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim()) : null;
  if (!m) throw new DataError(`the answer to the range request for ${range} has no valid Content-Range (${JSON.stringify(header)})`, { file: remote.url });
  if (m[3] !== '*' && Number(m[3]) !== remote.size) throw fileChanged(remote, range, `size ${remote.size} -> ${m[3]} bytes`);
  if (Number(m[1]) !== from || Number(m[2]) !== to - 1) {
    throw new DataError(`asked for ${range}, the server answered with ${header}`, { file: remote.url });
  }
  const length = res.headers.get('content-length');
  if (length !== null && Number(length) !== to - from) {
    throw new DataError(`the server's Content-Length (${length}) disagrees with its Content-Range (${header}, ${to - from} bytes)`, { file: remote.url });
  }
}
