// Where the formula mode trains: the GPU formula engine on the page's WebGPU backend, else the float64 twin
// on the CPU, and the page says which and why (a GPU engine that cannot be made is named with its error).
import type { FormulaModel } from '../../formula/model.ts';
import type { FormulaData, FormulaEngine } from '../../models/formula.ts';
import { CpuFormulaEngine } from '../../cpu/formula-engine.ts';
import { GpuFormulaEngine } from '../../gpu/formula/gpu-formula-engine.ts';
import type { Backend } from '../backend.ts';

export interface ChosenEngine {
  engine: FormulaEngine;
  /** The page's Device line. */
  text: string;
}

export async function createFormulaEngine(backend: Backend, model: FormulaModel, data: FormulaData, start: Float64Array): Promise<ChosenEngine> {
  const twin = 'CPU: the float64 twin (JavaScript generated from the formula, summed in float64)';
  if (backend.kind === 'cpu') return { engine: new CpuFormulaEngine(model, data, start), text: `${twin}; no WebGPU: ${backend.reason}` };
  try {
    return { engine: await GpuFormulaEngine.create(backend.gpu, model, data, start), text: 'WebGPU: the formula\'s generated WGSL' };
  } catch (e) {
    return { engine: new CpuFormulaEngine(model, data, start), text: `${twin}: the GPU formula engine failed (${(e as Error).message})` };
  }
}
