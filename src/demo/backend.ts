// Where the page trains: WebGPU when the browser offers an adapter, else the fast CPU path (also when
// forced with ?cpu=1), on Web Workers where the page is cross-origin isolated and on the page's thread
// otherwise, saying why. Each mode builds its engines on the backend chosen here (linear-engines.ts,
// classifier/, formula/).
import { requestGpu, type AdapterSummary, type GpuContext } from '../gpu/device.ts';
import { InlinePool, type ShardPool } from '../cpu-fast/pool.ts';
import { WebWorkerPool, webWorkersUnavailable } from '../cpu-fast/web-pool.ts';
import { wasmSimdAvailable } from '../cpu-fast/wasm-gemm.ts';

export type Backend =
  | { kind: 'gpu'; gpu: GpuContext; summary: AdapterSummary }
  | { kind: 'cpu'; reason: string; threads: CpuThreads };

/**
 * The fast CPU path's threads: one pool for the page's lifetime, shared by the linear and the classifier
 * engines (runs queue); an engine's dispose() releases its data in the workers, so a dataset change leaves
 * nothing behind in them, and no worker is started again for it.
 */
export interface CpuThreads {
  pool: ShardPool;
  /** Why the page's thread computes alone (no Web Workers), or null when they run. */
  fallback: string | null;
}

async function cpuThreads(): Promise<CpuThreads> {
  let fallback = webWorkersUnavailable();
  if (fallback === null) {
    try {
      return { pool: await WebWorkerPool.create(), fallback: null };
    } catch (e) {
      fallback = `the Web Workers did not start (${(e as Error).message})`;
    }
  }
  console.info(`The fast CPU path runs on the page's thread alone: ${fallback}.`);
  return { pool: new InlinePool(), fallback };
}

/**
 * What the CPU path runs on, for the page's Device lines; `kernels` names what computes (default: the
 * networks' products, WebAssembly SIMD where the browser has it).
 */
export function cpuDeviceText(threads: CpuThreads, kernels = `${wasmSimdAvailable() ? 'WebAssembly SIMD' : 'JavaScript'} kernels`): string {
  const path = `CPU: fast path (${kernels})`;
  const n = threads.pool.threads;
  if (threads.fallback !== null) return `${path} on the page's thread alone: ${threads.fallback}`;
  return `${path} on ${n} thread${n === 1 ? '' : 's'} (the page and ${n - 1} Web Worker${n === 2 ? '' : 's'})`;
}

export async function pickBackend(forceCpu: boolean): Promise<Backend> {
  if (forceCpu) return { kind: 'cpu', reason: 'the CPU path was asked for (?cpu=1)', threads: await cpuThreads() };
  if (!globalThis.navigator?.gpu) return { kind: 'cpu', reason: 'this browser has no WebGPU (navigator.gpu is missing)', threads: await cpuThreads() };
  try {
    const gpu = await requestGpu(navigator.gpu);
    gpu.device.lost.then((info) => {
      if (info.reason !== 'destroyed') console.info(`WebGPU device lost: ${info.message}`);
    });
    return { kind: 'gpu', gpu, summary: gpu.summary };
  } catch (e) {
    return { kind: 'cpu', reason: `the WebGPU adapter request failed (${(e as Error).message})`, threads: await cpuThreads() };
  }
}
