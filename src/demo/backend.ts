// Where the page trains: WebGPU when the browser offers an adapter, else the float64 CPU path (also when
// forced with ?cpu=1; the fast CPU path). Both give a LinearEngine and a loss-surface evaluator with one interface.
import { requestGpu, type AdapterSummary, type GpuContext } from '../gpu/device.ts';
import { GpuLinearEngine } from '../gpu/gpu-linear-engine.ts';
import { LossSurfacePass } from '../gpu/passes/loss-surface-pass.ts';
import { FastCpuLinearEngine } from '../cpu-fast/fast-engines.ts';
import { lossSurfaceGrid, lossSurfaceMoments, type SurfaceGridSpec, type SurfaceMoments } from '../cpu/loss_surface.ts';
import type { LinearData, LinearEngine, LinearParams } from '../models/linear.ts';

export type Backend =
  | { kind: 'gpu'; gpu: GpuContext; summary: AdapterSummary }
  | { kind: 'cpu'; reason: string };

export async function pickBackend(forceCpu: boolean): Promise<Backend> {
  if (forceCpu) return { kind: 'cpu', reason: 'the CPU path was asked for (?cpu=1)' };
  if (!globalThis.navigator?.gpu) return { kind: 'cpu', reason: 'this browser has no WebGPU (navigator.gpu is missing)' };
  try {
    const gpu = await requestGpu(navigator.gpu);
    gpu.device.lost.then((info) => {
      if (info.reason !== 'destroyed') console.info(`WebGPU device lost: ${info.message}`);
    });
    return { kind: 'gpu', gpu, summary: gpu.summary };
  } catch (e) {
    return { kind: 'cpu', reason: `the WebGPU adapter request failed (${(e as Error).message})` };
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
  // The fast CPU path (float32 data, float64 sums, WebAssembly SIMD) on the page's thread.
  if (backend.kind === 'cpu') return { engine: new FastCpuLinearEngine(data), surface: new CpuSurface(data) };
  const engine = await GpuLinearEngine.create(backend.gpu, data);
  try {
    const surface = await LossSurfacePass.create(backend.gpu.device, data, backend.gpu.shape.maxWorkgroupSize);
    return { engine, surface };
  } catch (e) {
    engine.dispose();
    throw e;
  }
}
