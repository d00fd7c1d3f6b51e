// `nabla train --model ...`, `nabla predict`, `nabla evaluate` for logistic, softmax, MLP (and linear
// through the same network code). Training runs on the GPU engine (headless Chromium, src/cli/backend.ts)
// or the float64 path; predict and evaluate run the float64 forward pass. Exported for src/cli/main.ts:
// each takes argv (after the command) and Io.
import { parseArgs } from 'node:util';
import { readTable } from '../data/table.ts';
import { INVALID_POLICIES, type InvalidPolicy } from '../data/select.ts';
import { ACTIVATIONS, type Activation, type NetworkConfig } from '../models/network.ts';
import { linearModel, logisticModel, mlpModel, softmaxModel } from '../models/mlp.ts';
import { openBackend } from './backend.ts';
import type { DeviceChoice } from './args.ts';
import { modelLogits, predictFromLogits } from '../cpu/mlp_gradient.ts';
import { optimizerConfig, OPTIMIZER_KINDS, type OptimizerKind } from '../optim/config.ts';
import { parseSchedule } from '../optim/schedule.ts';
import { loadModel, saveModel, snapshotOfSaved, type SavedModel } from '../models/model-file.ts';
import { classLabels, fitFeatureScaling, scaleFeatures, selectModelData } from './model-data.ts';
import { UsageError } from './args.ts';
import type { Io } from './commands.ts';
import { evaluationReport } from './model-metrics.ts';

const MODELS = ['linear', 'logistic', 'softmax', 'mlp'] as const;
const LARGE_PARAMS = 1000; // above this, parameters go to the saved file only

function parse(argv: string[], options: Record<string, { type: 'string' | 'boolean' }>) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^Unknown option '(.*?)'.*$/s, 'unknown option $1'));
  }
}

function num(v: Record<string, unknown>, name: string, fallback: number, ok: (x: number) => boolean, want: string): number {
  const raw = v[name] as string | undefined;
  if (raw === undefined) return fallback;
  const x = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(x) || !ok(x)) throw new UsageError(`--${name}: expected ${want}, got "${raw}"`);
  return x;
}

function oneOf<T extends string>(name: string, raw: unknown, allowed: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw as string)) throw new UsageError(`--${name}: expected ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

const common = {
  data: { type: 'string' }, target: { type: 'string' }, features: { type: 'string' }, json: { type: 'boolean' },
  'on-invalid': { type: 'string' }, device: { type: 'string' },
} as const;

export async function modelTrainCommand(argv: string[], io: Io): Promise<number> {
  const v = parse(argv, {
    ...common, model: { type: 'string' }, hidden: { type: 'string' }, activation: { type: 'string' }, classes: { type: 'string' },
    optimizer: { type: 'string' }, lr: { type: 'string' }, 'weight-decay': { type: 'string' }, momentum: { type: 'string' },
    schedule: { type: 'string' }, epochs: { type: 'string' }, seed: { type: 'string' }, save: { type: 'string' }, resume: { type: 'string' },
    'no-standardize': { type: 'boolean' }, 'batch-size': { type: 'string' }, tol: { type: 'string' },
  });
  const device = oneOf<DeviceChoice>('device', v.device, ['auto', 'gpu', 'cpu'], 'auto');
  const resumed = v.resume ? await loadModel(v.resume as string) : null;
  if (!v.data) throw new UsageError('--data: required for train --model');
  const target = (v.target as string | undefined) ?? resumed?.target;
  if (!target) throw new UsageError('--target: required with --data');
  const invalid = oneOf<InvalidPolicy>('on-invalid', v['on-invalid'], INVALID_POLICIES, 'drop-missing');
  const table = await readTable(v.data as string);
  const kind = resumed?.model.kind ?? oneOf('model', v.model, MODELS, 'linear');
  const classes = resumed ? resumed.classes : kind === 'linear' ? null : classLabels(table, target);
  const features = resumed?.features ?? (v.features ? (v.features as string).split(',').map((s) => s.trim()) : undefined);
  const sel = selectModelData(table, { target, features, classes, invalid });
  const scaling = resumed ? resumed.standardization : v['no-standardize'] ? null : fitFeatureScaling(sel.data);
  const data = scaleFeatures(sel.data, scaling);
  const hidden = v.hidden === undefined ? [64] : (v.hidden as string).split(',').map((h, k) => {
    const x = Number(h);
    if (!(Number.isInteger(x) && x >= 1)) throw new UsageError(`--hidden: layer ${k + 1}: expected a positive integer, got "${h}"`);
    return x;
  });
  const activation = oneOf<Activation>('activation', v.activation, ACTIVATIONS, 'relu');
  const d = data.d;
  const K = classes?.length ?? 1;
  if (classes && kind === 'logistic' && K !== 2) throw new UsageError(`--model logistic: the target has ${K} classes; use softmax`);
  let config: NetworkConfig = resumed?.model ?? (kind === 'linear' ? linearModel(d) : kind === 'logistic' ? logisticModel(d)
    : kind === 'softmax' ? softmaxModel(d, K) : mlpModel(d, hidden, activation, classes ? 'ce' : 'mse', K));
  if (kind === 'mlp' && classes === null) config = { ...config, head: 'mse', outputs: 1 };
  const opt = resumed?.training.optimizer ?? optimizerConfig({
    kind: oneOf<OptimizerKind>('optimizer', v.optimizer, OPTIMIZER_KINDS, 'sgd'),
    weightDecay: num(v, 'weight-decay', 0, (x) => x >= 0, 'a non-negative number'),
    momentum: num(v, 'momentum', 0.9, (x) => x >= 0 && x < 1, 'a number in [0, 1)'),
  });
  let schedule;
  try {
    schedule = resumed?.training.schedule ?? (v.schedule ? parseSchedule(v.schedule as string) : { kind: 'constant' as const });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const lr = resumed?.training.lr ?? num(v, 'lr', opt.kind.startsWith('adam') ? 0.01 : 0.1, (x) => x > 0, 'a positive number');
  const seed = resumed?.training.seed ?? num(v, 'seed', 1, Number.isInteger, 'an integer');
  const epochs = num(v, 'epochs', 1000, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer');
  const askedBatch = v['batch-size'] === undefined ? undefined : num(v, 'batch-size', 0, (x) => Number.isInteger(x) && x >= 1, 'a positive integer');
  const savedBatch = resumed ? resumed.training.batchSize ?? null : undefined;
  if (savedBatch !== undefined && askedBatch !== undefined && askedBatch !== (savedBatch ?? data.n)) {
    throw new UsageError(`--batch-size: ${v.resume} was trained with ${savedBatch === null ? 'full batches' : `--batch-size ${savedBatch}`}; a resume continues with the same batches`);
  }
  // At or above the row count a batch is the full batch: saved as such, so that a resume on the same rows agrees.
  const requested = savedBatch ?? askedBatch;
  const batchSize = requested === undefined || requested === null || requested >= data.n ? undefined : requested;
  const tol = v.tol === undefined ? undefined : num(v, 'tol', 0, (x) => x >= 0, 'a non-negative number');
  if (tol !== undefined && batchSize !== undefined) {
    throw new UsageError(`--tol: applies to full-batch training only (--batch-size ${batchSize} of ${data.n} rows gives a noisy gradient per update)`);
  }
  const every = Math.max(1, Math.floor(epochs / 10));
  const backend = await openBackend(device, (m) => io.err(`nabla: ${m}`));
  let outcome;
  try {
    outcome = await backend.trainModel(config, data, {
      lr, maxEpochs: epochs, optimizer: opt, schedule, seed, batchSize, tol, resumeFrom: resumed ? snapshotOfSaved(resumed) : undefined,
    }, v.json ? undefined : (e) => { if (e.epoch % every === 0) io.err(`epoch ${String(e.epoch).padStart(6)}  loss ${e.loss.toExponential(6)}  |grad J| ${e.gradNorm.toExponential(3)}`); });
  } finally {
    await backend.close();
  }
  const r = outcome.result;
  const saved: SavedModel = {
    format: 'nabla-model', version: 1, model: config, features: sel.features, target, standardization: scaling, classes,
    parameters: Array.from(r.theta),
    training: { optimizer: opt, lr, schedule, seed, batchSize: batchSize ?? null, state: { m: Array.from(r.snapshot.optim.m), v: Array.from(r.snapshot.optim.v), t: r.snapshot.optim.t, bestLoss: Number.isFinite(r.snapshot.bestLoss) ? r.snapshot.bestLoss : null } },
  };
  if (v.save) await saveModel(v.save as string, saved);
  const metrics = evaluationReport(config, r.theta, data, classes);
  const report: Record<string, unknown> = {
    model: kind, loss: r.loss, gradNorm: r.gradNorm, epochs: r.epochs, updates: r.updates, batchSize: batchSize ?? sel.rows,
    stopReason: r.stopReason, rows: sel.rows, droppedRows: sel.droppedRows,
    device: outcome.device, adapter: outcome.adapter, metrics, optimizer: opt.kind, classes,
  };
  if (kind === 'mlp') report.layers = [config.inputs, ...config.hidden, config.outputs];
  if (r.theta.length <= LARGE_PARAMS) report.parameters = Array.from(r.theta);
  if (v.save) report.saved = v.save;
  io.out(v.json ? JSON.stringify(report) : [
    `trained the ${kind} model on ${sel.rows} rows (${sel.droppedRows} dropped) on ${outcome.device}${outcome.adapter ? ` (${outcome.adapter})` : ''}: ${r.stopReason} after ${r.epochs} epochs`,
    `  J = ${r.loss}, |grad J| = ${r.gradNorm.toExponential(3)}`,
    ...Object.entries(metrics).filter(([k]) => k !== 'confusion').map(([k, x]) => `  ${k} = ${x}`),
    ...(v.save ? [`  saved to ${v.save}`] : []),
  ].join('\n'));
  if (r.stopReason === 'diverged') {
    io.err(`nabla: training diverged at epoch ${r.divergedAtEpoch}; kept the parameters of epoch ${r.epochs}. Try a smaller --lr than ${lr}.`);
    return 3;
  }
  return 0;
}

async function loadFor(argv: string[], needTarget: boolean) {
  const v = parse(argv, { ...common, model: { type: 'string' } });
  if (!v.model) throw new UsageError('--model: required (a file written by train --save)');
  if (!v.data) throw new UsageError('--data: required');
  const saved = await loadModel(v.model as string);
  const table = await readTable(v.data as string);
  const target = needTarget ? ((v.target as string | undefined) ?? saved.target) : null;
  const invalid = oneOf<InvalidPolicy>('on-invalid', v['on-invalid'], INVALID_POLICIES, 'drop-missing');
  const sel = selectModelData(table, { target, features: saved.features, classes: needTarget ? saved.classes : null, invalid });
  return { v, saved, sel, data: scaleFeatures(sel.data, saved.standardization) };
}

export async function predictCommand(argv: string[], io: Io): Promise<number> {
  const { v, saved, data } = await loadFor(argv, false);
  const pred = predictFromLogits(saved.model, modelLogits(saved.model, saved.parameters, data.x, data.n), data.n);
  const out = Array.from(pred, (p) => (saved.classes ? saved.classes[p] : p));
  io.out(v.json ? JSON.stringify({ predictions: out }) : out.join('\n'));
  return 0;
}

export async function evaluateCommand(argv: string[], io: Io): Promise<number> {
  const { v, saved, sel, data } = await loadFor(argv, true);
  const metrics = evaluationReport(saved.model, saved.parameters, data, saved.classes);
  io.out(v.json ? JSON.stringify({ rows: sel.rows, droppedRows: sel.droppedRows, metrics }) : Object.entries(metrics).map(([k, x]) => `${k}: ${JSON.stringify(x)}`).join('\n'));
  return 0;
}
