// The linear mode's engines: the model is the formula y ~ linear(x1, ..., xd) with mse, trained by the one
// formula engine of the page's backend (the generated WGSL on WebGPU, the fast CPU path's generated kernels
// on the page's threads otherwise), beside the loss-surface evaluator that draws the contour map from
// moments of the residual (a plotting device, not a gradient).
import { compileFormula, type FormulaModel } from '../formula/model.ts';
import type { FormulaData, FormulaEngine } from '../models/formula.ts';
import { GpuFormulaEngine } from '../gpu/formula/gpu-formula-engine.ts';
import { FastCpuFormulaEngine } from '../cpu-fast/formula-engine.ts';
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
 * y ~ linear(x1, ..., xd) with mse over d feature columns. The columns are named x1..xd and the target y
 * here whatever the dataset calls them: a file's header may hold names that are not identifiers, and the
 * page labels the weights by the dataset's own names. θ = (w_1 .. w_d, b), the layout the trainer, the
 * surface and the readout read.
 */
export function linearFormula(d: number): FormulaModel {
  if (!(Number.isInteger(d) && d >= 1)) throw new RangeError(`linear model: need at least one feature, got d = ${d}`);
  const columns = Array.from({ length: d }, (_, j) => `x${j + 1}`);
  const model = compileFormula({ formula: `y ~ linear(${columns.join(', ')})`, loss: 'mse' }, { columns: [...columns, 'y'] });
  const expected = [...columns.map((c) => `w_${c}`), 'b'];
  if (model.params.join(',') !== expected.join(',')) {
    throw new Error(`linear model: the formula's parameters are ${model.params.join(', ')}, the page reads ${expected.join(', ')}`);
  }
  return model;
}

/** What trains the linear mode, for the page's Device line. */
export function linearDeviceText(backend: Backend): string {
  return backend.kind === 'gpu' ? 'WebGPU: WGSL compiled from the linear model\'s formula' : cpuDeviceText(backend.threads, 'kernels compiled from the linear model\'s formula');
}

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
  const model = linearFormula(data.d);
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
