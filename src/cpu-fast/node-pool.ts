// Node glue of the fast CPU path: worker threads (node:worker_threads) for worker-pool.ts, running the same
// shard code as the caller over SharedArrayBuffers, so no data is copied per step. Node-only: reachable
// from the CLI and tests, never from the browser entry (web-pool.ts is the page's counterpart).
//
// A worker runs this very module (or the bundle chunk it was compiled into, dist/cli or dist/lib), so no
// separate worker file has to survive bundling: loaded in a thread tagged WORKER_TAG, it serves shards.
// Under tsx and Vitest the module is TypeScript, which a fresh thread cannot load by itself:
// worker-entry.mjs registers tsx's loader in the thread first.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { WorkerPool, type SpawnWorker } from './worker-pool.ts';
import { serveShards } from './worker-main.ts';

const WORKER_TAG = 'nablaFastCpuWorker';
if (!isMainThread && (workerData as Record<string, unknown> | null)?.[WORKER_TAG]) {
  const port = parentPort!;
  serveShards({ post: (m) => port.postMessage(m), listen: (onRequest) => port.on('message', onRequest) });
}

const thisModule = import.meta.url;
/** Not `new URL('./x', import.meta.url)`: bundlers would copy that file as an asset; here it is only used from source. */
const workerEntry = thisModule.endsWith('.ts') ? new URL('./worker-entry.mjs', thisModule) : new URL(thisModule);

const spawnThread: SpawnWorker = (index, events) => {
  const w = new Worker(workerEntry, { workerData: { [WORKER_TAG]: true, module: thisModule }, name: `nabla fast CPU worker ${index}` });
  let terminated = false;
  w.on('message', events.message);
  w.on('error', (e) => events.failed(e.message));
  w.on('exit', (code) => {
    if (!terminated) events.failed(`the thread stopped (exit code ${code})`);
  });
  return {
    post: (m) => w.postMessage(m),
    terminate: () => {
      terminated = true;
      void w.terminate();
    },
    // An idle pool never keeps the process alive; a running job does.
    busy: (on) => (on ? w.ref() : w.unref()),
  };
};

/** A fast CPU pool on worker threads (worker-pool.ts's WorkerPool). */
export type NodeWorkerPool = WorkerPool;

export const NodeWorkerPool = {
  /** Starts threads - 1 worker threads (default: one thread per core) and waits until each has loaded its code. */
  create(threads = availableParallelism()): Promise<NodeWorkerPool> {
    return WorkerPool.start(threads, spawnThread);
  },
};
