// The data sources' openers check their arguments before reading: an options key the readers do not read
// (`feature` for features read every column), an unknown invalid policy, no target or no options at all,
// and a browser opener given something that is not a Blob are errors naming them; and bytes that open as an
// Arrow stream with no schema are a DataError naming the file, like every other unreadable Arrow file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSource, type SourceOptions } from '../../src/data/source.ts';
import { openCsvBlob } from '../../src/data/csv-stream.ts';
import { openArrowBlob } from '../../src/data/arrow-source.ts';
import { openParquetBlob } from '../../src/data/parquet-source.ts';
import { openRawBlob } from '../../src/data/raw-format.ts';
import { openUrl } from '../../src/data/url-source.ts';
import { DataError } from '../../src/data/errors.ts';
import { convertToRaw } from '../../src/data/convert.ts';

let dir = '';
const tmp = (name: string) => join(dir, name);
const csv = () => tmp('d.csv');
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nabla-data-options-'));
  await writeFile(csv(), 'x,z,y\n1,2,3\n4,5,6\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const loose = (o: unknown) => o as SourceOptions;

describe('source options', () => {
  it('openSource refuses keys the readers do not read, naming them and the known ones', async () => {
    await expect(openSource(csv(), loose({ target: 'y', feature: ['zz'] }))).rejects.toThrow(/openSource options: unknown option "feature"; the options are .*features/);
    const ok = await openSource(csv(), { target: 'y', features: ['x'] });
    expect(ok.features).toEqual(['x']);
  });

  it('refuses an unknown invalid policy (it read as drop-missing)', async () => {
    await expect(openSource(csv(), loose({ target: 'y', invalid: 'bogus' }))).rejects.toThrow(/invalid: expected drop-missing, drop, error, got "bogus"/);
  });

  it('says that no target was given, and that options are missing, naming the argument', async () => {
    await expect(openSource(csv(), loose({}))).rejects.toThrow(/openSource: no target given: options.target is the target column's name, or null/);
    await expect(openSource(csv(), loose(undefined))).rejects.toThrow(TypeError);
    await expect(openSource(csv(), loose(undefined))).rejects.toThrow(/openSource: options \(at least \{ target \}\): expected an options object, got undefined/);
    expect((await openSource(csv(), { target: null })).target).toBeNull();
  });

  it('the browser openers name a blob argument that is not a Blob', async () => {
    for (const [open, name] of [[openCsvBlob, 'openCsvBlob'], [openArrowBlob, 'openArrowBlob'], [openParquetBlob, 'openParquetBlob'], [openRawBlob, 'openRawBlob']] as const) {
      await expect(open('text' as unknown as Blob, 'd', { target: 'y' }), name).rejects.toThrow(new RegExp(`^${name}: blob: expected a Blob or File, got string`));
    }
    const blob = new Blob(['x,y\n1,2\n']);
    await expect(openCsvBlob(blob, 'd.csv', loose({ target: 'y', feature: ['x'] }))).rejects.toThrow(/openCsvBlob options: unknown option "feature"/);
    expect((await openCsvBlob(blob, 'd.csv', { target: 'y' })).features).toEqual(['x']);
  });

  it('openUrl takes the HTTP options besides the source options, and refuses others before any request', async () => {
    let requests = 0;
    const fetch = (async () => {
      requests++;
      throw new Error('offline');
    }) as unknown as typeof globalThis.fetch;
    await expect(openUrl('http://example.invalid/d.csv', loose({ target: 'y', retry: 2, fetch }))).rejects.toThrow(/openUrl options: unknown option "retry"; the options are .*retries/);
    expect(requests).toBe(0);
    await expect(openUrl('http://example.invalid/d.csv', { target: 'y', fetch, retries: 0 })).rejects.toThrow(DataError);
    expect(requests).toBe(1);
    // The HTTP options' values, before any request: retries NaN was retried forever.
    const url = 'http://example.invalid/d.csv';
    await expect(openUrl(url, { target: 'y', fetch, retries: NaN })).rejects.toThrow(/openUrl: retries: expected a whole number >= 0, got NaN/);
    await expect(openUrl(url, { target: 'y', fetch, retries: Infinity })).rejects.toThrow(/retries/);
    await expect(openUrl(url, { target: 'y', fetch, backoffMs: -5 })).rejects.toThrow(/backoffMs: expected a finite number/);
    await expect(openUrl(url, { target: 'y', fetch, readAheadBytes: NaN })).rejects.toThrow(/readAheadBytes: expected a whole number of bytes/);
    await expect(openUrl(url, loose({ target: 'y', fetch: 5 }))).rejects.toThrow(/fetch: expected a function, got number/);
    expect(requests).toBe(1);
  });

  it('convertToRaw still takes chunkRows (its own option) beside the source options', async () => {
    await expect(convertToRaw(csv(), tmp('d.f32'), { target: 'y', chunkRows: 1 })).resolves.toMatchObject({ rows: 2 });
  });
});

describe('Arrow bytes with no schema', () => {
  it('a file of 100 zero bytes is a DataError naming the file, from a path and from a Blob', async () => {
    const zeros = tmp('zero100.arrow');
    await writeFile(zeros, new Uint8Array(100));
    const fromPath = await openSource(zeros, { target: 'y' }).catch((e) => e);
    expect(fromPath).toBeInstanceOf(DataError);
    expect(fromPath.message).toBe(`${zeros}: not a readable Arrow IPC file (no schema message)`);
    const fromBlob = await openArrowBlob(new Blob([new Uint8Array(100)]), 'zero100.arrow', { target: 'y' }).catch((e) => e);
    expect(fromBlob).toBeInstanceOf(DataError);
    expect(fromBlob.message).toMatch(/^zero100\.arrow: not a readable Arrow IPC file/);
  });
});
