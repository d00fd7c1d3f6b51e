// Opening the page's data without reading it whole: a File or Blob (picker or drop) or an http(s) URL, in
// any format the CLI reads, through the package's own readers (src/data/). Every byte a reader takes is
// counted, so the page can show how much of a pass has been read. Opening reads only the schema: the
// metadata of a Parquet, Arrow or raw file, the header and first rows of a CSV or JSON Lines file (to tell which columns
// are numeric), and a JSON file whole (JSON cannot be read in pieces, as in the CLI).
import { blobBytes, type ByteSource } from '../../data/byte-source.ts';
import { DataError } from '../../data/errors.ts';
import { looksLikeUrl } from '../../data/http-probe.ts';
import { knownExtensions, sourceFormatOf, type SampleSource, type SourceFormat, type SourceOptions } from '../../data/source.ts';

/** What the user gave: a file from the picker or a drop, or a URL typed in. */
export type DataInput = { kind: 'file'; file: File } | { kind: 'url'; url: string };

/** Counts the bytes read, for the progress line; the panel resets it per pass. */
export interface ByteCounter {
  bytes: number;
}

export function inputName(input: DataInput): string {
  return input.kind === 'file' ? input.file.name : input.url;
}

/**
 * Opens the data with the given column choice (target null: the schema only, every numeric column a
 * candidate). Errors are the readers' DataErrors, naming the file or URL; a failed fetch from another
 * origin says which headers the server must send (corsAdvice).
 */
export async function openData(input: DataInput, opts: SourceOptions, counter: ByteCounter): Promise<SampleSource> {
  if (input.kind === 'url') {
    const url = input.url.trim();
    if (!looksLikeUrl(url)) throw new DataError('not a URL: paste an address that starts with http:// or https://', { file: url });
    const { openUrl } = await import('../../data/url-source.ts');
    try {
      return await openUrl(url, { ...opts, fetch: countingFetch(counter), onNotice: (m) => console.info(`nabla: ${m}`) });
    } catch (e) {
      throw withCorsAdvice(e, url);
    }
  }
  const { file } = input;
  const format = formatOfName(file.name);
  const open = async (): Promise<ByteSource> => countingBytes(blobBytes(file), counter);
  switch (format) {
    case 'csv': {
      const { csvSource, textPieces } = await import('../../data/csv-stream.ts');
      return csvSource(() => textPieces(countingStream(file.stream(), counter)), file.name, opts);
    }
    case 'jsonl': {
      const { jsonlSource } = await import('../../data/jsonl-source.ts');
      const { textPieces } = await import('../../data/csv-stream.ts');
      return jsonlSource(() => textPieces(countingStream(file.stream(), counter)), file.name, opts);
    }
    case 'json': {
      const { jsonSourceFromText } = await import('../../data/json-source.ts');
      counter.bytes += file.size;
      return jsonSourceFromText(await file.text(), file.name, opts);
    }
    case 'parquet':
      return (await import('../../data/parquet-source.ts')).parquetSource(open, file.name, opts);
    case 'arrow':
      return (await import('../../data/arrow-source.ts')).openArrowBytes(open, file.name, opts);
    case 'raw':
      return (await import('../../data/raw-format.ts')).rawSource(open, file.name, opts);
  }
}

function formatOfName(name: string): SourceFormat {
  const format = sourceFormatOf(name);
  if (!format) throw new DataError(`unknown data format: the file name must end in ${knownExtensions()}`, { file: name });
  return format;
}

function countingBytes(bytes: ByteSource, counter: ByteCounter): ByteSource {
  return {
    size: bytes.size,
    read: async (pos, len) => {
      const got = await bytes.read(pos, len);
      counter.bytes += got.length;
      return got;
    },
    close: () => bytes.close(),
  };
}

function countingStream(stream: ReadableStream<Uint8Array<ArrayBuffer>>, counter: ByteCounter): ReadableStream<Uint8Array<ArrayBuffer>> {
  return stream.pipeThrough(new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
    transform(piece, out) {
      counter.bytes += piece.length;
      out.enqueue(piece);
    },
  }));
}

/** Statuses whose Response may not be given a body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

/** The global fetch, with every response body counted as it arrives (range reads and whole-body passes alike). */
function countingFetch(counter: ByteCounter): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!res.body || NULL_BODY.has(res.status)) return res;
    return new Response(countingStream(res.body, counter), { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/**
 * A page cannot tell a CORS refusal from a network error (fetch rejects with a bare TypeError), and a
 * response header the server does not expose reads as absent. So a URL on another origin that failed for
 * either reason gets the headers its server must send.
 */
export function corsAdvice(): string {
  return `If the server is up, it must allow this page's origin (${location.origin}) to read the file: send ` +
    `Access-Control-Allow-Origin: ${location.origin} (or *), allow the Range request header ` +
    '(Access-Control-Allow-Headers: Range, for the preflight a browser may send), and expose the headers nabla reads ' +
    `(Access-Control-Expose-Headers: Content-Range, Content-Length, Accept-Ranges, ETag, Last-Modified).`;
}

function crossOrigin(url: string): boolean {
  try {
    return new URL(url, location.href).origin !== location.origin;
  } catch {
    return false;
  }
}

/** Adds corsAdvice to an error that a missing CORS header explains: a network error, or a header read as absent. */
export function withCorsAdvice(e: unknown, url: string): unknown {
  if (!(e instanceof Error) || !crossOrigin(url)) return e;
  const symptom = /network error|Failed to fetch|Content-Range|Content-Length|ETag|Last-Modified|neither range requests/i;
  if (!symptom.test(e.message)) return e;
  const wrapped = new Error(`${e.message}. ${corsAdvice()}`);
  wrapped.name = e.name;
  return wrapped;
}
