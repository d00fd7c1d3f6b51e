// The page's glue of the fast CPU path: Web Workers (module workers running web-worker.ts) for
// worker-pool.ts, the counterpart of node-pool.ts. They share the caller's SharedArrayBuffers, which a
// browser only offers to a cross-origin isolated page (served with Cross-Origin-Opener-Policy: same-origin
// and Cross-Origin-Embedder-Policy: require-corp), and Deno to its workers; elsewhere create() refuses with the
// reason, and the caller decides what to do (the demo falls back to InlinePool and says why).
import { WorkerPool, type SpawnWorker } from './worker-pool.ts';

export interface WebWorkerPoolOptions {
  /** Threads computing shards, the page's included (default: navigator.hardwareConcurrency). */
  threads?: number;
  /**
   * Where the worker module (web-worker.ts, built: dist/lib/web-worker-[hash].js) is served, for bundlers that
   * do not follow `new Worker(new URL(..., import.meta.url))` (Vite's build does; its dev pre-bundling does
   * not: exclude the package from optimizeDeps there). Default: that URL, next to this module.
   */
  workerUrl?: string | URL;
}

/** The page cannot run the fast CPU path on Web Workers; the message says why and what would fix it. */
export class WebWorkersUnavailableError extends Error {
  override name = 'WebWorkersUnavailableError';
}

/** What the check reads of the page's global scope. */
export interface WebWorkerEnvironment {
  Worker?: unknown;
  SharedArrayBuffer?: unknown;
  crossOriginIsolated?: boolean;
}

/**
 * Why Web Workers cannot share this page's buffers, or null when they can. A browser says whether the page is
 * isolated (crossOriginIsolated, true or false); Deno has no pages and no such flag (undefined), and shares its
 * SharedArrayBuffers with its Web Workers.
 */
export function webWorkersUnavailable(env: WebWorkerEnvironment = globalThis as WebWorkerEnvironment): string | null {
  if (typeof env.Worker !== 'function') return 'this environment has no Web Workers';
  if (env.crossOriginIsolated === false || typeof env.SharedArrayBuffer !== 'function') {
    return 'the page is not cross-origin isolated, so it has no SharedArrayBuffer for Web Workers to share ' +
      '(serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  return null;
}

function spawnWebWorker(workerUrl: string | URL | undefined): SpawnWorker {
  return (index, events) => {
    const name = `nabla fast CPU worker ${index}`;
    const w = workerUrl === undefined
      ? new Worker(new URL('./web-worker.ts', import.meta.url), { type: 'module', name })
      : new Worker(workerUrl, { type: 'module', name });
    const where = workerUrl === undefined
      ? "the bundled worker module; a bundler that moved this code without it (Vite's dev pre-bundling: optimizeDeps.exclude) needs options.workerUrl"
      : String(workerUrl);
    w.addEventListener('message', (e: MessageEvent) => events.message(e.data));
    w.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault(); // reported through the pool's rejected promise instead of the console
      // A module that cannot load gives a bare Event without a message.
      events.failed(e.message ? e.message : `its module could not be loaded or evaluated (${where})`);
    });
    w.addEventListener('messageerror', () => events.failed('a message from it could not be read'));
    return { post: (m) => w.postMessage(m), terminate: () => w.terminate() };
  };
}

/** A fast CPU pool on Web Workers (worker-pool.ts's WorkerPool). */
export type WebWorkerPool = WorkerPool;

export const WebWorkerPool = {
  /**
   * Starts threads - 1 Web Workers and waits until each has loaded its code. Throws
   * WebWorkersUnavailableError where the page cannot share memory with them (see webWorkersUnavailable).
   */
  async create(options: WebWorkerPoolOptions = {}): Promise<WebWorkerPool> {
    const reason = webWorkersUnavailable();
    if (reason) throw new WebWorkersUnavailableError(`fast CPU Web Workers: ${reason}`);
    const threads = options.threads ?? Math.min(256, Math.max(1, navigator.hardwareConcurrency || 1));
    return WorkerPool.start(threads, spawnWebWorker(options.workerUrl));
  },
};
