// Entry of a fast CPU worker thread when the sources run as TypeScript (tsx, Vitest): a fresh thread
// cannot load .ts by itself, so register tsx's loader here first, then load node-pool.ts, which serves
// shards when it finds itself in a worker. Compiled builds load their own bundle directly instead.
import { workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
await import(workerData.module);
