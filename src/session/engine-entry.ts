// Public surface of the browser engine bundle (dist/engine/nabla-engine.js).
export { requestGpu, summarizeAdapter, type GpuContext, type AdapterSummary } from '../gpu/device.ts';
export { abortGpuJob, runGpuJob, type GpuJob, type GpuJobResult } from './gpu-job.ts';
export { loadTuningTable, tuningTable } from '../gpu/tuning/page-table.ts';
// Formula models in the page (the CLI's formula-train and formula-fit jobs run them through runGpuJob).
export { compileFormula, type FormulaModel, type FormulaSpec } from '../formula/model.ts';
export { GpuFormulaEngine } from '../gpu/formula/gpu-formula-engine.ts';
export { curveFit, type CurveFitResult } from '../fit/curve-fit.ts';
export type { FitProgress, FormulaFitOutcome, FormulaTrainOutcome } from './formula-jobs.ts';
