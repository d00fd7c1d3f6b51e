// Threads of the fast CPU path behind one interface: the engines ask a ShardPool to run a task's shards
// and find the partial sums in the task's buffers. InlinePool runs every shard on the calling thread
// (tests, one-core machines, pages that are not cross-origin isolated); worker-pool.ts spreads them over
// worker threads (node-pool.ts) or Web Workers (web-pool.ts). Threads claim shards from a shared counter;
// which thread runs a shard never changes a bit of the result.
import { shardRunner, type ShardJob, type ShardRunner, type TaskSpec } from './tasks.ts';

/** Shards per job unless an engine is told otherwise: fixed, so results never depend on the thread count. */
export const DEFAULT_SHARDS = 16;

export interface ShardPool {
  /** Threads computing shards, the caller's included. */
  readonly threads: number;
  /** Buffers the other threads can see (SharedArrayBuffer), or plain ones where there are none. */
  allocate(bytes: number): ArrayBufferLike;
  /** Makes a task known to every thread; its arrays must live in buffers from allocate(). */
  register(spec: TaskSpec): number;
  /** Runs all shards of the job; resolves when every slot of the task's partials is written. */
  run(task: number, job: ShardJob): Promise<void>;
  release(task: number): void;
  dispose(): void;
}

/** Runs shards thread-locally; also the caller's share of a worker pool. */
export class LocalShards {
  private readonly runners = new Map<number, ShardRunner>();
  private next = 1;

  add(spec: TaskSpec, id = this.next++): number {
    this.runners.set(id, shardRunner(spec));
    return id;
  }

  /**
   * Runs shards of the job until none is left: claim() hands out shard numbers 0, 1, 2, ... to whichever
   * thread asks first (an Atomics counter across threads), so a thread slowed by other load takes fewer.
   */
  run(task: number, job: ShardJob, claim: () => number): void {
    const runner = this.runners.get(task);
    if (!runner) throw new Error(`fast CPU: task ${task} is not registered (released or never added)`);
    for (let s = claim(); s < job.shards; s = claim()) runner(job, s);
  }

  delete(task: number): void {
    this.runners.delete(task);
  }
}

export class InlinePool implements ShardPool {
  readonly threads = 1;
  private readonly local = new LocalShards();
  private disposed = false;

  allocate(bytes: number): ArrayBuffer {
    return new ArrayBuffer(bytes);
  }

  register(spec: TaskSpec): number {
    this.live();
    return this.local.add(spec);
  }

  async run(task: number, job: ShardJob): Promise<void> {
    this.live();
    let next = 0;
    this.local.run(task, job, () => next++);
  }

  release(task: number): void {
    this.local.delete(task);
  }

  /** Holds nothing to free, but refuses use afterwards, as a worker pool does. */
  dispose(): void {
    this.disposed = true;
  }

  private live(): void {
    if (this.disposed) throw new Error('inline pool: used after dispose()');
  }
}

/** The array itself when its buffer is already visible to the pool's threads, else a copy in one that is. */
export function shareArray<T extends Float32Array | Float64Array>(pool: ShardPool, a: T): T {
  const shared = typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
  if (pool.threads === 1 || shared) return a;
  const Ctor = a.constructor as { new (buffer: ArrayBufferLike, offset: number, length: number): T };
  const copy = new Ctor(pool.allocate(a.byteLength), 0, a.length);
  copy.set(a);
  return copy;
}

export function sharedFloat32(pool: ShardPool, length: number): Float32Array {
  return new Float32Array(pool.allocate(length * 4), 0, length);
}

export function sharedFloat64(pool: ShardPool, length: number): Float64Array {
  return new Float64Array(pool.allocate(length * 8), 0, length);
}

const SHARD_POOL_METHODS = ['allocate', 'register', 'run', 'release', 'dispose'] as const;

/** A TypeError unless pool has ShardPool's members (InlinePool, NodeWorkerPool, WebWorkerPool or the caller's own). */
export function validateShardPool(pool: unknown): asserts pool is ShardPool {
  const lacking = typeof pool === 'object' && pool !== null
    ? [...SHARD_POOL_METHODS.filter((k) => typeof (pool as Record<string, unknown>)[k] !== 'function'), ...(Number.isInteger((pool as ShardPool).threads) ? [] : ['threads'])]
    : null;
  if (lacking === null || lacking.length > 0) {
    throw new TypeError(`pool: expected a ShardPool (an InlinePool, NodeWorkerPool or WebWorkerPool), got ${lacking ? `an object without ${lacking.join(', ')}` : pool === null ? 'null' : typeof pool}`);
  }
}

export function validateShards(shards: number): void {
  if (!(Number.isInteger(shards) && shards >= 1 && shards <= 1024)) throw new RangeError(`shards: expected an integer in 1..1024, got ${shards}`);
}
