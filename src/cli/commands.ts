// `nabla train` and `nabla gradient`: load, select, (standardize), compute, report.
import { streamChunkBytes } from './stream-chunk.ts';
import { passTracker, streamProgress } from './progress.ts';
import { gradientNorm, type EpochInfo } from '../models/linear.ts';
import { selectLinearData, type SelectedData } from '../data/select.ts';
import { openSource, readAllChunks } from '../data/source.ts';
import { convertToRaw } from '../data/convert.ts';
import { seedExampleTable } from '../data/seed-example.ts';
import { fitStandardizer, gradientToOriginal, paramsToOriginal, type Standardizer } from '../models/standardize.ts';
import { computeStandardizer } from '../data/stats.ts';
import type { ConvertArgs, GradientArgs, TrainArgs } from './args.ts';
import { checkSeedHasBatches } from './formula-args.ts';
import { readAsFloat32 } from './float32-reason.ts';
import { UsageError } from './args.ts';
import { openBackend, type Backend, type TrainOutcome } from './backend.ts';
import { deviceRan } from './flags.ts';
import { INTERRUPTED_EXIT, lossNote, STOP_AT_EPOCH, stoppedText, withInterrupt, type TrainingInterrupt } from './interrupt.ts';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export class DivergedError extends Error {}

async function load(args: TrainArgs | GradientArgs, io: Io): Promise<SelectedData> {
  const target = args.target!; // set by args.ts for the linear model's default path ('y' for the built-in example)
  const opts = { target, features: args.features, invalid: args.onInvalid };
  if (args.data === null) {
    const table = seedExampleTable();
    io.err(`no --data given: training on the built-in example (y = 3x + 2 + noise, ${table.rowCount} rows)`);
    return selectLinearData(table, opts);
  }
  // Every format is read through its streaming source; training needs the samples in memory (CPU path,
  // or the upload to the GPU page), so the chunks are joined here.
  const source = await openSource(args.data, opts);
  const started = performance.now();
  const all = await readAllChunks(source);
  if (!args.json && args.command === 'train') io.err(`read ${all.n} rows (${all.droppedRows} dropped) from ${args.data} in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return {
    data: { x: all.x, y: all.y, n: all.n, d: all.d },
    features: source.features,
    target,
    rows: all.n,
    droppedRows: all.droppedRows,
  };
}

export async function convertCommand(args: ConvertArgs, io: Io): Promise<number> {
  const r = await convertToRaw(args.input, args.output, { target: args.target, features: args.features, invalid: args.onInvalid });
  const report = { output: args.output, rows: r.rows, droppedRows: r.droppedRows, features: r.features, target: r.target };
  io.out(args.json ? JSON.stringify(report)
    : `wrote ${args.output}: ${r.rows} rows (${r.droppedRows} dropped), features ${r.features.join(', ')}, target ${r.target}`);
  return 0;
}

function named(features: string[], values: ArrayLike<number>): Record<string, number> {
  return Object.fromEntries(features.map((f, j) => [f, values[j]]));
}

/**
 * --chunk-mb without --stream sizes GPU chunks only. --device cpu and cpu64 refuse it with the flags (args.ts);
 * --device auto learns only here, once it has looked for a GPU, that it runs on the CPU, where the flag cannot apply.
 */
export function gpuChunksOnCpuError(args: TrainArgs | GradientArgs, ranOn: 'gpu' | 'cpu'): UsageError | null {
  const streamed = args.command === 'train' && args.stream;
  if (args.chunkMb === undefined || streamed || ranOn === 'gpu' || args.device !== 'auto') return null;
  const instead = args.command === 'train' ? 'drop --chunk-mb, or add --stream to size a stream\'s chunks' : 'drop --chunk-mb';
  return new UsageError(`--chunk-mb: no GPU was found (no hardware WebGPU adapter), so --device auto runs on the CPU, where --chunk-mb does not apply: it sizes GPU chunks; ${instead}`);
}

async function withBackend<T>(args: TrainArgs | GradientArgs, io: Io, work: (b: Backend) => Promise<T>): Promise<T> {
  const chunkBytes = args.chunkMb === undefined ? undefined : Math.floor(args.chunkMb * 2 ** 20);
  const backend = await openBackend(args.device, (m) => io.err(`nabla: ${m}`), { chunkBytes });
  try {
    const refusal = gpuChunksOnCpuError(args, backend.device);
    if (refusal) throw refusal;
    return await work(backend);
  } finally {
    await backend.close();
  }
}

interface Prepared {
  features: string[];
  rows: number;
  droppedRows: number;
  scaler: Standardizer | null;
}

/**
 * --stream: the data never sits in host memory. One pass computes the row count and the standardization
 * statistics; then every gradient evaluation pulls the file chunk by chunk (into the GPU page, or the CPU path).
 */
async function trainStreamed(
  args: TrainArgs, io: Io, backend: Backend, interrupt: TrainingInterrupt, onRows: (n: number) => void, progress?: (i: EpochInfo) => void,
): Promise<TrainOutcome & Prepared> {
  if (!backend.trainStreamed) throw new Error(`--stream: the ${backend.device} backend cannot stream the linear model`);
  const bar = streamProgress(args.json, args.epochs);
  const track = passTracker(bar);
  const opened = await openSource(args.data!, { target: args.target!, features: args.features, invalid: args.onInvalid, onBytes: bar?.line.onBytes });
  // Every pass through the progress line (statistics, then one per epoch and the final loss's).
  let total: number | undefined = opened.inputRows;
  const source = { ...opened, chunks: (rows: number) => track(opened.chunks(rows), total) };
  const d = source.features.length;
  const chunkBytes = streamChunkBytes(args.chunkMb, args.device);
  const chunkRows = Math.max(4, Math.floor(chunkBytes / (d * 4) / 4) * 4);
  const read = performance.now();
  const stats = await computeStandardizer(source, chunkRows);
  const scaler = args.standardize ? stats.standardizer : null;
  onRows(stats.rows);
  total = stats.rows;
  if (!args.json) {
    io.err(`read ${stats.rows} rows (${stats.droppedRows} dropped) from ${args.data} in ${((performance.now() - read) / 1000).toFixed(2)} s; streaming ${chunkRows}-row chunks`);
  }
  checkSeedHasBatches(args, stats.rows);
  // At or above the row count a batch is the full batch; batches are cut inside chunks.
  const batchSize = args.batchSize === undefined || args.batchSize >= stats.rows ? undefined : args.batchSize;
  if (batchSize !== undefined && batchSize > chunkRows) {
    throw new UsageError(`--batch-size: ${batchSize} rows exceed a stream chunk of ${chunkRows} rows (batches are cut inside chunks); raise --chunk-mb or lower --batch-size`);
  }
  const outcome = await backend.trainStreamed(
    { n: stats.rows, d, chunkRows, train: { lr: linearLr(args), maxEpochs: args.epochs, tol: linearTol(args), batchSize, seed: args.seed, signal: interrupt.arm() }, scaler },
    () => source.chunks(chunkRows),
    progress,
  );
  return { ...outcome, features: source.features, rows: stats.rows, droppedRows: stats.droppedRows, scaler };
}

/** The linear model's rate (the model trainer has its own: see model-commands.ts); its tolerance defaults in linearTrainOptions. */
const linearLr = (args: TrainArgs) => args.lr ?? 0.1;
const linearTol = (args: TrainArgs) => args.tol;

export function trainCommand(args: TrainArgs, io: Io): Promise<number> {
  return withInterrupt(io, STOP_AT_EPOCH, (interrupt) => trainLinear(args, io, interrupt));
}

async function trainLinear(args: TrainArgs, io: Io, interrupt: TrainingInterrupt): Promise<number> {
  const every = Math.max(1, Math.floor(args.epochs / 10));
  const started = performance.now();
  let lastLine = started;
  let rowsPerEpoch = 0;
  // Progress on stderr: every tenth of the run, and at least every 2 s on long runs.
  const progress = args.json ? undefined : (i: EpochInfo) => {
    const now = performance.now();
    if (i.epoch % every !== 0 && now - lastLine < 2000) return;
    lastLine = now;
    const rate = ((i.epoch + 1) * rowsPerEpoch) / ((now - started) / 1000);
    io.err(`epoch ${String(i.epoch).padStart(6)}  loss ${i.loss.toExponential(6)}  |grad J| ${i.gradNorm.toExponential(3)}  ${rate.toExponential(2)} samples/s`);
  };
  const { result, final, features, rows, droppedRows, scaler, ...backend } = await withBackend(args, io, async (b) => {
    if (args.stream) return readAsFloat32(args.device, () => trainStreamed(args, io, b, interrupt, (n) => { rowsPerEpoch = n; }, progress));
    const selected = await readAsFloat32(args.device, () => load(args, io));
    const scaler = args.standardize ? fitStandardizer(selected.data) : null;
    rowsPerEpoch = selected.data.n;
    checkSeedHasBatches(args, selected.data.n);
    const outcome = await b.train(selected.data, {
      lr: linearLr(args), maxEpochs: args.epochs, tol: linearTol(args), batchSize: args.batchSize, seed: args.seed, // undefined: the one default of every model (DEFAULT_SEED)
      signal: interrupt.arm(),
    }, progress, scaler);
    return { ...outcome, features: selected.features, rows: selected.rows, droppedRows: selected.droppedRows, scaler };
  });
  interrupt.trainingDone();
  const seconds = (performance.now() - started) / 1000;
  const params = scaler ? paramsToOriginal(scaler, result.w, result.b) : { w: result.w, b: result.b };
  const grad = final && (scaler ? gradientToOriginal(scaler, final) : final);
  const report = {
    model: 'linear',
    weights: named(features, params.w),
    bias: params.b,
    // No gradient of a stopped stream: the epoch's mean loss, and no norm to show in the data's units.
    loss: grad ? grad.loss : result.loss,
    gradNorm: grad ? gradientNorm(grad) : null,
    ...(result.lossOf && { lossOf: result.lossOf }),
    epochs: result.epochs,
    rows,
    droppedRows,
    device: deviceRan(args.device, backend.device),
    adapter: backend.adapter,
    stopReason: result.stopReason,
  };
  if (args.json) {
    io.out(JSON.stringify(report));
  } else {
    const lines = [
      `trained the linear model on ${report.rows} rows (${report.droppedRows} dropped) with ${report.device}${report.adapter ? ` (${report.adapter})` : ''} in ${seconds.toFixed(2)} s`,
      `stopped: ${result.stopReason} after ${report.epochs} epochs`,
      ...features.map((f) => `  w[${f}] = ${params.w[features.indexOf(f)]}`),
      `  b = ${params.b}`,
      `  J = ${report.loss}${lossNote(result)}`,
      ...(grad ? [`  dJ/dw = [${Array.from(grad.gradW, (v) => v.toExponential(3)).join(', ')}], dJ/db = ${grad.gradB.toExponential(3)}, |grad J| = ${gradientNorm(grad).toExponential(3)}`] : []),
    ];
    io.out(lines.join('\n'));
  }
  if (result.stopReason === 'diverged') {
    io.err(`nabla: training diverged at epoch ${result.divergedAtEpoch} (loss not finite or exploding); ` +
      `kept the parameters of epoch ${result.epochs}. Try a smaller --lr than ${linearLr(args)}.`);
    return 3;
  }
  if (result.stopReason === 'aborted') {
    io.err(stoppedText(result.epochs, undefined));
    return INTERRUPTED_EXIT;
  }
  return 0;
}

export async function gradientCommand(args: GradientArgs, io: Io): Promise<number> {
  const selected = await load(args, io);
  const { features } = selected;
  if (args.weights.length !== features.length) {
    throw new UsageError(`--weights: ${args.weights.length} values given for ${features.length} features (${features.join(', ')})`);
  }
  const { backend, g } = await withBackend(args, io, async (backend) => ({
    backend: { device: deviceRan(args.device, backend.device), adapter: backend.adapter },
    g: await backend.gradient(selected.data, { w: args.weights, b: args.bias }),
  }));
  const report = {
    loss: g.loss,
    gradient: { ...named(features, g.gradW), bias: g.gradB },
    rows: selected.rows,
    droppedRows: selected.droppedRows,
    device: backend.device,
    adapter: backend.adapter,
  };
  if (args.json) io.out(JSON.stringify(report));
  else {
    io.out([
      `J = ${g.loss} over ${selected.rows} rows (${selected.droppedRows} dropped), on ${backend.device}${backend.adapter ? ` (${backend.adapter})` : ''}`,
      ...features.map((f, j) => `  dJ/dw[${f}] = ${g.gradW[j]}`),
      `  dJ/db = ${g.gradB}`,
      `  |grad J| = ${gradientNorm(g)}`,
    ].join('\n'));
  }
  return 0;
}
