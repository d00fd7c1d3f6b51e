// The linear mode's engines: the model is the formula y ~ linear(x1, ..., xd) with mse (linearFormulaModel:
// θ = (w_1 .. w_d, b), the layout the trainer, the surface and the readout read; the page labels the weights
// by the dataset's own column names), trained by the one formula engine of the page's backend (WGSL on
// WebGPU, the fast CPU path on the page's threads otherwise), beside the loss-surface evaluator that draws
// the contour map from moments of the residual (a plotting device, not a gradient).
import type { FormulaData, FormulaEngine } from '../models/formula.ts';
import { linearFormulaModel } from '../models/linear-formula.ts';
import { GpuFormulaEngine } from '../gpu/formula/gpu-formula-engine.ts';
import { FastCpuFormulaEngine, type FormulaKernel } from '../cpu-fast/formula-engine.ts';
import { LossSurfacePass } from '../gpu/passes/loss-surface-pass.ts';
import { lossSurfaceGrid, lossSurfaceMoments, type SurfaceGridSpec, type SurfaceMoments } from '../cpu/loss_surface.ts';
import type { LinearParams } from '../models/linear.ts';
import { cpuDeviceText, type Backend } from './backend.ts';

/**
 * Longest chunk of epochs the trainer asks for: the GPU engine gets as many update slots, so that a
 * full-batch chunk is one submit and one read-back of its loss history.
 */
export const CHUNK_CAP = 256;

/**
 * What trains the linear mode, for the page's Device line: on the CPU path the kernel the engine picked for
 * the formula (the linear shape's WebAssembly SIMD or JavaScript kernel, or the generated row sums).
 */
export function linearDeviceText(backend: Backend, engine?: FormulaEngine): string {
  if (backend.kind === 'gpu') return 'WebGPU: WGSL compiled from the linear model\'s formula';
  const kernel = engine instanceof FastCpuFormulaEngine ? engine.kernel : null;
  return cpuDeviceText(backend.threads, kernel ? KERNEL_TEXT[kernel] : 'kernels compiled from the linear model\'s formula');
}

const KERNEL_TEXT: Record<FormulaKernel, string> = {
  'linear-wasm': 'WebAssembly SIMD linear kernel',
  'linear-js': 'JavaScript linear kernel',
  generated: 'JavaScript generated from the formula',
  'linear-predictor': 'JavaScript over the linear predictor of the formula',
};

export interface SurfaceEvaluator {
  evaluate(ref: LinearParams, k: number, spec: SurfaceGridSpec): Promise<{ moments: SurfaceMoments; grid: ArrayLike<number> }>;
  dispose(): void;
}

class CpuSurface implements SurfaceEvaluator {
  private last = { key: '', moments: null as SurfaceMoments | null };
  constructor(private readonly data: FormulaData) {}
  async evaluate(ref: LinearParams, k: number, spec: SurfaceGridSpec) {
    const key = `${k}:${Array.from(ref.w).join(',')},${ref.b}`; // as LossSurfacePass: same point, same moments
    if (key !== this.last.key || !this.last.moments) this.last = { key, moments: lossSurfaceMoments(this.data, k, ref) };
    const moments = this.last.moments!;
    return { moments, grid: lossSurfaceGrid(moments, ref.w[k], ref.b, spec) };
  }
  dispose(): void {}
}

export interface Engines {
  engine: FormulaEngine;
  surface: SurfaceEvaluator;
}

/**
 * The engines for one dataset (the data the engine trains on: standardized or not). On WebGPU an engine
 * that cannot be built is an error for the page to show: the CPU path is chosen with the backend, never
 * instead of a failed GPU engine.
 */
export async function createEngines(backend: Backend, data: FormulaData): Promise<Engines> {
  const model = linearFormulaModel(data.d);
  const start = new Float64Array(data.d + 1);
  if (backend.kind === 'cpu') {
    return { engine: new FastCpuFormulaEngine(model, data, start, { pool: backend.threads.pool }), surface: new CpuSurface(data) };
  }
  const engine = await GpuFormulaEngine.create(backend.gpu, model, data, start, { maxReportEvery: CHUNK_CAP });
  try {
    const surface = await LossSurfacePass.create(backend.gpu.device, data, backend.gpu.shape.maxWorkgroupSize);
    return { engine, surface };
  } catch (e) {
    engine.dispose();
    throw e;
  }
}
