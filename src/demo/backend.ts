// Where the page trains: WebGPU when the browser offers an adapter, else the fast CPU path (also when
// forced with ?cpu=1), on Web Workers where the page is cross-origin isolated and on the page's thread
// otherwise, saying why. Both give a LinearEngine and a loss-surface evaluator with one interface.
import { requestGpu, type AdapterSummary, type GpuContext } from '../gpu/device.ts';
import { GpuLinearEngine } from '../gpu/gpu-linear-engine.ts';
import { LossSurfacePass } from '../gpu/passes/loss-surface-pass.ts';
import { FastCpuLinearEngine } from '../cpu-fast/fast-engines.ts';
import { InlinePool, type ShardPool } from '../cpu-fast/pool.ts';
import { WebWorkerPool, webWorkersUnavailable } from '../cpu-fast/web-pool.ts';
import { wasmSimdAvailable } from '../cpu-fast/wasm-gemm.ts';
import { lossSurfaceGrid, lossSurfaceMoments, type SurfaceGridSpec, type SurfaceMoments } from '../cpu/loss_surface.ts';
import type { LinearData, LinearEngine, LinearParams } from '../models/linear.ts';

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

/** What the CPU path runs on, for the page's Device lines. */
export function cpuDeviceText(threads: CpuThreads): string {
  const path = `CPU: fast path (${wasmSimdAvailable() ? 'WebAssembly SIMD' : 'JavaScript'} kernels)`;
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

export interface SurfaceEvaluator {
  evaluate(ref: LinearParams, k: number, spec: SurfaceGridSpec): Promise<{ moments: SurfaceMoments; grid: ArrayLike<number> }>;
  dispose(): void;
}

class CpuSurface implements SurfaceEvaluator {
  private last = { key: '', moments: null as SurfaceMoments | null };
  constructor(private readonly data: LinearData) {}
  async evaluate(ref: LinearParams, k: number, spec: SurfaceGridSpec) {
    const key = `${k}:${Array.from(ref.w).join(',')},${ref.b}`; // as LossSurfacePass: same point, same moments
    if (key !== this.last.key || !this.last.moments) this.last = { key, moments: lossSurfaceMoments(this.data, k, ref) };
    const moments = this.last.moments!;
    return { moments, grid: lossSurfaceGrid(moments, ref.w[k], ref.b, spec) };
  }
  dispose(): void {}
}

export interface Engines {
  engine: LinearEngine;
  surface: SurfaceEvaluator;
}

export async function createEngines(backend: Backend, data: LinearData): Promise<Engines> {
  // The fast CPU path (float32 data, float64 sums, WebAssembly SIMD) on the page's threads.
  if (backend.kind === 'cpu') return { engine: new FastCpuLinearEngine(data, { pool: backend.threads.pool }), surface: new CpuSurface(data) };
  const engine = await GpuLinearEngine.create(backend.gpu, data);
  try {
    const surface = await LossSurfacePass.create(backend.gpu.device, data, backend.gpu.shape.maxWorkgroupSize);
    return { engine, surface };
  } catch (e) {
    engine.dispose();
    throw e;
  }
}
