// Where a formula model trains: the float64 twin (cpu64) today. The fast CPU path and the GPU engine implement
// the same FormulaEngine API (src/models/formula.ts) and take their places here as they land; until then
// --device cpu and gpu with a formula are refused by name, and auto says on stderr that it runs the twin.
import type { FormulaModel } from '../formula/model.ts';
import type { FormulaData, FormulaEngine } from '../models/formula.ts';
import { CpuFormulaEngine } from '../cpu/formula-engine.ts';
import { UsageError } from './args.ts';
import type { DeviceChoice } from './flags.ts';

/** Refuses, before any data is read, a device that has no formula engine yet. */
export function checkFormulaDevice(device: DeviceChoice): void {
  if (device === 'cpu' || device === 'gpu') {
    throw new UsageError(`--device ${device}: formula models do not run on the ${device === 'cpu' ? 'fast CPU path' : 'GPU'} yet; use --device cpu64 (the float64 engine, also what auto picks)`);
  }
}

export function openFormulaEngine(
  device: DeviceChoice, model: FormulaModel, data: FormulaData, start: Float64Array, notice: (message: string) => void,
): FormulaEngine {
  checkFormulaDevice(device);
  if (device === 'auto') notice('formula models run on the float64 CPU engine (cpu64) for now');
  return new CpuFormulaEngine(model, data, start);
}
