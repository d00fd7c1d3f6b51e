// What is known of a remote file before its rows are read (size, range support, version), and the retry
// policy that every request for it shares. Only the global fetch is used, so this runs in a page, Deno and Node.
import { DataError } from './errors.ts';
import { reasonOf } from './source.ts';

export interface HttpOptions {
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Failed attempts tolerated per request (network error, 5xx, 408, 429, a body cut short). Default 4. */
  retries?: number;
  /** Pause before the first retry, doubled before each further one. Default 250 ms. */
  backoffMs?: number;
  /** How to wait between tries (tests pass one that does not). */
  sleep?: (ms: number) => Promise<void>;
  /** What the user should hear of: a server without ranges, a retry. Default: console.warn. */
  onNotice?: (message: string) => void;
  /** Smallest range request (see rangedBytes). */
  readAheadBytes?: number;
}

/** Every key of HttpOptions (openUrl takes these besides SourceOptions). */
export const HTTP_OPTION_KEYS: readonly (keyof HttpOptions)[] = ['fetch', 'retries', 'backoffMs', 'sleep', 'onNotice', 'readAheadBytes'];

/** The HTTP options' values, each named when wrong (retries: NaN retried forever; readAheadBytes: NaN asked for bytes 0-NaN). */
export function checkHttpOptions(opts: HttpOptions, what: string): void {
  const { retries, backoffMs, readAheadBytes } = opts;
  if (retries !== undefined && !(Number.isSafeInteger(retries) && retries >= 0)) throw new RangeError(`${what}: retries: expected a whole number >= 0, got ${retries}`);
  if (backoffMs !== undefined && !(Number.isFinite(backoffMs) && backoffMs >= 0)) throw new RangeError(`${what}: backoffMs: expected a finite number of milliseconds >= 0, got ${backoffMs}`);
  if (readAheadBytes !== undefined && !(Number.isSafeInteger(readAheadBytes) && readAheadBytes >= 1)) throw new RangeError(`${what}: readAheadBytes: expected a whole number of bytes >= 1, got ${readAheadBytes}`);
  for (const key of ['fetch', 'sleep', 'onNotice'] as const) {
    if (opts[key] !== undefined && typeof opts[key] !== 'function') throw new TypeError(`${what}: ${key}: expected a function, got ${typeof opts[key]}`);
  }
}

export interface RemoteFile {
  url: string;
  /** Bytes; Number.MAX_SAFE_INTEGER when the server says neither (then sizeKnown is false: text formats only). */
  size: number;
  sizeKnown: boolean;
  /** Range requests work: readers seek; otherwise each pass downloads the body once (remote-stream.ts). */
  ranged: boolean;
  etag?: string;
  lastModified?: string;
  contentType?: string;
  /**
   * A Content-Encoding the server applies though asked for identity. fetch decodes the body, so the lengths
   * and ranges the server speaks of count compressed bytes, not the file's: such a file is read by
   * downloads (ranged false), its size unknown until counted.
   */
  encoding?: string;
}

/** A failure that another try may cure. */
export class RetryableFetch extends Error {}

/** Anything of the form `scheme://...`: a URL, to be read remotely or refused, never taken for a path. */
export function looksLikeUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
}

/** What reads a local file, for a message to someone who gave openUrl a path or a file: URL (a page, Deno). */
const LOCAL_FILES = "a local file is read by its path (openSource from 'nabla/node', or the CLI) or, in a page, as a Blob (openCsvBlob, openParquetBlob, ...)";

export function checkHttpUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DataError(looksLikeUrl(url) ? 'not a valid URL' : `not a URL: openUrl reads http:// and https:// URLs; ${LOCAL_FILES}`, { file: url });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new DataError(`unsupported URL scheme "${parsed.protocol}": nabla reads http:// and https:// URLs; ${LOCAL_FILES}`, { file: url });
  }
  return parsed;
}

export function noticeOf(opts: HttpOptions): (message: string) => void {
  return opts.onNotice ?? ((m) => console.warn(`nabla: ${m}`));
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs attempt until it succeeds, throws a non-retryable error, or has failed retries + 1 times. */
export async function withRetries<T>(url: string, what: string, opts: HttpOptions, attempt: () => Promise<T>): Promise<T> {
  const retries = opts.retries ?? 4;
  for (let failures = 0; ; ) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof RetryableFetch)) throw err;
      failures++;
      if (failures > retries) throw new DataError(`cannot read ${what}: ${err.message} (gave up after ${failures} tries)`, { file: url });
      const wait = (opts.backoffMs ?? 250) * 2 ** (failures - 1);
      noticeOf(opts)(`${url}: ${what}: ${err.message}; try ${failures + 1} of ${retries + 1} in ${wait} ms`);
      await (opts.sleep ?? delay)(wait);
    }
  }
}

export function fileChanged(remote: RemoteFile, range: string, what: string): DataError {
  return new DataError(`the file changed on the server while it was being read (${what}), seen at ${range}; ` +
    'a pass never mixes two versions of a file: start the run again', { file: remote.url });
}

async function request(url: string, init: RequestInit, opts: HttpOptions): Promise<Response> {
  try {
    return await (opts.fetch ?? fetch)(url, init);
  } catch (err) {
    throw new RetryableFetch(`network error: ${reasonOf(err)}`);
  }
}

function failure(url: string, res: Response, what: string): Error {
  if (res.status >= 500 || res.status === 408 || res.status === 429) return new RetryableFetch(`HTTP ${res.status} for ${what}`);
  return new DataError(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} for ${what}`, { file: url });
}

/** The answer's Content-Encoding, where it is not identity. */
export function encodingOf(headers: Headers): string | undefined {
  const encoding = headers.get('content-encoding')?.trim().toLowerCase();
  return encoding && encoding !== 'identity' ? encoding : undefined;
}

function described(url: string, headers: Headers, stated: number | undefined, statedRanged: boolean): RemoteFile {
  const encoding = encodingOf(headers);
  const size = encoding ? undefined : stated;
  const ranged = statedRanged && !encoding;
  const etag = headers.get('etag') ?? undefined;
  const lastModified = headers.get('last-modified') ?? undefined;
  const contentType = headers.get('content-type') ?? undefined;
  // Unknown size: reads stop at the end of the body (text formats); the binary readers refuse it.
  return {
    url, size: size ?? Number.MAX_SAFE_INTEGER, sizeKnown: size !== undefined, ranged,
    ...(etag && { etag }), ...(lastModified && { lastModified }), ...(contentType && { contentType }), ...(encoding && { encoding }),
  };
}

function contentLength(res: Response): number | undefined {
  const v = res.headers.get('content-length');
  return v === null || !/^\d+$/.test(v.trim()) ? undefined : Number(v);
}

/**
 * HEAD first (cheap, and it says Accept-Ranges); where HEAD is refused (a URL signed for GET only) or says
 * nothing about ranges, a GET of the first byte: 206 means ranges work, 200 means they do not.
 */
export async function probeUrl(url: string, opts: HttpOptions = {}): Promise<RemoteFile> {
  checkHttpUrl(url);
  const identity = { 'Accept-Encoding': 'identity' };
  return withRetries(url, 'its size (HEAD)', opts, async () => {
    const head = await request(url, { method: 'HEAD', headers: identity }, opts);
    if (head.ok) {
      const ranges = head.headers.get('accept-ranges')?.toLowerCase() ?? '';
      const size = contentLength(head);
      if (ranges.includes('bytes') && size !== undefined) return described(url, head.headers, size, true);
      if (ranges === 'none') return described(url, head.headers, size, false);
    } else if (head.status === 404 || head.status === 410 || head.status === 401) {
      throw failure(url, head, 'HEAD');
    } else if (head.status >= 500) {
      throw failure(url, head, 'HEAD');
    }
    const res = await request(url, { headers: { ...identity, Range: 'bytes=0-0' } }, opts);
    await res.body?.cancel().catch(() => {});
    if (res.status === 206) {
      const total = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
      if (!total) throw new DataError(`the answer to a range request has no file size in its Content-Range (${res.headers.get('content-range')})`, { file: url });
      return described(url, res.headers, Number(total[1]), true);
    }
    if (res.status === 200) return described(url, res.headers, contentLength(res), false);
    if (res.status === 416) return described(url, res.headers, 0, false); // an empty file: the readers say so
    throw failure(url, res, 'GET bytes=0-0');
  });
}
