// JSON Lines: the same rows as the JSON array of the same objects, read forward in pieces (lines cut between
// pieces, CRLF, blank lines), missing keys and null under each --on-invalid policy, errors naming file, line
// and key; and the same reader over a loopback URL and from the CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonlLines, jsonlSource } from '../../src/data/jsonl-source.ts';
import { openSource, readAllChunks, sourceFormatOf } from '../../src/data/source.ts';
import { openUrl } from '../../src/data/url-source.ts';
import { asyncDataErrorOf as errorOf } from '../data-errors.ts';
import { suiteTempDir } from '../temp-dir.ts';
import { startServer, type TestServer } from './remote-server.ts';

const dir = suiteTempDir('jsonl');
const local = (name: string) => join(dir, name);

// 500 rows: x1 a number, x2 a numeric string (null every 7th row), a text key, y; key order varies by row.
const ROWS = Array.from({ length: 500 }, (_, i) => (i % 2 === 0
  ? { x1: i / 3, x2: i % 7 === 0 ? null : String(i * 2 - 5), name: `r${i}`, y: i * 0.5 - 1 }
  : { y: i * 0.5 - 1, name: `r${i}`, x2: String(i * 2 - 5), x1: i / 3 }));
const TEXT = ROWS.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** The text in pieces of `size` characters: lines cut anywhere, as a file stream cuts them. */
function piecesOf(text: string, size: number): () => AsyncIterable<string> {
  return async function* () {
    for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
  };
}

beforeAll(() => {
  writeFileSync(local('d.jsonl'), TEXT);
  writeFileSync(local('d.json'), JSON.stringify(ROWS));
});

describe('JSON Lines', () => {
  it('is known by .jsonl and .ndjson (not taken for .json)', () => {
    expect(sourceFormatOf('a/B.JSONL')).toBe('jsonl');
    expect(sourceFormatOf('b.ndjson')).toBe('jsonl');
    expect(sourceFormatOf('b.json')).toBe('json');
  });

  it('gives the rows, drops and features the JSON array of the same objects gives', async () => {
    const lines = await readAllChunks(await openSource(local('d.jsonl'), { target: 'y' }), 64);
    const array = await readAllChunks(await openSource(local('d.json'), { target: 'y' }), 64);
    const source = await openSource(local('d.jsonl'), { target: 'y' });
    expect(source.format).toBe('jsonl');
    expect(source.features).toEqual(['x1', 'x2']); // first-seen key order; the text key is not offered
    expect(lines.n).toBe(500 - 36); // x2 null in rows 0, 14, ..., 490
    expect(lines.droppedRows).toBe(36);
    expect(lines.x).toEqual(array.x);
    expect(lines.y).toEqual(array.y);
  });

  it('reads the same rows whatever the pieces, with CRLF line breaks and blank lines', async () => {
    const crlf = '\uFEFF' + TEXT.split('\n').join('\r\n\r\n');
    const whole = await readAllChunks(await jsonlSource(piecesOf(TEXT, TEXT.length), 'w.jsonl', { target: 'y' }));
    for (const size of [1, 7, 4096]) {
      const cut = await readAllChunks(await jsonlSource(piecesOf(crlf, size), 'c.jsonl', { target: 'y' }), 100);
      expect(cut.x).toEqual(whole.x);
      expect(cut.y).toEqual(whole.y);
    }
  });

  it('counts a missing key and null as missing under each policy, and names the line and key', async () => {
    const text = ['{"x":1,"y":2}', '{"y":3}', '', '{"x":null,"y":4}', '{"x":"5","y":6}'].join('\n');
    const open = (invalid?: 'drop-missing' | 'drop' | 'error') => jsonlSource(piecesOf(text, 3), 'm.jsonl', { target: 'y', invalid });
    const kept = await readAllChunks(await open());
    expect(Array.from(kept.x)).toEqual([1, 5]);
    expect(kept.droppedRows).toBe(2);
    const e = await errorOf(async () => readAllChunks(await open('error')));
    expect(e.message).toBe('m.jsonl line 2, column "x": missing value (--on-invalid error)');
  });

  it('says which line and key hold a bad value, and which line is not an object', async () => {
    const bad = (text: string) => errorOf(async () => readAllChunks(await jsonlSource(piecesOf(text, 5), 'b.jsonl', { target: 'y', features: ['x'] })));
    expect((await bad('{"x":1,"y":2}\n{"x":"abc","y":3}\n')).message).toBe('b.jsonl line 2, column "x": "abc" is not a number');
    expect((await bad('{"x":1,"y":2}\n\n{"x":true,"y":3}')).message).toBe('b.jsonl line 3, column "x": true is not a number');
    expect((await bad('{"x":1,"y":2}\n[1,2]\n')).message).toBe('b.jsonl line 2: expected one JSON object per line, got an array');
    expect((await bad('{"x":1,"y":2}\n{"x":1,\n')).message).toMatch(/^b\.jsonl line 2: invalid JSON \(/);
    expect((await bad('\n\n')).message).toBe('b.jsonl: no data rows (the file is empty)');
    const noKey = await errorOf(async () => jsonlSource(piecesOf('{"x":1,"y":2}\n', 4), 'k.jsonl', { target: 'z' }));
    expect(noKey.message).toBe('k.jsonl, column "z": no such target column; the columns are "x", "y"');
  });

  it('never holds more than a line beyond the piece it parses', async () => {
    let batches = 0;
    for await (const b of jsonlLines(piecesOf(TEXT, 1000)(), 'p.jsonl')) {
      batches++;
      expect(b.length).toBeLessThan(40); // a 1000-character piece holds at most ~20 lines of ~50 characters
    }
    expect(batches).toBeGreaterThan(20);
  });
});

describe('JSON Lines at a URL and from the CLI', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      '/d.ndjson': { body: readFileSync(local('d.jsonl')) },
      '/rows': { body: readFileSync(local('d.jsonl')), type: 'application/x-ndjson' },
    }, 'bytes');
  });
  afterAll(() => server.close());

  it('streams by ranges (by extension or Content-Type) and gives the local rows', async () => {
    const here = await readAllChunks(await openSource(local('d.jsonl'), { target: 'y' }));
    for (const path of ['/d.ndjson', '/rows']) {
      const source = await openUrl(`${server.url}${path}`, { target: 'y' });
      expect(source.format).toBe('jsonl');
      const remote = await readAllChunks(source);
      expect(remote.x).toEqual(here.x);
      expect(remote.y).toEqual(here.y);
    }
    expect(server.log.filter((r) => r.method === 'GET' && r.range !== undefined).length).toBeGreaterThan(0);
  });

  it('also without range support (one download per pass)', async () => {
    server.ranges = 'none';
    try {
      const notices: string[] = [];
      const remote = await readAllChunks(await openUrl(`${server.url}/d.ndjson`, { target: 'y', onNotice: (m) => notices.push(m) }));
      expect(remote.n).toBe(464);
      expect(notices[0]).toMatch(/does not take range requests/);
    } finally {
      server.ranges = 'bytes';
    }
  });

  it('train --stream on a URL equals train on the local file', async () => {
    const flags = ['--target', 'y', '--stream', '--device', 'cpu', '--epochs', '20', '--json'];
    const remote = await nabla('train', '--data', `${server.url}/d.ndjson`, ...flags);
    const here = await nabla('train', '--data', local('d.jsonl'), ...flags);
    expect(remote.code).toBe(0);
    const r = JSON.parse(remote.stdout);
    const l = JSON.parse(here.stdout);
    expect(r.weights).toEqual(l.weights);
    expect(r.rows).toBe(464);
    const bad = await nabla('train', '--data', local('d.jsonl'), '--target', 'name', '--device', 'cpu');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/d\.jsonl line 1, column "name": "r0" is not a number/);
  }, 120_000);
});

function nabla(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const root = join(import.meta.dirname, '..', '..');
  return new Promise((resolve) => {
    execFile('node', ['bin/nabla.mjs', ...args], { cwd: root, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
