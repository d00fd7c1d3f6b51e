import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openCsvUrl } from '../../src/data/fetch-source.ts';
import { readAllChunks } from '../../src/data/source.ts';
import { parseCsvText } from '../../src/data/table.ts';
import { selectLinearData } from '../../src/data/select.ts';

function serve(body: string, pieceBytes = 1000) {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    if (req.url !== '/data.csv') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/csv' });
    // Small pieces: the reader must carry records cut across them.
    let at = 0;
    const push = () => {
      if (at >= body.length) return void res.end();
      res.write(body.slice(at, (at += pieceBytes)), () => setImmediate(push));
    };
    push();
  });
  return new Promise<{ url: string; close: () => void; requests: () => number }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => server.close(), requests: () => requests });
    });
  });
}

describe('CSV over fetch, streamed', () => {
  it('reads the same rows as the whole-text reader, one request per pass', async () => {
    const lines = ['a,b,y'];
    for (let i = 0; i < 5_000; i++) lines.push(`${i % 13},${(i * 3) % 7},${i % 2 ? '' : i / 10}`);
    const text = lines.join('\n');
    const server = await serve(text);
    try {
      const source = await openCsvUrl(`${server.url}/data.csv`, { target: 'y' });
      const before = server.requests();
      const streamed = await readAllChunks(source, 333);
      const again = await readAllChunks(source, 1_000);
      const whole = selectLinearData(parseCsvText(text, 'data.csv'), { target: 'y' });
      expect(streamed.n).toBe(whole.rows);
      expect(streamed.droppedRows).toBe(whole.droppedRows);
      expect(Array.from(streamed.x)).toEqual(Array.from(whole.data.x));
      expect(Array.from(again.y)).toEqual(Array.from(whole.data.y));
      expect(server.requests() - before).toBe(2);
    } finally {
      server.close();
    }
  });

  it('an HTTP error is a DataError naming the URL', async () => {
    const server = await serve('a,y\n1,2');
    try {
      await expect(openCsvUrl(`${server.url}/missing.csv`, { target: 'y' })).rejects.toThrow(/missing\.csv.*HTTP 404/);
    } finally {
      server.close();
    }
  });
});
