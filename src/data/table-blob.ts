// A File or Blob of any format the sources read, held whole as a Table (table.ts): what the page's in-memory
// modes work on, since they list every column (numbers and text) and select any of them as the user changes
// the target or the formula. Each format is read by its own reader module, with the library, the codec check
// and the messages of its SampleSource. A name with no known ending is read as text (CSV, or JSON by its
// first character), as the page always has; bytes that are no text are refused rather than parsed into noise.
import { blobBytes } from './byte-source.ts';
import { DataError } from './errors.ts';
import { knownExtensions, sourceFormatOf } from './source.ts';
import { detectFormat, parseTableText, type Table } from './table.ts';

export async function readTableBlob(blob: Blob, name: string): Promise<Table> {
  const format = sourceFormatOf(name);
  // Readers are imported lazily: a CSV never loads apache-arrow or hyparquet.
  switch (format) {
    case 'csv':
    case 'json':
      return parseTableText(await blob.text(), name, format);
    case 'jsonl': {
      const [{ jsonlTable }, { textPieces }] = await Promise.all([import('./jsonl-source.ts'), import('./csv-stream.ts')]);
      return jsonlTable(textPieces(blob.stream()), name);
    }
    case 'parquet':
      return (await import('./parquet-source.ts')).parquetTable(blobBytes(blob), name);
    case 'arrow':
      return (await import('./arrow-source.ts')).arrowTable(blobBytes(blob), name);
    case 'raw':
      return (await import('./raw-format.ts')).rawTable(blobBytes(blob), name);
    case null: {
      if (await looksBinary(blob)) {
        throw new DataError(`not text, and the name does not say which format it is: it must end in ${knownExtensions()}`, { file: name });
      }
      const text = await blob.text();
      return parseTableText(text, name, detectFormat(name, text));
    }
  }
}

/** A NUL byte near the start: no CSV or JSON has one, and every binary format here does (in a length or a version). */
async function looksBinary(blob: Blob): Promise<boolean> {
  const head = new Uint8Array(await blob.slice(0, 4096).arrayBuffer());
  return head.includes(0);
}
