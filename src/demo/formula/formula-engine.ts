// Where the formula mode trains: the GPU formula engine on the page's WebGPU backend once that engine is
// in the build, else the float64 twin on the CPU, and the page says which and why. The GPU engine is
// looked up by a glob so that this mode builds and runs before src/gpu/formula/ exists.
import type { FormulaModel } from '../../formula/model.ts';
import type { FormulaData, FormulaEngine } from '../../models/formula.ts';
import { CpuFormulaEngine } from '../../cpu/formula-engine.ts';
import type { GpuContext } from '../../gpu/device.ts';
import type { Backend } from '../backend.ts';

interface GpuFormulaEngineClass {
  create(gpu: GpuContext, model: FormulaModel, data: FormulaData, start: Float64Array, options?: object): Promise<FormulaEngine>;
}

const GPU_MODULES = import.meta.glob<{ GpuFormulaEngine?: GpuFormulaEngineClass }>('../../gpu/formula/gpu-formula-engine.ts');

export interface ChosenEngine {
  engine: FormulaEngine;
  /** The page's Device line. */
  text: string;
}

export async function createFormulaEngine(backend: Backend, model: FormulaModel, data: FormulaData, start: Float64Array): Promise<ChosenEngine> {
  const twin = 'CPU: the float64 twin (JavaScript generated from the formula, summed in float64)';
  if (backend.kind === 'cpu') return { engine: new CpuFormulaEngine(model, data, start), text: `${twin}; no WebGPU: ${backend.reason}` };
  const load = Object.values(GPU_MODULES)[0];
  const Gpu = load ? (await load()).GpuFormulaEngine : undefined;
  if (!Gpu) return { engine: new CpuFormulaEngine(model, data, start), text: `${twin}: the GPU formula engine is not in this build yet` };
  try {
    return { engine: await Gpu.create(backend.gpu, model, data, start), text: 'WebGPU: the formula\'s generated WGSL' };
  } catch (e) {
    return { engine: new CpuFormulaEngine(model, data, start), text: `${twin}: the GPU formula engine failed (${(e as Error).message})` };
  }
}
