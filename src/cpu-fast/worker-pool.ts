// The caller's side of a fast CPU pool over worker threads, whatever starts them: node-pool.ts gives it
// node:worker_threads, web-pool.ts Web Workers. threads - 1 workers run worker-main.ts's serveShards; the
// caller computes shards too while they run, so `threads` cores are busy. Shards are claimed from one
// Atomics counter, so which thread runs a shard never changes a bit of the result. Environment-free.
import { LocalShards, type ShardPool } from './pool.ts';
import type { ShardJob, TaskSpec } from './tasks.ts';

/** Caller to worker. */
export type Request =
  | { op: 'init'; counter: Int32Array }
  | { op: 'register'; id: number; spec: TaskSpec }
  | { op: 'run'; seq: number; id: number; job: ShardJob }
  | { op: 'release'; id: number };

/** Worker to caller. */
export type Reply = { op: 'ready' } | { op: 'done'; seq: number } | { op: 'error'; seq: number; message: string };

/** What the pool needs of one started worker. */
export interface WorkerLink {
  post(message: Request): void;
  terminate(): void;
  /** Whether a job is under way (Node: an idle worker must not keep the process alive). */
  busy?(on: boolean): void;
}

/** How a worker reports back: its replies, and its death with a reason. */
export interface WorkerEvents {
  message(reply: Reply): void;
  failed(reason: string): void;
}

/** Starts worker `index` (1-based, for messages) and routes its events; the pool posts 'init' itself. */
export type SpawnWorker = (index: number, events: WorkerEvents) => WorkerLink;

interface Waiter { left: number; resolve: () => void; reject: (e: Error) => void; error?: Error }

export class WorkerPool implements ShardPool {
  private readonly local = new LocalShards();
  private nextTask = 1;
  private seq = 0;
  private readonly waiting = new Map<number, Waiter>();
  private failure: Error | null = null;
  private readonly links: WorkerLink[] = [];
  /** The next unclaimed shard of the running job. */
  private readonly counter = new Int32Array(new SharedArrayBuffer(4));
  /** Runs go one at a time in call order: the counter belongs to one job at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly starting: Waiter;
  private readonly started: Promise<void>;
  private disposed = false;

  /** `label` names the workers in errors ("fast CPU worker 2 of 4"). */
  private constructor(readonly threads: number, spawn: SpawnWorker, private readonly label: string) {
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    this.started = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    this.started.catch(() => undefined); // start() awaits it; a pool that fails in its constructor does not
    this.starting = { left: threads - 1, resolve, reject };
    if (threads === 1) resolve();
    try {
      for (let i = 1; i < threads; i++) {
        const link = spawn(i, {
          message: (m) => this.reply(i, m),
          failed: (reason) => {
            if (!this.disposed) this.fail(new Error(`${this.workerName(i)} failed: ${reason}`));
          },
        });
        this.links.push(link);
        link.post({ op: 'init', counter: this.counter });
      }
    } catch (e) {
      const failed = new Error(`${this.workerName(this.links.length + 1)} did not start: ${(e as Error).message}`, { cause: e });
      this.dispose();
      throw failed;
    }
  }

  /** Starts threads - 1 workers and waits until each has loaded its code; on failure none is left running. */
  static async start(threads: number, spawn: SpawnWorker, label = 'fast CPU worker'): Promise<WorkerPool> {
    if (!(Number.isInteger(threads) && threads >= 1 && threads <= 256)) throw new RangeError(`threads: expected an integer in 1..256, got ${threads}`);
    let pool: WorkerPool | null = null;
    try {
      pool = new WorkerPool(threads, spawn, label);
      await pool.started;
    } catch (e) {
      pool?.dispose();
      throw e;
    }
    for (const w of pool.links) w.busy?.(false);
    return pool;
  }

  allocate(bytes: number): SharedArrayBuffer {
    return new SharedArrayBuffer(bytes);
  }

  register(spec: TaskSpec): number {
    // An engine built on a stopped pool would fail only at its first run, far from the mistake.
    if (this.disposed) throw new Error(`${this.label} pool: used after dispose()`);
    const id = this.nextTask++;
    this.local.add(spec, id);
    for (const w of this.links) w.post({ op: 'register', id, spec });
    return id;
  }

  run(task: number, job: ShardJob): Promise<void> {
    const run = this.queue.then(() => this.runNow(task, job));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async runNow(task: number, job: ShardJob): Promise<void> {
    if (this.disposed) throw new Error(`${this.label} pool: used after dispose()`);
    if (this.failure) throw this.failure;
    const seq = ++this.seq;
    const done = new Promise<void>((resolve, reject) => this.waiting.set(seq, { left: this.links.length, resolve, reject }));
    Atomics.store(this.counter, 0, 0);
    for (const w of this.links) {
      w.busy?.(true);
      w.post({ op: 'run', seq, id: task, job });
    }
    let localError: unknown = null;
    try {
      this.local.run(task, job, () => Atomics.add(this.counter, 0, 1));
    } catch (e) {
      localError = e;
    }
    if (this.links.length === 0) this.waiting.get(seq)!.resolve();
    try {
      await done;
    } finally {
      this.waiting.delete(seq);
      for (const w of this.links) w.busy?.(false);
    }
    if (localError) throw localError;
  }

  release(task: number): void {
    this.local.delete(task);
    for (const w of this.links) w.post({ op: 'release', id: task });
  }

  /** Stops the workers; a run in flight rejects. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const w of this.links) w.terminate();
    this.links.length = 0;
    const stopped = new Error(`${this.label} pool: disposed while a job was running`);
    this.starting.reject(stopped);
    for (const w of this.waiting.values()) w.reject(stopped);
  }

  private workerName(i: number): string {
    return `${this.label} ${i} of ${this.threads - 1}`;
  }

  private reply(worker: number, m: Reply): void {
    if (m.op === 'ready') {
      if (--this.starting.left === 0) this.starting.resolve();
      return;
    }
    const wait = this.waiting.get(m.seq);
    if (!wait) return;
    // A failed shard settles the run only once every worker is done with the job, so that the next
    // job's counter is never reset under a worker still claiming from it.
    if (m.op === 'error') wait.error ??= new Error(`${this.workerName(worker)}: ${m.message}`);
    if (--wait.left === 0) {
      if (wait.error) wait.reject(wait.error);
      else wait.resolve();
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.starting.reject(e);
    for (const w of this.waiting.values()) w.reject(e);
  }
}
