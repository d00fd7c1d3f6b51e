// A server that compresses its answers though every request asks for Accept-Encoding: identity. fetch hands
// over the decoded body, so neither the lengths nor the byte ranges the server speaks of are the file's: the
// rows must still be the local file's, every format, or the read must stop with an error that says why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { convertToRaw } from '../../src/data/convert.ts';
import { openSource, readAllChunks, type SourceOptions } from '../../src/data/source.ts';
import { openUrl, type UrlOptions } from '../../src/data/url-source.ts';
import { asyncDataErrorOf as errorOf } from '../data-errors.ts';
import { suiteTempDir } from '../temp-dir.ts';
import { writeParquet } from './data-parquet-writer.ts';
import { startServer, type ServedFile, type TestServer } from './remote-server.ts';

const dir = suiteTempDir('remote-gzip');
const local = (name: string) => join(dir, name);

// Enough rows that the compressed file is much shorter than the plain one and the body comes in many pieces.
const N = 4000;
const a = Array.from({ length: N }, (_, i) => Math.sin(i) * 100 + 1 / 3);
const y = Array.from({ length: N }, (_, i) => 2 * (i % 50) - 0.5);
const OPTS: SourceOptions = { target: 'y' };
const FORMATS = ['d.csv', 'd.jsonl', 'd.json', 'd.parquet', 'd.arrow', 'd.f32'];

let served: Record<string, ServedFile> = {};
beforeAll(async () => {
  writeParquet(local('d.parquet'), [{ name: 'a', type: 'DOUBLE', values: a }, { name: 'y', type: 'DOUBLE', values: y }], 1000);
  writeFileSync(local('d.arrow'), tableToIPC(tableFromArrays({ a: Float64Array.from(a), y: Float64Array.from(y) }), 'file'));
  writeFileSync(local('d.csv'), ['a,y', ...a.map((v, i) => `${v},${y[i]}`)].join('\n'));
  writeFileSync(local('d.jsonl'), a.map((v, i) => JSON.stringify({ a: v, y: y[i] })).join('\n'));
  writeFileSync(local('d.json'), JSON.stringify(a.map((v, i) => ({ a: v, y: y[i] }))));
  await convertToRaw(local('d.parquet'), local('d.f32'), { target: 'y' });
  served = Object.fromEntries(FORMATS.map((name) => [`/${name}`, { body: readFileSync(local(name)) }]));
});

function quiet(): { notices: string[]; opts: UrlOptions } {
  const notices: string[] = [];
  return { notices, opts: { ...OPTS, onNotice: (m) => notices.push(m), sleep: async () => {}, backoffMs: 0, retries: 2 } };
}

async function expectSameRows(server: TestServer, name: string, opts: UrlOptions): Promise<void> {
  const want = await readAllChunks(await openSource(local(name), opts), 300);
  const source = await openUrl(`${server.url}/${name}`, opts);
  for (const chunkRows of [300, 1000]) {
    const got = await readAllChunks(source, chunkRows);
    expect(got.n).toBe(want.n);
    expect(got.x).toEqual(want.x);
    expect(got.y).toEqual(want.y);
  }
}

describe('a file stored gzipped, with lengths and ranges of its compressed bytes (S3 with Content-Encoding)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(served, 'bytes');
    server.compression = 'stored';
  });
  afterAll(() => server.close());

  for (const name of FORMATS) {
    it(`${name}: the local file's rows, pass after pass, read without ranges`, async () => {
      const { opts, notices } = quiet();
      server.log.length = 0;
      await expectSameRows(server, name, opts);
      expect(server.log.some((r) => r.range !== undefined && r.method === 'GET' && r.status === 206)).toBe(false);
      expect(notices.join('\n')).toMatch(/compresses it \(Content-Encoding: gzip\)/);
    });
  }
});

describe('a server that says nothing of compression when asked HEAD, then gzips every GET', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(served, 'none');
    server.compression = 'get-only';
  });
  afterAll(() => server.close());

  for (const name of FORMATS) {
    it(`${name}: without ranges, the decoded body is the file: the local file's rows`, async () => {
      await expectSameRows(server, name, quiet().opts);
    });
  }

  it('with ranges: a compressed answer to a range request is refused, naming the URL, the range and the encoding', async () => {
    const ranged = await startServer(served, 'bytes');
    ranged.compression = 'get-only';
    try {
      const url = `${ranged.url}/d.f32`;
      const err = await errorOf(async () => readAllChunks(await openUrl(url, quiet().opts)));
      expect(err.message).toContain(url);
      expect(err.message).toMatch(/compressed its answer to the range request for bytes \d+-\d+ \(Content-Encoding: gzip\)/);
    } finally {
      await ranged.close();
    }
  });
});
