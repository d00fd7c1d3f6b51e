// The browser and Deno entry of the nabla package: WebGPU engines, their float64 twins, models, optimizers and
// sources over fetch/Blob. Nothing here reaches Node's file system (that is src/node.ts).
// The declarations name WebGPU's types (GPUDevice, GPUBuffer, ...): a consumer's compiler finds them through
// this reference (kept in the emitted declarations: preserve) to the package's dependency @webgpu/types.
/// <reference types="@webgpu/types" preserve="true" />
export { requestGpu, summarizeAdapter, type GpuContext, type AdapterSummary } from './gpu/device.ts';
export { GpuDeviceLostError } from './gpu/device-io.ts';
export { GpuModelEngine, type GpuModelEngineOptions } from './gpu/models/gpu-model-engine.ts';
export { GpuFormulaEngine, FormulaKernelError, type GpuFormulaEngineOptions } from './gpu/formula/gpu-formula-engine.ts';
export { CpuFormulaEngine } from './cpu/formula-engine.ts';
export { CpuModelEngine } from './cpu/cpu-model-engine.ts';
export { modelLossAndGradient } from './cpu/mlp_gradient.ts';
export {
  type LinearData, type LinearParams, type GradientResult, type EpochInfo, type StopReason,
  type TrainOptions, type TrainResult, type TrainSnapshot, gradientNorm, DEFAULT_TOL, DEFAULT_EXPLODE_FACTOR,
} from './models/linear.ts';
export {
  type ModelEngine, type ModelTrainOptions, type ModelTrainResult, type ModelSnapshot, DEFAULT_SEED, StartDivergenceError,
} from './models/model-engine.ts';
export {
  type NetworkConfig, type ModelData, type Activation, type Head, type ModelKind, ACTIVATIONS, HEADS,
  initParameters, parameterCount, layerShapes,
} from './models/network.ts';
export { mlpModel, linearModel, logisticModel, softmaxModel } from './models/mlp.ts';
export { fitStandardizer, standardizeData, paramsToOriginal, type Standardizer } from './models/standardize.ts';
export { OPTIMIZER_KINDS, optimizerConfig, type OptimizerConfig, type OptimizerKind } from './optim/config.ts';
export { SCHEDULE_KINDS, learningRate, parseSchedule, type Schedule } from './optim/schedule.ts';
export { openCsvUrl } from './data/fetch-source.ts';
export { openUrl, type UrlOptions } from './data/url-source.ts';
export type { HttpOptions } from './data/http-probe.ts';
export { openCsvBlob } from './data/csv-stream.ts';
export { openParquetBlob } from './data/parquet-source.ts';
export { openArrowBlob } from './data/arrow-source.ts';
export { openRawBlob } from './data/raw-format.ts';
export { readAllChunks, type SampleSource, type SampleChunk, type SourceOptions } from './data/source.ts';
export { DataError } from './data/errors.ts';
export { LabelCoder, labelOf } from './data/labels.ts';
export { TuningCache, TuningTableError, defaultTuningCache, parseTuningTable, type TuningTable } from './gpu/tuning/cache.ts';
export { FastCpuModelEngine, type FastCpuOptions } from './cpu-fast/fast-engines.ts';
export { FastCpuFormulaEngine, trainFormulaStreamedOnCpu, type FormulaKernel, type FastCpuFormulaOptions } from './cpu-fast/formula-engine.ts';
export { linearFormulaModel } from './models/linear-formula.ts';
export { linearShape, type LinearShape } from './formula/shapes.ts';
export { InlinePool, type ShardPool } from './cpu-fast/pool.ts';
export { WebWorkerPool, WebWorkersUnavailableError, webWorkersUnavailable, type WebWorkerPoolOptions } from './cpu-fast/web-pool.ts';
// Formulas: a model and a loss as text, differentiated by the rules, compiled for every engine; curve fits.
export { compileFormula, startingParameters, derivation, modelLatexNames as formulaModelLatexNames, type FormulaModel, type FormulaSpec, type NameRoles, type Derivation } from './formula/model.ts';
export { FormulaError } from './formula/parse.ts';
export { NAMED_LOSSES, parseLoss, type LossSpec } from './formula/losses.ts';
export { print as printFormula, latex as formulaLatex, latexNames as formulaLatexNames, type LatexNames } from './formula/print.ts';
export { formulaPredict, firstNonFiniteRow, type FormulaData, type FormulaEngine, type NonFiniteRow } from './models/formula.ts';
export { curveFit, type CurveFitResult, type NormalEquationsPass } from './fit/curve-fit.ts';
export { FitError, type LmOptions, type LmStopReason } from './fit/levenberg-marquardt.ts';
// The one training loop, for a backend of one's own: a TrainingProgram runs chains of updates, runTraining does the rest.
export { runTraining, DEFAULT_REPORT_EVERY } from './train/loop.ts';
export type { TrainingProgram, ChainPlan, ChainRecord, ProgramState } from './train/program.ts';
// Streamed rows (one pass per epoch, mini-batches inside chunks) and the CPU path's streamed training.
export { ChunkCursor, type RowStream, type RowChunk } from './models/row-stream.ts';
export { trainModelStreamedOnCpu, type StreamedCpuOptions } from './cpu-fast/streamed-training.ts';
