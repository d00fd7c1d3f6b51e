// The linear model as the engines run it: the formula y ~ linear(x1..xd) with mse (linearFormulaModel),
// theta = (w_1..w_d, b). On the GPU that is GpuFormulaEngine, which picks the quad kernel for D <= 64.
import type { GpuContext } from '../../src/gpu/device.ts';
import { GpuFormulaEngine, type GpuFormulaEngineOptions } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { formulaBindingRows } from '../../src/gpu/formula/formula-stream.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { linearFormulaModel } from '../../src/models/linear-formula.ts';
import type { LinearData, LinearParams } from '../../src/models/linear.ts';

/** theta = 0: where a run starts without init. */
export const zeroTheta = (d: number): Float64Array => new Float64Array(d + 1);

/** The GPU engine of the linear formula; untuned (the default grid) unless options say otherwise. */
export function gpuLinear(gpu: GpuContext, data: LinearData, options: GpuFormulaEngineOptions = {}): Promise<GpuFormulaEngine> {
  return GpuFormulaEngine.create(gpu, linearFormulaModel(data.d), data, zeroTheta(data.d), { tuning: false, ...options });
}

/** The float64 twin of the linear formula. */
export function cpuLinear(data: LinearData): CpuFormulaEngine {
  return new CpuFormulaEngine(linearFormulaModel(data.d), data, zeroTheta(data.d));
}

/**
 * Parameters rounded to float32, as the GPU holds them: a float64 reference at these differs from the GPU
 * only in the arithmetic, not in the point.
 */
export function float32Params(w: ArrayLike<number>, b: number): LinearParams {
  return { w: Float64Array.from(w, Math.fround), b: Math.fround(b) };
}

/**
 * The adapter as if one storage binding held `rows` rows of d features: in-memory data larger than that run
 * in chunks of `rows` rows (formulaBindingRows), as data larger than a real binding do.
 */
export function bindingOfRows(gpu: GpuContext, rows: number, d: number): GpuContext {
  const small = { ...gpu, maxBindingBytes: rows * d * 4 };
  if (formulaBindingRows(d, small.maxBindingBytes) !== rows) throw new Error(`bindingOfRows: ${rows} rows is not a whole number of quads`);
  return small;
}
