// Node glue of the fast CPU path: worker threads (node:worker_threads) running the same shard code as
// the caller, over SharedArrayBuffers, so no data is copied per step. Node-only: reachable from the CLI
// and tests, never from the browser entry. threads - 1 workers are started; the caller computes shards
// too while they run, so `threads` cores are busy. Shards are claimed from one Atomics counter.
//
// A worker runs this very module (or the bundle chunk it was compiled into, dist/cli or dist/lib), so no
// separate worker file has to survive bundling: loaded in a thread tagged WORKER_TAG, it serves shards.
// Under tsx and Vitest the module is TypeScript, which a fresh thread cannot load by itself:
// worker-entry.mjs registers tsx's loader in the thread first.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { LocalShards, type ShardPool } from './pool.ts';
import type { ShardJob, TaskSpec } from './tasks.ts';
import { serveShards, type Reply } from './worker-main.ts';

const WORKER_TAG = 'nablaFastCpuWorker';
if (!isMainThread && (workerData as Record<string, unknown> | null)?.[WORKER_TAG]) serveShards(parentPort!);

const thisModule = import.meta.url;
/** Not `new URL('./x', import.meta.url)`: bundlers would copy that file as an asset; here it is only used from source. */
const workerEntry = thisModule.endsWith('.ts') ? new URL('./worker-entry.mjs', thisModule) : new URL(thisModule);

export class NodeWorkerPool implements ShardPool {
  private readonly local = new LocalShards();
  private nextTask = 1;
  private seq = 0;
  private readonly waiting = new Map<number, { left: number; resolve: () => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;
  private readonly workers: Worker[];
  /** The next unclaimed shard of the running job. */
  private readonly counter = new Int32Array(new SharedArrayBuffer(4));

  private readonly starting: { left: number; resolve: () => void; reject: (e: Error) => void };
  private readonly started: Promise<void>;
  private disposed = false;

  private constructor(readonly threads: number) {
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    this.started = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    this.starting = { left: threads - 1, resolve, reject };
    if (threads === 1) resolve();
    this.workers = Array.from({ length: threads - 1 }, () => new Worker(workerEntry, { workerData: { [WORKER_TAG]: true, module: thisModule } }));
    for (const w of this.workers) {
      w.on('message', (m: Reply) => this.reply(m));
      w.on('error', (e) => this.fail(new Error(`fast CPU worker failed: ${e.message}`)));
      w.on('exit', (code) => {
        if (!this.disposed) this.fail(new Error(`fast CPU worker stopped (exit code ${code})`));
      });
      w.postMessage({ op: 'init', counter: this.counter });
    }
  }

  /** Starts threads - 1 workers (default: one thread per core) and waits until each has loaded its code. */
  static async create(threads = availableParallelism()): Promise<NodeWorkerPool> {
    if (!(Number.isInteger(threads) && threads >= 1 && threads <= 256)) throw new RangeError(`threads: expected an integer in 1..256, got ${threads}`);
    const pool = new NodeWorkerPool(threads);
    try {
      await pool.started;
    } catch (e) {
      pool.dispose();
      throw e;
    }
    for (const w of pool.workers) w.unref(); // an idle pool never keeps the process alive
    return pool;
  }

  allocate(bytes: number): SharedArrayBuffer {
    return new SharedArrayBuffer(bytes);
  }

  register(spec: TaskSpec): number {
    const id = this.nextTask++;
    this.local.add(spec, id);
    for (const w of this.workers) w.postMessage({ op: 'register', id, spec });
    return id;
  }

  async run(task: number, job: ShardJob): Promise<void> {
    if (this.failure) throw this.failure;
    const seq = ++this.seq;
    const done = new Promise<void>((resolve, reject) => this.waiting.set(seq, { left: this.workers.length, resolve, reject }));
    Atomics.store(this.counter, 0, 0);
    for (const w of this.workers) {
      w.ref();
      w.postMessage({ op: 'run', seq, id: task, job });
    }
    let localError: unknown = null;
    try {
      this.local.run(task, job, () => Atomics.add(this.counter, 0, 1));
    } catch (e) {
      localError = e;
    }
    if (this.workers.length === 0) this.waiting.get(seq)!.resolve();
    try {
      await done;
    } finally {
      this.waiting.delete(seq);
      for (const w of this.workers) w.unref();
    }
    if (localError) throw localError;
  }

  release(task: number): void {
    this.local.delete(task);
    for (const w of this.workers) w.postMessage({ op: 'release', id: task });
  }

  dispose(): void {
    this.disposed = true;
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
  }

  private reply(m: Reply): void {
    if (m.op === 'ready') {
      if (--this.starting.left === 0) this.starting.resolve();
      return;
    }
    const wait = this.waiting.get(m.seq);
    if (!wait) return;
    if (m.op === 'error') wait.reject(new Error(`fast CPU worker: ${m.message}`));
    else if (--wait.left === 0) wait.resolve();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.starting.reject(e);
    for (const w of this.waiting.values()) w.reject(e);
  }
}
