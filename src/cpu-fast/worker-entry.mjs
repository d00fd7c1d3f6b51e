// Entry of a fast CPU worker thread. Under tsx and Vitest the sources are TypeScript, which a fresh
// worker cannot load by itself: register tsx's loader in this thread first, then load the worker module.
import { workerData } from 'node:worker_threads';

if (workerData.module.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.module);
