// A real HTTP server on 127.0.0.1 (an ephemeral port) for the remote-data tests: it serves files from memory
// with or without range support, and misbehaves on request: drops a connection mid-body, answers 5xx, ignores
// Range, lies in Content-Length, swaps a file for another version. Every request is logged.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface ServedFile {
  body: Uint8Array;
  type?: string;
  /** Bumped by replace(): the ETag and Last-Modified follow it. */
  version?: number;
}

export type RangeSupport = 'bytes' | 'none' | 'ignored';

/**
 * Gzip whatever Accept-Encoding says. 'stored': the file is kept gzipped (S3 with Content-Encoding metadata):
 * every answer, HEAD included, says gzip, and lengths and ranges count its compressed bytes. 'get-only': HEAD
 * describes the plain file; each GET's body, a range's included, is compressed on the way, without a length.
 */
export type Compression = 'none' | 'stored' | 'get-only';

/** What to do with one GET, given its range (undefined: the whole body). */
export type Fault =
  | { kind: 'drop'; after: number }
  | { kind: 'status'; status: number }
  | { kind: 'short-length' };

export interface LoggedRequest {
  method: string;
  path: string;
  range?: [number, number];
  status: number;
}

export interface TestServer {
  url: string;
  files: Map<string, ServedFile>;
  log: LoggedRequest[];
  ranges: RangeSupport;
  /** Send ETag and Last-Modified (true unless set otherwise). */
  validators: boolean;
  compression: Compression;
  /** Consulted for every GET; return a fault to misbehave. */
  fault: ((r: LoggedRequest) => Fault | undefined) | null;
  replace(path: string, body: Uint8Array): void;
  close(): Promise<void>;
}

const etagOf = (f: ServedFile) => `"v${f.version ?? 1}-${f.body.length}"`;
const modifiedOf = (f: ServedFile) => new Date(Date.UTC(2026, 0, 1) + (f.version ?? 1) * 60_000).toUTCString();

export async function startServer(files: Record<string, ServedFile>, ranges: RangeSupport = 'bytes'): Promise<TestServer> {
  const server = createServer((req, res) => handle(state, req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const state: TestServer = {
    url: `http://127.0.0.1:${port}`,
    files: new Map(Object.entries(files)),
    log: [],
    ranges,
    validators: true,
    compression: 'none',
    fault: null,
    replace(path, body) {
      const old = state.files.get(path)!;
      state.files.set(path, { ...old, body, version: (old.version ?? 1) + 1 });
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return state;
}

function handle(s: TestServer, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  const entry: LoggedRequest = { method: req.method ?? 'GET', path, status: 0 };
  s.log.push(entry);
  const served = s.files.get(path);
  const file = served && s.compression === 'stored' ? { ...served, body: gzipSync(served.body) } : served;
  if (!file) {
    entry.status = 404;
    res.writeHead(404, 'Not Found').end();
    return;
  }
  const headers: Record<string, string> = { 'content-type': file.type ?? 'application/octet-stream' };
  if (s.validators) Object.assign(headers, { etag: etagOf(file), 'last-modified': modifiedOf(file) });
  if (s.ranges !== 'none') headers['accept-ranges'] = 'bytes';
  if (s.compression === 'stored') headers['content-encoding'] = 'gzip';
  const size = file.body.length;
  const m = /^bytes=(\d+)-(\d+)?$/.exec(req.headers.range ?? '');
  const ranged = m !== null && s.ranges === 'bytes';
  const start = ranged ? Number(m[1]) : 0;
  const end = ranged ? Math.min(size - 1, m[2] === undefined ? size - 1 : Number(m[2])) : size - 1;
  if (ranged) entry.range = [start, end];
  if (req.method === 'HEAD') {
    entry.status = 200;
    res.writeHead(200, { ...headers, 'content-length': String(size) }).end();
    return;
  }
  const fault = s.fault?.(entry);
  if (fault?.kind === 'status') {
    entry.status = fault.status;
    res.writeHead(fault.status).end();
    return;
  }
  if (ranged && start >= size) {
    entry.status = 416;
    res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
    return;
  }
  let body = file.body.subarray(start, end + 1);
  const status = ranged ? 206 : 200;
  entry.status = status;
  if (ranged) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  if (fault?.kind === 'short-length') body = body.subarray(0, Math.max(0, body.length - 10));
  if (s.compression === 'get-only') {
    res.writeHead(status, { ...headers, 'content-encoding': 'gzip' }).end(gzipSync(body));
    return;
  }
  res.writeHead(status, { ...headers, 'content-length': String(fault?.kind === 'short-length' ? body.length : end - start + 1) });
  if (fault?.kind === 'drop') {
    // The promised length, cut off after `after` bytes: the client sees the connection close mid-body.
    res.write(body.subarray(0, fault.after), () => res.socket?.destroy());
    return;
  }
  res.end(body);
}
