// A data server on another origin than the page (its own loopback port), as object storage would be: range
// requests, and the CORS headers a page needs to read them (or none, to check the page's advice). Every
// request is logged with the bytes it sent.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DataServer {
  url: string;
  log: Array<{ method: string; path: string; status: number; bytes: number }>;
  close(): Promise<void>;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'Range',
  'access-control-expose-headers': 'Content-Range, Content-Length, Accept-Ranges, ETag, Last-Modified',
  // The page is cross-origin isolated (COEP require-corp): a CORS answer passes, and so would this.
  'cross-origin-resource-policy': 'cross-origin',
};

export async function serveData(files: Record<string, Uint8Array>, cors = true): Promise<DataServer> {
  const log: DataServer['log'] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const entry = { method: req.method ?? 'GET', path, status: 200, bytes: 0 };
    log.push(entry);
    const base: Record<string, string> = cors ? { ...CORS } : {};
    if (req.method === 'OPTIONS') {
      entry.status = 204;
      res.writeHead(204, { ...base, 'access-control-allow-methods': 'GET, HEAD' }).end();
      return;
    }
    const body = files[path];
    if (!body) {
      entry.status = 404;
      res.writeHead(404, base).end();
      return;
    }
    const headers = { ...base, 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', etag: `"${body.length}"` };
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...headers, 'content-length': String(body.length) }).end();
      return;
    }
    const m = /^bytes=(\d+)-(\d+)?$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const end = m ? Math.min(body.length - 1, m[2] === undefined ? body.length - 1 : Number(m[2])) : body.length - 1;
    if (m && start >= body.length) {
      entry.status = 416;
      res.writeHead(416, { ...headers, 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    entry.status = m ? 206 : 200;
    entry.bytes = end - start + 1;
    res.writeHead(entry.status, {
      ...headers, 'content-length': String(entry.bytes), ...(m && { 'content-range': `bytes ${start}-${end}/${body.length}` }),
    });
    res.end(body.subarray(start, end + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
