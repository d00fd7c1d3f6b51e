// The worker side of a fast CPU pool (worker-pool.ts): claims shards of each job from the pool's shared
// counter until none is left, and says when it is done. Environment-free: node-pool.ts serves it over
// node:worker_threads' parentPort, web-worker.ts over a Web Worker's own scope.
import { LocalShards } from './pool.ts';
import type { Reply, Request } from './worker-pool.ts';

export type { Reply, Request } from './worker-pool.ts';

/** The little a worker needs of its channel to the caller. */
export interface ShardPort {
  post(reply: Reply): void;
  listen(onRequest: (request: Request) => void): void;
}

export function serveShards(port: ShardPort): void {
  const local = new LocalShards();
  let counter: Int32Array | null = null;
  port.listen((m) => {
    if (m.op === 'init') counter = m.counter;
    else if (m.op === 'register') local.add(m.spec, m.id);
    else if (m.op === 'release') local.delete(m.id);
    else {
      try {
        const shared = counter!;
        local.run(m.id, m.job, () => Atomics.add(shared, 0, 1));
        port.post({ op: 'done', seq: m.seq });
      } catch (e) {
        port.post({ op: 'error', seq: m.seq, message: (e as Error).message });
      }
    }
  });
  port.post({ op: 'ready' });
}
