// Data at an http(s) URL: every format through range requests or, without them, one download per pass; the
// faults of a real network (dropped connections, 5xx, a file replaced between reads) and of wrong servers;
// the bytes held at once; and the CLI on a URL. The server is a real node:http one (remote-server.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableToIPC, tableFromArrays } from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import { convertToRaw } from '../../src/data/convert.ts';
import { createRawWriter } from '../../src/data/raw-format.ts';
import { openSource, readAllChunks, type SourceOptions } from '../../src/data/source.ts';
import { openUrl, type UrlOptions } from '../../src/data/url-source.ts';
import { asyncDataErrorOf as errorOf, fixture } from '../data-errors.ts';
import { suiteTempDir } from '../temp-dir.ts';
import { writeParquet } from './data-parquet-writer.ts';
import { startServer, type ServedFile, type TestServer } from './remote-server.ts';

const dir = suiteTempDir('remote');
const local = (name: string) => join(dir, name);

// 300 rows: a DOUBLE with nulls, an INT64, a string the default features skip, the target.
const N = 300;
const a = Array.from({ length: N }, (_, i) => (i % 37 === 3 ? null : Math.sin(i) * 100 + 1 / 3));
const k = Array.from({ length: N }, (_, i) => BigInt(i * 7 - 11));
const s = Array.from({ length: N }, (_, i) => `label-${i % 5}`);
const y = Array.from({ length: N }, (_, i) => 2 * i - 0.5);
const OPTS: SourceOptions = { target: 'y' };
const FORMATS = ['d.parquet', 'd.arrow', 'd.arrows', 'd.f32', 'd.csv', 'd.json'];
const CODECS = ['snappy', 'gzip', 'brotli', 'zstd', 'lz4_raw', 'lz4'].map((c) => `${c}.parquet`);

function localPath(name: string): string {
  return CODECS.includes(name) ? fixture(`parquet/${name}`) : local(name);
}

let served: Record<string, ServedFile> = {};
beforeAll(async () => {
  writeParquet(local('d.parquet'), [
    { name: 'a', type: 'DOUBLE', values: a },
    { name: 'k', type: 'INT64', values: k },
    { name: 's', type: 'UTF8', values: s },
    { name: 'y', type: 'DOUBLE', values: y },
  ], 64);
  const table = tableFromArrays({ a, k: BigInt64Array.from(k), y: Float64Array.from(y) });
  const batched = table.slice(0, 100).concat(table.slice(100, 200), table.slice(200));
  writeFileSync(local('d.arrow'), tableToIPC(batched, 'file'));
  writeFileSync(local('d.arrows'), tableToIPC(batched, 'stream'));
  writeFileSync(local('d.csv'), ['a,k,s,y', ...y.map((_, i) => `${a[i] ?? ''},${k[i]},${s[i]},${y[i]}`)].join('\n'));
  writeFileSync(local('d.json'), JSON.stringify(y.map((_, i) => ({ a: a[i], k: Number(k[i]), s: s[i], y: y[i] }))));
  await convertToRaw(local('d.parquet'), local('d.f32'), { target: 'y' });
  served = Object.fromEntries([...FORMATS, ...CODECS].map((name) => [`/${name}`, { body: readFileSync(localPath(name)) }]));
});

/** Options that record notices and waits instead of printing and sleeping. */
function quiet(extra: UrlOptions = OPTS) {
  const notices: string[] = [];
  const sleeps: number[] = [];
  const opts: UrlOptions = { ...extra, onNotice: (m) => notices.push(m), sleep: async (ms) => void sleeps.push(ms), backoffMs: 10, retries: 3 };
  return { notices, sleeps, opts };
}

async function expectSameRows(server: TestServer, name: string, opts: UrlOptions) {
  const want = await readAllChunks(await openSource(localPath(name), opts), 50);
  const source = await openUrl(`${server.url}/${name}`, opts);
  const got = await readAllChunks(source, 50);
  expect(got.n).toBe(want.n);
  expect(got.x).toEqual(want.x);
  expect(got.y).toEqual(want.y);
  return source;
}

const gets = (server: TestServer) => server.log.filter((r) => r.method === 'GET').length;

describe('every format by range requests', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(served, 'bytes');
  });
  afterAll(() => server.close());

  for (const name of [...FORMATS, ...CODECS]) {
    it(`${name}: the same rows as the local file, pass after pass`, async () => {
      const { opts, notices } = quiet();
      const source = await expectSameRows(server, name, opts);
      const again = await readAllChunks(source, 7);
      expect(again.n).toBeGreaterThan(0);
      expect(notices).toEqual([]);
      expect(server.log.every((r) => r.status === 200 || r.status === 206)).toBe(true);
    });
  }

  it('Parquet: only the chosen columns are requested', async () => {
    const { opts } = quiet({ target: 'y', features: ['a'], readAheadBytes: 1 });
    const source = await openUrl(`${server.url}/d.parquet`, opts);
    server.log.length = 0; // the footer read when opening takes the whole of so small a file
    const got = await readAllChunks(source);
    expect(got.x).toEqual((await readAllChunks(await openSource(local('d.parquet'), opts))).x);
    const meta = parquetMetadata(readFileSync(local('d.parquet')).buffer as ArrayBuffer);
    const skipped = meta.row_groups.flatMap((g) => g.columns.filter((c) => !['a', 'y'].includes(c.meta_data!.path_in_schema[0])));
    expect(skipped.length).toBe(2 * meta.row_groups.length); // k and s in every row group
    for (const c of skipped) {
      const start = Number(c.meta_data!.data_page_offset);
      const end = start + Number(c.meta_data!.total_compressed_size);
      expect(server.log.some((r) => r.range && r.range[0] < end && r.range[1] >= start)).toBe(false);
    }
  });

  it('the query string plays no part in the format; Content-Type names it where the path does not', async () => {
    const { opts } = quiet();
    await expect(openUrl(`${server.url}/d.parquet?X-Amz-Signature=abc.csv`, opts)).resolves.toMatchObject({ format: 'parquet' });
    server.files.set('/api/rows', { body: served['/d.csv'].body, type: 'text/csv; charset=utf-8' });
    const source = await openUrl(`${server.url}/api/rows?limit=all`, opts);
    expect(source.format).toBe('csv');
    expect((await readAllChunks(source)).n).toBe(N - 9);
  });
});

describe('a server without range requests: one download per pass', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(served, 'none');
  });
  afterAll(() => server.close());

  for (const name of [...FORMATS, 'zstd.parquet']) {
    it(`${name}: the same rows, the fallback said`, async () => {
      const { opts, notices } = quiet();
      const source = await expectSameRows(server, name, opts);
      expect(notices.join('\n')).toMatch(/does not take range requests; every pass over the data downloads the whole file once/);
      const before = gets(server);
      await readAllChunks(source, 7);
      const downloads = gets(server) - before;
      if (name === 'd.json') expect(downloads).toBe(0); // parsed once, when opened
      // The Arrow file format reads its footer (at the end) before its batches: on a file larger than one
      // network piece, a second download; this one is one piece.
      else expect(downloads).toBe(1);
    });
  }
});

describe('faults', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(served, 'bytes');
  });
  afterAll(() => server.close());
  const fresh = (name: string, body = served[`/${name}`].body) => {
    const path = `/fault-${Math.random().toString(36).slice(2)}-${name}`;
    server.files.set(path, { body });
    return `${server.url}${path}`;
  };

  it('a connection dropped mid-body is resumed at the first byte not received, after a pause', async () => {
    const url = fresh('d.f32');
    const { opts, sleeps, notices } = quiet();
    const source = await openUrl(url, opts);
    server.log.length = 0;
    let dropped = false;
    server.fault = (r) => {
      if (dropped || !r.range) return undefined;
      dropped = true;
      return { kind: 'drop', after: 1000 };
    };
    try {
      const got = await readAllChunks(source, 50);
      const want = await readAllChunks(await openSource(local('d.f32'), OPTS), 50);
      expect(got.x).toEqual(want.x);
      expect(got.y).toEqual(want.y);
    } finally {
      server.fault = null;
    }
    const [first, retry] = server.log.filter((r) => r.range);
    expect(retry.range).toEqual([first.range![0] + 1000, first.range![1]]);
    expect(sleeps).toEqual([10]);
    expect(notices.join('\n')).toMatch(/connection lost after 1000 of \d+ bytes/);
  });

  it('a server that keeps failing: a DataError naming the URL and the byte range, after bounded tries with growing pauses', async () => {
    const url = fresh('d.f32');
    const { opts, sleeps } = quiet();
    const source = await openUrl(url, opts);
    server.fault = (r) => (r.range ? { kind: 'status', status: 503 } : undefined);
    try {
      const err = await errorOf(readAllChunks(source));
      expect(err.message).toContain(url);
      expect(err.message).toMatch(/cannot read bytes \d+-\d+: HTTP 503 \(gave up after 4 tries\)/);
    } finally {
      server.fault = null;
    }
    expect(sleeps).toEqual([10, 20, 40]);
  });

  it('a file replaced between two passes: the second stops, naming the versions and the bytes', async () => {
    const url = fresh('d.f32');
    const { opts } = quiet();
    const source = await openUrl(url, opts);
    await readAllChunks(source);
    server.replace(new URL(url).pathname, served['/d.f32'].body.slice());
    const err = await errorOf(readAllChunks(source));
    expect(err.message).toContain(url);
    expect(err.message).toMatch(/the file changed on the server .*ETag.* seen at bytes \d+-\d+/);
  });

  it('a file replaced in the middle of a pass: an error, never rows of two versions', async () => {
    const url = fresh('d.parquet');
    const { opts } = quiet({ ...OPTS, readAheadBytes: 1 });
    const source = await openUrl(url, opts);
    let ranged = 0;
    server.fault = (r) => {
      if (r.range && ++ranged === 3) server.replace(r.path, served['/d.parquet'].body.slice());
      return undefined;
    };
    try {
      const err = await errorOf(readAllChunks(source, 10));
      expect(err.message).toMatch(/the file changed on the server/);
      expect(err.message).toMatch(/bytes \d+-\d+/);
    } finally {
      server.fault = null;
    }
  });

  it('without ETag or Last-Modified, a changed size is still caught (Content-Range)', async () => {
    const bare = await startServer(served, 'bytes');
    bare.validators = false;
    try {
      const source = await openUrl(`${bare.url}/d.f32`, quiet().opts);
      const body = served['/d.f32'].body;
      const bigger = new Uint8Array(body.length + 16);
      bigger.set(body);
      bare.replace('/d.f32', bigger);
      const err = await errorOf(readAllChunks(source));
      expect(err.message).toMatch(/the file changed on the server while it was being read \(size \d+ -> \d+ bytes\), seen at bytes/);
    } finally {
      await bare.close();
    }
  });

  it('a server that advertises ranges but answers 200 with the whole file', async () => {
    const other = await startServer(served, 'ignored');
    try {
      const err = await errorOf(openUrl(`${other.url}/d.parquet`, quiet().opts));
      expect(err.message).toMatch(/ignored the range request for bytes \d+-\d+ \(it answered 200/);
    } finally {
      await other.close();
    }
  });

  it('a Content-Length that disagrees with the range', async () => {
    const url = fresh('d.f32');
    server.fault = (r) => (r.range ? { kind: 'short-length' } : undefined);
    try {
      const err = await errorOf(openUrl(url, quiet().opts));
      expect(err.message).toMatch(/Content-Length \(\d+\) disagrees with its Content-Range \(bytes \d+-\d+\/\d+/);
    } finally {
      server.fault = null;
    }
  });

  it('404, a scheme other than http(s), an unknown format', async () => {
    const missing = await errorOf(openSource(`${server.url}/nope.parquet`, OPTS));
    expect(missing.message).toMatch(/nope\.parquet: HTTP 404 Not Found/);
    const ftp = await errorOf(openSource('ftp://example.com/d.csv', OPTS));
    expect(ftp.message).toMatch(/ftp:\/\/example\.com\/d\.csv: unsupported URL scheme "ftp:"/);
    server.files.set('/blob.bin', { body: served['/d.csv'].body });
    const unknown = await errorOf(openSource(`${server.url}/blob.bin?x=1`, OPTS));
    expect(unknown.message).toMatch(/path \(\/blob\.bin\) must end in \.csv, .*\.f32, or the server's Content-Type \(application\/octet-stream\)/);
  });
});

describe('bytes held at once', () => {
  it('a raw file 4x the read block streams with at most one block and the read-ahead in flight, each byte fetched once per pass', async () => {
    const rows = 1 << 19;
    const d = 7;
    const path = local('big.f32');
    const writer = await createRawWriter(path, Array.from({ length: d }, (_, j) => `x${j}`), 'y');
    const x = new Float32Array(rows * d).map((_, i) => (i % 1009) / 7);
    await writer.append(x, new Float32Array(rows).map((_, i) => i % 11), rows);
    await writer.finish();
    const body = readFileSync(path);
    const server = await startServer({ '/big.f32': { body } });
    let outstanding = 0;
    let peak = 0;
    let fetched = 0;
    // Counts the bytes of every answer from its request until its body has been read to the end.
    const counting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const n = Number(res.headers.get('content-length') ?? 0);
      if (init?.method === 'HEAD' || !res.body) return res;
      outstanding += n;
      peak = Math.max(peak, outstanding);
      fetched += n;
      const done = new TransformStream<Uint8Array, Uint8Array>({ flush: () => void (outstanding -= n) });
      return new Response(res.body.pipeThrough(done), { status: res.status, statusText: res.statusText, headers: res.headers });
    };
    try {
      const source = await openUrl(`${server.url}/big.f32`, { ...quiet().opts, fetch: counting });
      const afterOpen = fetched;
      for (let pass = 0; pass < 2; pass++) {
        let seen = 0;
        for await (const c of source.chunks(4096)) seen += c.rows;
        expect(seen).toBe(rows);
      }
      const perPass = (fetched - afterOpen) / 2;
      const block = 4 << 20;
      expect(body.length).toBeGreaterThanOrEqual(4 * block);
      expect(peak).toBeLessThanOrEqual(block);
      expect(perPass).toBeLessThanOrEqual(body.length);
      console.log(`remote raw: file ${body.length} bytes, peak in flight ${peak}, fetched per pass ${perPass}`);
    } finally {
      await server.close();
    }
  });

  it('a Parquet file whose column chunks are shorter than the read-ahead is fetched once per pass, not once per chunk rounded up', async () => {
    // 4 DOUBLE columns of 25 000 rows a row group: 200 kB column chunks, each shorter than the 256 KiB a short
    // read fetches; the reads that start inside a kept block (in flight included) ask only for the rest.
    const rows = 100_000;
    const col = (name: string, f: (i: number) => number) => ({ name, type: 'DOUBLE' as const, values: Array.from({ length: rows }, (_, i) => f(i)) });
    const path = local('short-chunks.parquet');
    writeParquet(path, [col('a', (i) => i % 7), col('b', (i) => i % 13), col('c', (i) => i % 5), col('y', (i) => i % 11)], 25_000);
    const body = readFileSync(path);
    const server = await startServer({ '/s.parquet': { body } });
    try {
      const source = await openUrl(`${server.url}/s.parquet`, { ...quiet().opts, target: 'y' });
      const served = () => server.log.filter((r) => r.method === 'GET').reduce((sum, r) => sum + (r.range ? r.range[1] - r.range[0] + 1 : body.length), 0);
      const afterOpen = served();
      let seen = 0;
      for await (const c of source.chunks(30_000)) seen += c.rows;
      expect(seen).toBe(rows);
      const perPass = served() - afterOpen;
      console.log(`remote parquet: file ${body.length} bytes, fetched per pass ${perPass}`);
      expect(perPass).toBeLessThanOrEqual(body.length);
      expect(perPass).toBeGreaterThan(0.95 * body.length);
    } finally {
      await server.close();
    }
  });
});

function nabla(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const root = join(import.meta.dirname, '..', '..');
  return new Promise((resolve) => {
    execFile('node', ['bin/nabla.mjs', ...args], { cwd: root, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('the CLI on a URL', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(served, 'bytes');
  });
  afterAll(() => server.close());

  it('train --stream --data http://... gives what the local file gives', async () => {
    const flags = ['--target', 'y', '--stream', '--device', 'cpu', '--json'];
    const remote = await nabla('train', '--data', `${server.url}/d.parquet`, ...flags);
    const here = await nabla('train', '--data', local('d.parquet'), ...flags);
    expect(remote.stderr).toBe(here.stderr);
    expect(remote.code).toBe(0);
    const r = JSON.parse(remote.stdout);
    const l = JSON.parse(here.stdout);
    expect(r.weights).toEqual(l.weights);
    expect(r.bias).toBe(l.bias);
    expect(r.rows).toBe(l.rows);
  }, 240_000);

  it('convert and gradient read URLs; a bad one is exit 2 naming it', async () => {
    const out = local('from-url.f32');
    const c = await nabla('convert', `${server.url}/d.arrows`, out, '--target', 'y', '--json');
    expect(c.code).toBe(0);
    expect(readFileSync(out)).toEqual(readFileSync(local('d.f32')));
    const g = await nabla('gradient', '--data', `${server.url}/d.csv`, '--target', 'y', '--features', 'a,k', '--weights', '1,2', '--bias', '0', '--device', 'cpu', '--json');
    expect(g.code).toBe(0);
    const bad = await nabla('gradient', '--data', 'ftp://example.com/d.csv', '--target', 'y', '--weights', '1', '--bias', '0', '--device', 'cpu');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/ftp:\/\/example\.com\/d\.csv: unsupported URL scheme/);
  }, 240_000);
});
