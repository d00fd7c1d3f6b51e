// A worker thread of NodeWorkerPool: claims shards of each job from the pool's shared counter until none is left.
import { parentPort } from 'node:worker_threads';
import { LocalShards } from './pool.ts';
import type { ShardJob, TaskSpec } from './tasks.ts';

type Message =
  | { op: 'register'; id: number; spec: TaskSpec }
  | { op: 'init'; counter: Int32Array }
  | { op: 'run'; seq: number; id: number; job: ShardJob }
  | { op: 'release'; id: number };

const port = parentPort!;
const local = new LocalShards();
let counter: Int32Array | null = null;
port.on('message', (m: Message) => {
  if (m.op === 'init') counter = m.counter;
  else if (m.op === 'register') local.add(m.spec, m.id);
  else if (m.op === 'release') local.delete(m.id);
  else {
    try {
      const shared = counter!;
      local.run(m.id, m.job, () => Atomics.add(shared, 0, 1));
      port.postMessage({ op: 'done', seq: m.seq });
    } catch (e) {
      port.postMessage({ op: 'error', seq: m.seq, message: (e as Error).message });
    }
  }
});
port.postMessage({ op: 'ready' });
