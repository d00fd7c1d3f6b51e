// The worker side of NodeWorkerPool: claims shards of each job from the pool's shared counter until none
// is left, and says when it is done. Started by node-pool.ts when that module is loaded in a worker.
import type { MessagePort } from 'node:worker_threads';
import { LocalShards } from './pool.ts';
import type { ShardJob, TaskSpec } from './tasks.ts';

export type Request =
  | { op: 'init'; counter: Int32Array }
  | { op: 'register'; id: number; spec: TaskSpec }
  | { op: 'run'; seq: number; id: number; job: ShardJob }
  | { op: 'release'; id: number };

export type Reply = { op: 'ready' } | { op: 'done'; seq: number } | { op: 'error'; seq: number; message: string };

export function serveShards(port: MessagePort): void {
  const local = new LocalShards();
  let counter: Int32Array | null = null;
  const reply = (m: Reply) => port.postMessage(m);
  port.on('message', (m: Request) => {
    if (m.op === 'init') counter = m.counter;
    else if (m.op === 'register') local.add(m.spec, m.id);
    else if (m.op === 'release') local.delete(m.id);
    else {
      try {
        const shared = counter!;
        local.run(m.id, m.job, () => Atomics.add(shared, 0, 1));
        reply({ op: 'done', seq: m.seq });
      } catch (e) {
        reply({ op: 'error', seq: m.seq, message: (e as Error).message });
      }
    }
  });
  reply({ op: 'ready' });
}
