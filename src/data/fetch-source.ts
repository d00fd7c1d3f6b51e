// CSV over HTTP, streamed: every pass over the data is one fetch whose body is decoded piece by piece, so a
// page can train on a file larger than its memory. The server must serve the same bytes on every request.
import { csvSource, textPieces } from './csv-stream.ts';
import { DataError } from './errors.ts';
import { checkSourceOptions, type SampleSource, type SourceOptions } from './source.ts';

export async function openCsvUrl(url: string, opts: SourceOptions, fetchImpl: typeof fetch = fetch): Promise<SampleSource> {
  checkSourceOptions(opts, 'openCsvUrl');
  return csvSource(() => responsePieces(url, fetchImpl), url, opts);
}

async function* responsePieces(url: string, fetchImpl: typeof fetch): AsyncGenerator<string> {
  let response: Response;
  try {
    response = await fetchImpl(url);
  } catch (err) {
    throw new DataError(`cannot fetch (${err instanceof Error ? err.message : String(err)})`, { file: url });
  }
  if (!response.ok || !response.body) throw new DataError(`cannot fetch (HTTP ${response.status})`, { file: url });
  yield* textPieces(response.body);
}
