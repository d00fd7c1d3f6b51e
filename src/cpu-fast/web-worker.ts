// A Web Worker of the fast CPU path in the page (web-pool.ts starts it as a module worker): serves shards
// over its own scope, with the same code as a Node worker thread (worker-main.ts).
import { serveShards } from './worker-main.ts';
import type { Reply, Request } from './worker-pool.ts';

/** The worker's global scope, as far as it is used here (the DOM typings describe a window, not a worker). */
const scope = globalThis as unknown as {
  postMessage(reply: Reply): void;
  addEventListener(type: 'message', listener: (e: MessageEvent<Request>) => void): void;
};

serveShards({ post: (m) => scope.postMessage(m), listen: (onRequest) => scope.addEventListener('message', (e) => onRequest(e.data)) });
