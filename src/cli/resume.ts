// `train --resume F.json` continues a saved run exactly, so every flag that would change the model, its
// data columns or its training is refused when it disagrees with the saved value (a flag that agrees is
// accepted). What legitimately changes on a resume is allowed: --epochs, --data, --target, --device,
// --save, --tol, --on-invalid, --json. A file fitted by --optimizer lm continues by Levenberg-Marquardt.
import type { SavedModel } from '../models/model-file.ts';
import type { SavedFormulaDescent, SavedFormulaModel } from '../models/formula-file.ts';
import type { NetworkConfig } from '../models/network.ts';
import { UsageError, type TrainArgs } from './args.ts';
import { rowsPerChunk } from '../data/source.ts';
import { streamChunkBytes, trainChunkBytes } from './stream-chunk.ts';
import { BatchSchedule } from '../models/batches.ts';
import { scheduleText } from '../optim/schedule.ts';

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describeHead(c: NetworkConfig): string {
  return c.kind === 'mlp' ? `mlp ${[c.inputs, ...c.hidden, c.outputs].join('-')} (${c.activation})` : c.kind;
}

/** A UsageError for `--flag asked` contradicting what `file` was trained with (`has`). */
export function refusal(file: string) {
  return (flag: string, asked: string, has: string): never => {
    throw new UsageError(`--${flag}${asked ? ` ${asked}` : ''}: ${file} was trained with ${has}; a resume continues the saved run (drop --${flag}, or train anew without --resume)`);
  };
}

/** Throws a UsageError naming the first flag of `args` that contradicts `saved` (read from `file`). */
export function checkResumeFlags(args: TrainArgs, saved: SavedModel, file: string): void {
  const given = new Set(args.given);
  const c = saved.model;
  const t = saved.training;
  const refuse = refusal(file);
  for (const f of ['formula', 'start', 'weights']) if (given.has(f)) refuse(f, '', `--model ${describeHead(c)}, not a formula`);
  if (given.has('loss') && args.loss!.replace(/\s+/g, '') !== (c.loss ?? '').replace(/\s+/g, '')) {
    refuse('loss', args.loss!, c.loss !== undefined ? `--loss ${c.loss}` : `--model ${describeHead(c)} and its own loss`);
  }
  if (given.has('model') && args.model !== c.kind) refuse('model', args.model, `--model ${describeHead(c)}`);
  if (given.has('hidden') && (c.kind !== 'mlp' || !same(args.hidden, c.hidden))) {
    refuse('hidden', args.hidden!.join(','), c.kind === 'mlp' ? `--hidden ${c.hidden.join(',')}` : `--model ${c.kind} (no hidden layers)`);
  }
  if (given.has('activation') && (c.kind !== 'mlp' || args.activation !== c.activation)) {
    refuse('activation', args.activation!, c.kind === 'mlp' ? `--activation ${c.activation}` : `--model ${c.kind} (no activation)`);
  }
  if (given.has('classes') && !same(args.classes, saved.classes)) {
    refuse('classes', args.classes!.join(','), saved.classes ? `the classes ${saved.classes.join(',')}` : 'a regression target (no classes)');
  }
  if (given.has('features') && !same(args.features, saved.features)) refuse('features', args.features!.join(','), `--features ${saved.features.join(',')}`);
  if (given.has('no-standardize') && saved.standardization !== null) refuse('no-standardize', '', 'standardized features');
  checkTrainingFlags(args, t, file);
}

/**
 * A formula model's resume: --formula, --loss, --weights and --start must agree with the file (the formula and
 * the loss compared as written, blanks aside); the network flags were refused by args.ts with --formula, or
 * are refused here without it.
 */
export function checkFormulaResumeFlags(args: TrainArgs, saved: SavedFormulaDescent, file: string): void {
  checkFormulaModelFlags(args, saved, file);
  checkTrainingFlags(args, saved.training, file);
}

/** The flags that name a formula model (its formula, loss, weights, start, target), against the file's. */
function checkFormulaModelFlags(args: TrainArgs, saved: SavedFormulaModel, file: string): void {
  const given = new Set(args.given);
  const m = saved.model;
  const refuse = refusal(file);
  const blanks = (s: string) => s.replace(/\s+/g, '');
  for (const f of ['model', 'hidden', 'activation', 'classes', 'features']) if (given.has(f)) refuse(f, '', `--formula "${m.formula}" (a formula model)`);
  if (given.has('target') && args.target !== saved.target) refuse('target', args.target!, `--formula "${m.formula}", whose target is ${saved.target}`);
  if (given.has('formula') && blanks(args.formula!) !== blanks(m.formula)) refuse('formula', `"${args.formula}"`, `--formula "${m.formula}"`);
  if (given.has('loss') && blanks(args.loss!) !== blanks(m.loss)) refuse('loss', args.loss!, `--loss ${m.loss}`);
  if (given.has('weights') && args.weightsColumn !== m.weights) refuse('weights', args.weightsColumn!, m.weights === null ? 'no row weights' : `--weights ${m.weights}`);
  if (given.has('start') && !same(sorted(args.start!), sorted(saved.training.start))) {
    refuse('start', formatStart(args.start!), `--start ${formatStart(saved.training.start)}`);
  }
}

/** The flags of gradient descent, which a Levenberg-Marquardt fit has no use for. */
const GRADIENT_DESCENT_FLAGS = ['lr', 'schedule', 'momentum', 'weight-decay', 'batch-size', 'seed'];

/**
 * A curve fit's resume (a file saved by --optimizer lm) continues the fit by Levenberg-Marquardt from the
 * saved parameters: --optimizer may only say lm, and the flags of gradient descent are refused, since the
 * file's gradient-descent fields were never used to train it.
 */
export function checkFitResumeFlags(args: TrainArgs, saved: SavedFormulaModel, file: string): void {
  checkFormulaModelFlags(args, saved, file);
  const refuse = refusal(file);
  if (args.given.includes('optimizer') && args.optimizer !== 'lm') refuse('optimizer', args.optimizer!, '--optimizer lm (a Levenberg-Marquardt fit)');
  const flag = GRADIENT_DESCENT_FLAGS.find((f) => args.given.includes(f));
  if (flag) {
    throw new UsageError(`--${flag}: ${file} is a Levenberg-Marquardt fit, which takes no --${flag}; its resume continues the fit (drop --${flag}, or train by gradient descent anew with --start and without --resume)`);
  }
}

const sorted = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const formatStart = (r: Record<string, number>) => Object.entries(r).map(([k, v]) => `${k}=${v}`).join(',') || '(none)';

/** How a run cuts its mini-batches. */
export interface BatchCut {
  /** undefined: full batch. */
  batchSize: number | undefined;
  /** The rows of the chunks its batches lie in; undefined: one chunk of all rows. */
  chunkRows: number | undefined;
  /**
   * What the file keeps as training.chunkRows: for mini-batches, the chunk rows, all rows when the run cut them in
   * one chunk, so that a resume with --stream over data larger than a stream chunk still cuts the same batches.
   */
  keptChunkRows: number | undefined;
}

/**
 * A run's mini-batches, fresh or resumed (`resumed`: the file's training), decided in two steps around reading
 * the data. First the bytes of a stream chunk: a resumed streamed mini-batch run is cut in its saved chunk rows
 * again, streamed or not, and a --chunk-mb that contradicts them is refused. Then, once the data's rows are
 * counted (streamChunkRows: the stream's chunk rows, when streamed), the batch size and chunk rows the run cuts,
 * with what a resume needs to continue the same batches: whole epochs, and an --epochs total not below them.
 * d: the data's feature columns (a chunk's row width).
 */
export function resumeBatching(args: TrainArgs, resumed: SavedModel['training'] | undefined, d: number): { chunkBytes: number; cut(rows: number, streamChunkRows: number | undefined): BatchCut } {
  const savedChunkRows = resumed?.chunkRows;
  if (resumed) checkChunkFlag(args, savedChunkRows, d, args.resume!);
  const chunkBytes = trainChunkBytes(args.chunkMb, args.device, savedChunkRows === undefined ? undefined : { rows: savedChunkRows, d });
  const cut = (rows: number, streamChunkRows: number | undefined): BatchCut => {
    // At or above the row count a batch is the full batch: saved as such, so that a resume on the same rows agrees.
    const requested = resumed ? resumed.batchSize ?? undefined : args.batchSize;
    const batchSize = requested === undefined || requested >= rows ? undefined : requested;
    if (args.tol !== undefined && batchSize !== undefined) {
      throw new UsageError(`--tol: applies to full-batch training only (${args.resume} trains by --batch-size ${batchSize} of ${rows} rows)`);
    }
    if (streamChunkRows !== undefined && batchSize !== undefined && batchSize > streamChunkRows) {
      throw new UsageError(`--batch-size: ${batchSize} rows exceed a stream chunk of ${streamChunkRows} rows (batches are cut inside chunks); raise --chunk-mb or lower --batch-size`);
    }
    const cutIn = streamChunkRows ?? savedChunkRows;
    const chunkRows = cutIn !== undefined && cutIn < rows ? cutIn : undefined;
    if (resumed) {
      const perEpoch = new BatchSchedule(rows, batchSize, resumed.seed, chunkRows).perEpoch;
      checkWholeEpochs(resumed, { perEpoch, rows, chunkRows }, args.resume!);
      checkEpochsToReach(args, resumed.state.t, perEpoch, args.resume!);
    }
    return { batchSize, chunkRows, keptChunkRows: batchSize === undefined ? undefined : cutIn ?? rows };
  };
  return { chunkBytes, cut };
}

/**
 * A file that kept the chunk rows of a streamed mini-batch run (savedRows) resumes cut in them: --chunk-mb must
 * make the same rows of d feature columns, or it would take other batches.
 */
export function checkChunkFlag(args: TrainArgs, savedRows: number | undefined, d: number, file: string): void {
  if (savedRows === undefined || !args.given.includes('chunk-mb')) return;
  const rows = rowsPerChunk(streamChunkBytes(args.chunkMb, args.device), d);
  if (rows !== savedRows) {
    refusal(file)('chunk-mb', String(args.chunkMb), `stream chunks of ${savedRows} rows, its mini-batches cut inside them (--chunk-mb ${args.chunkMb} makes chunks of ${rows})`);
  }
}

/**
 * The file's updates must be whole epochs of the batches this resume cuts (perEpoch of them from `rows` rows, in
 * chunks of chunkRows when streamed or kept), else they are not the batches it was trained with. A file without
 * chunk rows was trained in memory, or streamed before they were kept: the likely cause is then a --stream run
 * resumed without its --stream --chunk-mb, which the message names rather than the batch size alone.
 */
export function checkWholeEpochs(training: SavedModel['training'], cut: { perEpoch: number; rows: number; chunkRows?: number }, file: string): void {
  const t = training.state.t;
  if (t % cut.perEpoch === 0) return;
  const chunks = cut.chunkRows !== undefined && cut.chunkRows < cut.rows ? ` in chunks of ${cut.chunkRows} rows` : '';
  const cause = training.chunkRows !== undefined
    ? 'the data hold other rows than it was trained on'
    : 'it was trained on other rows, or streamed in other chunks: resume a --stream run with the --stream and --chunk-mb it was trained with';
  throw new UsageError(`--resume ${file}: its ${t} updates are not a whole number of epochs of ${cut.perEpoch} batches (--batch-size ${training.batchSize} of ${cut.rows} rows${chunks}); ${cause}`);
}

/**
 * On a resume --epochs is the total to reach: fewer than the file's `t` updates (perEpoch to an epoch) is refused
 * here, before any data goes to a device, rather than by the training loop after a GPU has started.
 */
export function checkEpochsToReach(args: TrainArgs, t: number, perEpoch: number, file: string): void {
  if (t <= args.epochs * perEpoch) return;
  const done = t / perEpoch;
  throw new UsageError(`--epochs ${args.epochs}: ${file} already has ${done} epochs, and on a resume --epochs is the total to reach (at least ${Math.ceil(done)})`);
}

/** The optimizer's flags (every model kind): --optimizer, --weight-decay, --momentum, --lr, --schedule, --seed, --batch-size. */
export function checkTrainingFlags(args: TrainArgs, t: SavedModel['training'], file: string): void {
  if (t.diverged) {
    const at = t.batchSize ? `update ${t.diverged.update}` : `epoch ${t.diverged.update}`;
    throw new UsageError(`--resume ${file}: the run it holds diverged at ${at}, and a resume keeps its --lr ${t.lr} and its batches, ` +
      'so it would take the same steps to the same divergence; its parameters are the last good ones, for predict and evaluate: to train on, start again with a smaller --lr');
  }
  const given = new Set(args.given);
  const refuse = refusal(file);
  if (given.has('optimizer') && args.optimizer !== t.optimizer.kind) refuse('optimizer', args.optimizer!, `--optimizer ${t.optimizer.kind}`);
  if (given.has('weight-decay') && args.weightDecay !== t.optimizer.weightDecay) {
    refuse('weight-decay', String(args.weightDecay), `--weight-decay ${t.optimizer.weightDecay}`);
  }
  if (given.has('momentum')) {
    if (t.optimizer.kind !== 'momentum' && t.optimizer.kind !== 'nesterov') refuse('momentum', String(args.momentum), `--optimizer ${t.optimizer.kind} (no momentum)`);
    if (args.momentum !== t.optimizer.momentum) refuse('momentum', String(args.momentum), `--momentum ${t.optimizer.momentum}`);
  }
  if (given.has('lr') && args.lr !== t.lr) refuse('lr', String(args.lr), `--lr ${t.lr}`);
  if (given.has('schedule') && !same(args.schedule, t.schedule)) refuse('schedule', scheduleText(args.schedule!), `--schedule ${scheduleText(t.schedule)}`);
  if (given.has('seed') && args.seed !== t.seed) refuse('seed', String(args.seed), `--seed ${t.seed}`);
  const savedBatch = t.batchSize ?? null;
  if (given.has('batch-size') && args.batchSize !== savedBatch) {
    refuse('batch-size', String(args.batchSize), savedBatch === null ? 'full batches' : `--batch-size ${savedBatch}`);
  }
}
