// `nabla train` on the model trainer (every model; optimizers, schedules, --save, --resume), `nabla
// predict`, `nabla evaluate`. Training runs on the GPU engine (headless Chromium, src/cli/backend.ts) or
// the float64 path; predict and evaluate run the float64 forward pass. Arguments come parsed and
// validated from args.ts; what needs the saved model is checked here before any data is read.
import { linearModel, logisticModel, mlpModel, softmaxModel } from '../models/mlp.ts';
import { initParameters, validateNetwork, type NetworkConfig } from '../models/network.ts';
import { StartDivergenceError } from '../models/model-engine.ts';
import { modelStartError } from './model-start.ts';
import { openBackend } from './backend.ts';
import { modelLogits, predictFromLogits } from '../cpu/mlp_gradient.ts';
import { optimizerConfig } from '../optim/config.ts';
import { divergedMark, saveModel, snapshotOfSaved, type SavedModel } from '../models/model-file.ts';
import { checkLossTargets, fitFeatureScaling, loadModelData, scaleFeatures, type ModelSelection } from './model-data.ts';
import { openModelStream } from './model-stream.ts';
import { divergenceText, streamProgress } from './progress.ts';
import { UnavailableError } from './errors.ts';
import type { EpochInfo } from '../models/linear.ts';
import { UsageError, type PredictArgs, type TrainArgs } from './args.ts';
import type { Io } from './commands.ts';
import { evaluationReport, weightsInDataUnits, withClassifierLossNamed } from './model-metrics.ts';
import { checkResumeFlags, resumeBatching } from './resume.ts';
import { readAsFloat32 } from './float32-reason.ts';
import { deviceRan } from './flags.ts';
import { loadAnyModel } from '../models/formula-file.ts';
import { INTERRUPTED_EXIT, lossNote, STOP_AT_EPOCH, stoppedText, withInterrupt, type TrainingInterrupt } from './interrupt.ts';
import { formulaEvaluateCommand, formulaPredictCommand, formulaTrainCommand } from './formula-commands.ts';

const LARGE_PARAMS = 1000; // above this, parameters go to the saved file only

/**
 * Class labels learned from a target whose values are numbers, some not whole (2.37): a continuous target read
 * as classes would train a softmax over every distinct value without a word. Labels such as 0, 1, 2 or text
 * are classes.
 */
function refuseContinuousLabels(classes: readonly string[], kind: string, target: string): void {
  const fractional = classes.find((c) => c.trim() !== '' && Number.isFinite(Number(c)) && !Number.isInteger(Number(c)));
  if (fractional === undefined || !classes.every((c) => Number.isFinite(Number(c)))) return;
  throw new UsageError(`--model ${kind}: the target ${JSON.stringify(target)} holds ${classes.length} distinct numbers, not all whole (${fractional}): a classifier wants class labels; ` +
    `for a number target use --model linear, or --model mlp with --loss mse (or another --loss)`);
}

export async function modelTrainCommand(args: TrainArgs, io: Io): Promise<number> {
  const any = args.resume ? await loadAnyModel(args.resume, '--resume') : null;
  if (any?.kind === 'formula') return formulaTrainCommand(args, io, any.saved);
  return withInterrupt(io, STOP_AT_EPOCH, (interrupt) => trainNetwork(args, io, any?.saved ?? null, interrupt));
}

async function trainNetwork(args: TrainArgs, io: Io, resumed: SavedModel | null, interrupt: TrainingInterrupt): Promise<number> {
  if (resumed) checkResumeFlags(args, resumed, args.resume!);
  const kind = resumed?.model.kind ?? args.model;
  const target = args.target ?? resumed!.target;
  // A formula loss (--loss) is a loss of one output: an mlp with one is a regression on a number target.
  const loss = resumed ? resumed.model.loss : args.loss;
  const classes = resumed ? resumed.classes : kind === 'linear' || (kind === 'mlp' && loss !== undefined) ? null : (args.classes ?? 'learn');
  // The row width sizes saved chunk rows only, which a fresh run has none of.
  const batching = resumeBatching(args, resumed?.training, resumed?.features.length ?? 0);
  const streamed = args.stream ? await readAsFloat32(args.device, () => openModelStream(args.data!, {
    target, features: resumed?.features ?? args.features, classes, invalid: args.onInvalid,
    scaling: resumed ? resumed.standardization : args.standardize, chunkBytes: batching.chunkBytes,
    progress: streamProgress(args.json, args.epochs),
  })) : null;
  const sel = streamed
    ? { features: streamed.features, classes: streamed.classes, rows: streamed.rows.n, droppedRows: streamed.droppedRows }
    : await readAsFloat32(args.device, () => loadModelData(args.data!, { target, features: resumed?.features ?? args.features, classes, invalid: args.onInvalid }));
  const scaling = streamed ? streamed.scaling : resumed ? resumed.standardization : args.standardize ? fitFeatureScaling((sel as ModelSelection).data) : null;
  const data = streamed ? null : scaleFeatures((sel as ModelSelection).data, scaling);
  const rowCount = sel.rows;
  const d = sel.features.length;
  const K = sel.classes?.length ?? 1;
  if (sel.classes && classes === 'learn') refuseContinuousLabels(sel.classes, kind, target);
  if (sel.classes && kind === 'logistic' && K !== 2) {
    throw new UsageError(`--model logistic: the target ${JSON.stringify(target)} has ${K} classes (${sel.classes.join(', ')}); use --model softmax`);
  }
  const built = () => (kind === 'linear' ? linearModel(d) : kind === 'logistic' ? logisticModel(d)
    : kind === 'softmax' ? softmaxModel(d, K) : mlpModel(d, args.hidden ?? [64], args.activation ?? 'relu', loss !== undefined ? 'mse' : 'ce', K));
  const config: NetworkConfig = resumed?.model ?? (loss !== undefined ? withLoss(built(), loss) : built());
  if (args.optimizer === 'lm') throw new UsageError('--optimizer lm: fits formula models (add --formula "Y ~ EXPR"); the network models train by gradient descent');
  const opt = resumed?.training.optimizer ?? optimizerConfig({
    kind: args.optimizer ?? 'sgd',
    weightDecay: args.weightDecay ?? 0,
    ...(args.momentum !== undefined && { momentum: args.momentum }),
  });
  const schedule = resumed?.training.schedule ?? args.schedule ?? { kind: 'constant' as const };
  const lr = resumed?.training.lr ?? args.lr ?? (opt.kind.startsWith('adam') ? 0.01 : 0.1);
  const seed = resumed?.training.seed ?? args.seed ?? 1;
  const epochs = args.epochs;
  const tol = args.tol;
  const { batchSize, chunkRows, keptChunkRows } = batching.cut(rowCount, streamed?.rows.chunkRows);
  // Class indices meet every loss's rule; a number target is checked here, where its row can be named.
  if (config.loss !== undefined && data && !sel.classes) await checkLossTargets(args.data!, config.loss, data.y, { target, features: sel.features, invalid: args.onInvalid });
  const device = args.device;
  const every = Math.max(1, Math.floor(epochs / 10));
  const backend = await openBackend(device, (m) => io.err(`nabla: ${m}`));
  let outcome;
  try {
    // The seed orders mini-batches and draws a fresh run's weights; a full-batch resume has no use for it.
    const options = {
      lr, maxEpochs: epochs, optimizer: opt, schedule, ...((batchSize !== undefined || !resumed) && { seed }), batchSize, tol, resumeFrom: resumed ? snapshotOfSaved(resumed) : undefined,
      signal: interrupt.arm(),
    };
    const progress = args.json ? undefined : (e: EpochInfo) => { if (e.epoch % every === 0) io.err(`epoch ${String(e.epoch).padStart(6)}  loss ${e.loss.toExponential(6)}  |grad J| ${e.gradNorm.toExponential(3)}`); };
    if (streamed) {
      if (!backend.trainModelStreamed) throw new UnavailableError(`--stream: the ${backend.device} backend${backend.adapter ? ` (${backend.adapter})` : ''} cannot stream --model ${kind} yet; use --device cpu`);
      outcome = await backend.trainModelStreamed(config, streamed.rows, options, progress);
    } else {
      outcome = await backend.trainModel(config, data!, { ...options, chunkRows }, progress).catch(async (e: unknown) => {
        if (!(e instanceof StartDivergenceError)) throw e;
        const start = resumed ? resumed.parameters : initParameters(config, seed);
        throw await modelStartError(e, config, start, {
          path: args.data!, trained: data!, read: (sel as ModelSelection).data, features: sel.features, target, classes: sel.classes, invalid: args.onInvalid,
        });
      });
    }
  } finally {
    await backend.close();
  }
  interrupt.trainingDone();
  const r = outcome.result;
  const ran = deviceRan(device, outcome.device);
  const saved: SavedModel = {
    format: 'nabla-model', version: 1, model: config, features: sel.features, target, standardization: scaling, classes: sel.classes,
    parameters: Array.from(r.theta),
    training: {
      optimizer: opt, lr, schedule, seed, batchSize: batchSize ?? null, ...(keptChunkRows !== undefined && { chunkRows: keptChunkRows }),
      state: { m: Array.from(r.snapshot.optim.m), v: Array.from(r.snapshot.optim.v), t: r.snapshot.optim.t, bestLoss: Number.isFinite(r.snapshot.bestLoss) ? r.snapshot.bestLoss : null },
      ...divergedMark(r),
    },
  };
  if (args.save) await saveModel(args.save, saved);
  // A stopped stream is not read again (lossOf), for its metrics neither; rows in memory are at hand.
  const metrics = streamed && r.lossOf === 'last-epoch' ? null
    : streamed ? withClassifierLossNamed(config, await streamed.metrics(config, r.theta)) : evaluationReport(config, r.theta, data!, sel.classes);
  const report: Record<string, unknown> = {
    model: kind, ...(config.loss !== undefined && { lossFormula: config.loss }), loss: r.loss, gradNorm: r.gradNorm, ...(r.lossOf && { lossOf: r.lossOf }), epochs: r.epochs, updates: r.updates, batchSize: batchSize ?? sel.rows,
    stopReason: r.stopReason, rows: sel.rows, droppedRows: sel.droppedRows,
    device: ran, adapter: outcome.adapter, metrics, optimizer: opt.kind, classes: sel.classes,
  };
  if (kind === 'mlp') report.layers = [config.inputs, ...config.hidden, config.outputs];
  const linear = weightsInDataUnits(config, r.theta, sel.features, scaling);
  if (linear) Object.assign(report, linear);
  if (r.theta.length <= LARGE_PARAMS) report.parameters = Array.from(r.theta);
  if (args.save) report.saved = args.save;
  io.out(args.json ? JSON.stringify(report) : [
    `trained the ${kind} model on ${sel.rows} rows (${sel.droppedRows} dropped) on ${ran}${outcome.adapter ? ` (${outcome.adapter})` : ''}: ${r.stopReason} after ${r.epochs} epochs`,
    ...(linear ? [...Object.entries(linear.weights).map(([f, w]) => `  w[${f}] = ${w}`), `  b = ${linear.bias}`] : []),
    `  J = ${r.loss}, |grad J| = ${r.gradNorm.toExponential(3)}${lossNote(r)}`,
    ...Object.entries(metrics ?? {}).filter(([k]) => k !== 'confusion').map(([k, x]) => `  ${k} = ${x}`),
    ...(args.save ? [`  saved to ${args.save}`] : []),
  ].join('\n'));
  if (r.stopReason === 'diverged') {
    io.err(`nabla: ${divergenceText(r, batchSize !== undefined)}. Try a smaller --lr than ${lr}.`);
    return 3;
  }
  if (r.stopReason === 'aborted') {
    io.err(stoppedText(r.epochs, args.save));
    return INTERRUPTED_EXIT;
  }
  return 0;
}

/** The network with a formula loss in place of its head's; an unknown or malformed loss is a usage error naming --loss. */
function withLoss(c: NetworkConfig, loss: string): NetworkConfig {
  const out = { ...c, loss };
  try {
    validateNetwork(out);
  } catch (e) {
    throw new UsageError(`--loss: ${(e as Error).message}`);
  }
  return out;
}

async function loadFor(args: PredictArgs, saved: SavedModel) {
  const evaluate = args.command === 'evaluate';
  const sel = await loadModelData(args.data, {
    target: evaluate ? (args.target ?? saved.target) : null, features: saved.features, classes: evaluate ? saved.classes : null, invalid: args.onInvalid,
  });
  return { saved, sel, data: scaleFeatures(sel.data, saved.standardization) };
}

export async function predictCommand(args: PredictArgs, io: Io): Promise<number> {
  const any = await loadAnyModel(args.model);
  if (any.kind === 'formula') return formulaPredictCommand(args, io, any.saved);
  const { saved, sel, data } = await loadFor(args, any.saved);
  const pred = predictFromLogits(saved.model, modelLogits(saved.model, saved.parameters, data.x, data.n), data.n);
  const out = Array.from(pred, (p) => (saved.classes ? saved.classes[p] : p));
  // A dropped row has no prediction: say so, since the output lines then do not match the input rows.
  if (sel.droppedRows > 0 && !args.json) io.err(`nabla: ${sel.droppedRows} row(s) with a missing feature were dropped and have no prediction`);
  io.out(args.json ? JSON.stringify({ predictions: out, rows: sel.rows, droppedRows: sel.droppedRows }) : out.join('\n'));
  return 0;
}

export async function evaluateCommand(args: PredictArgs, io: Io): Promise<number> {
  const any = await loadAnyModel(args.model);
  if (any.kind === 'formula') return formulaEvaluateCommand(args, io, any.saved);
  const { saved, sel, data } = await loadFor(args, any.saved);
  const metrics = evaluationReport(saved.model, saved.parameters, data, saved.classes);
  io.out(args.json ? JSON.stringify({ rows: sel.rows, droppedRows: sel.droppedRows, metrics }) : Object.entries(metrics).map(([k, x]) => `${k}: ${JSON.stringify(x)}`).join('\n'));
  return 0;
}
