// Data at an http(s) URL, in every format a local file may have, through the same readers: Parquet reads
// only the chosen columns of one row group at a time, Arrow one record batch, raw blocks of rows, all by
// range requests (http-bytes.ts); CSV and JSON Lines stream forward by ranges of 1 MiB; JSON is read
// whole, as from a file. A server without range requests is downloaded once per pass instead (remote-stream.ts),
// and so is one that compresses the file though asked not to: fetch hands over the decoded body, whose size a
// format read by its size learns from one more download when opened.
import { countedBytes, type ByteSource } from './byte-source.ts';
import { DataError } from './errors.ts';
import { rangedBytes } from './http-bytes.ts';
import { checkHttpOptions, checkHttpUrl, HTTP_OPTION_KEYS, noticeOf, probeUrl, type HttpOptions, type RemoteFile } from './http-probe.ts';
import { downloadedSize, streamedBytes } from './remote-stream.ts';
import { checkSourceOptions, knownExtensions, sourceFormatOf, type SampleSource, type SourceFormat, type SourceOptions } from './source.ts';

export type UrlOptions = SourceOptions & HttpOptions;

/** Bytes of text asked for at a time: as csv-stream.ts reads a local file. */
const TEXT_PIECE_BYTES = 1 << 20;

/** Media types that name a format, for a URL whose path has no known extension (an API endpoint, say). */
const MEDIA_TYPES: Readonly<Record<string, SourceFormat>> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/json': 'json',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/jsonlines': 'jsonl',
  'application/vnd.apache.parquet': 'parquet',
  'application/x-parquet': 'parquet',
  'application/vnd.apache.arrow.file': 'arrow',
  'application/vnd.apache.arrow.stream': 'arrow',
};

/**
 * Opens the data at an http(s) URL (browser, Deno, Node). Reads the header or metadata now, as openSource
 * does for a path; every pass (chunks()) then reads the file again, checking that it is the same version.
 */
export async function openUrl(url: string, opts: UrlOptions): Promise<SampleSource> {
  checkSourceOptions(opts, 'openUrl', HTTP_OPTION_KEYS);
  checkHttpOptions(opts, 'openUrl');
  const parsed = checkHttpUrl(url);
  let remote = await probeUrl(url, opts);
  const format = formatOf(parsed, remote);
  const readBySize = format !== 'csv' && format !== 'json' && format !== 'jsonl';
  if (remote.encoding) {
    noticeOf(opts)(`${url}: the server compresses it (Content-Encoding: ${remote.encoding}) though asked not to, so its lengths and ` +
      `byte ranges are not the file's; every pass over the data downloads the whole file once${readBySize ? ', and opening it once more to learn its size' : ''}`);
    if (readBySize) remote = { ...remote, size: await downloadedSize(remote, opts), sizeKnown: true };
  } else if (!remote.ranged) {
    noticeOf(opts)(`${url}: the server does not take range requests; every pass over the data downloads the whole file once`);
  }
  if (!remote.sizeKnown && readBySize) {
    throw new DataError(`the server gives neither range requests nor a Content-Length, and a ${format} file is read by its size; ` +
      'serve it with either, or convert it to CSV', { file: url });
  }
  const open = async (): Promise<ByteSource> => countedBytes(remote.ranged ? rangedBytes(remote, opts) : streamedBytes(remote, opts), opts.onBytes);
  // Readers are imported lazily, as openSource does: a CSV run never loads apache-arrow or hyparquet.
  switch (format) {
    case 'csv':
      return (await import('./csv-stream.ts')).csvSource(() => textOf(open), url, opts);
    case 'json': {
      let text = '';
      for await (const piece of textOf(open)) text += piece;
      return (await import('./json-source.ts')).jsonSourceFromText(text, url, opts);
    }
    case 'jsonl':
      return (await import('./jsonl-source.ts')).jsonlSource(() => textOf(open), url, opts);
    case 'parquet':
      return (await import('./parquet-source.ts')).parquetSource(open, url, opts);
    case 'arrow':
      return (await import('./arrow-source.ts')).openArrowBytes(open, url, opts);
    case 'raw':
      return (await import('./raw-format.ts')).rawSource(open, url, opts);
  }
}

/** By the extension of the URL's path (the query string and fragment play no part), else by Content-Type. */
function formatOf(url: URL, remote: RemoteFile): SourceFormat {
  const byName = sourceFormatOf(url.pathname);
  if (byName) return byName;
  const mediaType = remote.contentType?.split(';')[0].trim().toLowerCase();
  const byType = mediaType === undefined ? undefined : MEDIA_TYPES[mediaType];
  if (byType) return byType;
  throw new DataError(`unknown data format: the URL's path (${url.pathname}) must end in ${knownExtensions()}, ` +
    `or the server's Content-Type (${remote.contentType ?? 'none given'}) be one of ${Object.keys(MEDIA_TYPES).join(', ')}`, { file: url.href });
}

/** UTF-8 text of one pass over the bytes, piece by piece; leaving early closes them. */
async function* textOf(open: () => Promise<ByteSource>): AsyncGenerator<string> {
  const bytes = await open();
  const decoder = new TextDecoder('utf-8'); // stream mode keeps a character cut between two pieces whole
  try {
    for (let pos = 0; pos < bytes.size; ) {
      const piece = await bytes.read(pos, TEXT_PIECE_BYTES);
      if (piece.length === 0) break; // the end of a body of unknown size
      pos += piece.length;
      const text = decoder.decode(piece, { stream: true });
      if (text) yield text;
    }
    const tail = decoder.decode();
    if (tail) yield tail;
  } finally {
    await bytes.close();
  }
}
