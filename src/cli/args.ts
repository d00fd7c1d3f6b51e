// The one command-line parser: node:util parseArgs over the flag table of flags.ts (strict: a flag the
// command does not take is an error), then validation that names the offending flag. Pure: unit-tested
// without running a command. What can only be checked against a file (--resume's saved model, output
// folders) is checked by resume.ts and output-path.ts before any work starts.
import { parseArgs } from 'node:util';
import { INVALID_POLICIES, type InvalidPolicy } from '../data/select.ts';
import { ACTIVATIONS, type Activation, type ModelKind } from '../models/network.ts';
import { OPTIMIZER_KINDS, type OptimizerKind } from '../optim/config.ts';
import { parseSchedule, type Schedule } from '../optim/schedule.ts';
import { COMMANDS, DEVICES, FLAGS, MODEL_KINDS, onCpu, type Command, type DeviceChoice } from './flags.ts';
import { deriveArgs, formulaTrainFlags, type DeriveArgs } from './formula-args.ts';

export type { DeviceChoice } from './flags.ts';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface DataFlags {
  onInvalid: InvalidPolicy;
  json: boolean;
}

export interface TrainArgs extends DataFlags {
  command: 'train';
  data: string | null; // null: the built-in example (the linear model's default path only)
  /** Required with --data, except with --resume (the saved model's). */
  target?: string;
  features?: string[];
  device: DeviceChoice;
  /** As asked; with --resume and no --model, the saved model's kind is used. */
  model: ModelKind;
  /**
   * 'linear': the linear core (streaming, GPU chunking, the built-in example); 'model': the model trainer
   * (every model, optimizers, schedules, --save and --resume); 'formula': --formula on the same trainer. Decided
   * by the flags, see engineOf (a --resume of a formula model is 'model' until its file is read).
   */
  engine: 'linear' | 'model' | 'formula';
  lr?: number;
  epochs: number;
  tol?: number;
  standardize: boolean;
  batchSize?: number;
  seed?: number;
  stream: boolean;
  chunkMb?: number;
  hidden?: number[];
  activation?: Activation;
  classes?: string[];
  /** 'lm': a Levenberg-Marquardt curve fit of a formula model (fit-command.ts). */
  optimizer?: OptimizerKind | 'lm';
  weightDecay?: number;
  momentum?: number;
  schedule?: Schedule;
  save?: string;
  resume?: string;
  /** --formula, --loss, --start, --weights (formula-args.ts); --loss also with --model (not softmax) on the model trainer. */
  formula?: string;
  loss?: string;
  start?: Record<string, number>;
  weightsColumn?: string;
  /** The flags given on the command line (without --): what --resume compares with the saved model. */
  given: string[];
}

export interface GradientArgs extends DataFlags {
  command: 'gradient';
  data: string;
  target: string;
  features?: string[];
  device: DeviceChoice;
  chunkMb?: number;
  weights: number[];
  bias: number;
}

export interface PredictArgs extends DataFlags {
  command: 'predict' | 'evaluate';
  model: string;
  data: string;
  target?: string;
}

export interface ConvertArgs extends DataFlags {
  command: 'convert';
  input: string;
  output: string;
  target: string;
  features?: string[];
}

export type CliArgs = TrainArgs | GradientArgs | PredictArgs | ConvertArgs | DeriveArgs | { command: 'help'; topic?: Command };

/** Flags that only the model trainer implements: any of them selects it. */
const MODEL_ENGINE_FLAGS = ['hidden', 'activation', 'classes', 'optimizer', 'weight-decay', 'momentum', 'schedule', 'save', 'resume'];

function isCommand(s: string | undefined): s is Command {
  return (COMMANDS as readonly string[]).includes(s as string);
}

export function parseCli(argv: string[]): CliArgs {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') return { command: 'help' };
  if (command === 'help') {
    const [topic, ...more] = rest;
    if (topic === undefined) return { command: 'help' };
    if (!isCommand(topic) || more.length > 0) throw new UsageError(`help: expected one of ${COMMANDS.join(', ')}, got "${rest.join(' ')}"`);
    return { command: 'help', topic };
  }
  if (!isCommand(command)) throw new UsageError(`unknown command "${command}" (expected ${COMMANDS.join(', ')} or help)`);
  const { values, positionals } = tokenize(command, rest);
  if (values.help === true) return { command: 'help', topic: command };
  if (command !== 'convert' && positionals.length > 0) {
    throw new UsageError(`${command}: unexpected argument "${positionals[0]}" (flags start with --)`);
  }
  const v = new Flags(values);
  switch (command) {
    case 'train':
      return trainArgs(v);
    case 'gradient':
      return gradientArgs(v);
    case 'convert':
      return convertArgs(v, positionals);
    case 'derive':
      return deriveArgs(v);
    default:
      return predictArgs(command, v);
  }
}

/** parseArgs, strict, with every flag given at most once. */
function tokenize(command: Command, args: string[]) {
  const options = Object.fromEntries(Object.entries(FLAGS[command]).map(([name, spec]) => [name, { type: spec.type }]));
  if (FLAGS[command].help) (options.help as { short?: string }).short = 'h';
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(args, options), options, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    const message = (e as Error).message;
    const unknown = /^Unknown option '(.*?)'/.exec(message);
    if (unknown) throw new UsageError(unknownFlagMessage(command, unknown[1]));
    throw new UsageError(message.split('\n')[0].replace(/^Option '(-\w, )?(--[\w-]+)[^']*'/, '$2:'));
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option') continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name}: given more than once`);
    seen.add(t.name);
  }
  return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
}

/** A flag this command does not take: where another command takes it, say so (`predict --device`), else unknown. */
export function unknownFlagMessage(command: Command, flag: string): string {
  const name = flag.replace(/^--?/, '');
  const takers = COMMANDS.filter((c) => c !== command && Object.hasOwn(FLAGS[c], name));
  if (takers.length === 0 || !flag.startsWith('--')) return `${command}: unknown flag ${flag} (see nabla help ${command})`;
  const why = WHY_NOT[command]?.[name];
  return `${command}: ${flag} does not apply to ${command}${why ? `: ${why}` : ''} (it is a flag of ${takers.join(', ')}; see nabla help ${command})`;
}

/** Why a flag other commands take has no meaning here, where that is not obvious. */
const WHY_NOT: Partial<Record<Command, Record<string, string>>> = {
  predict: { device: 'predictions are computed on the CPU in float64 from the saved parameters', target: 'predict needs no target column (evaluate compares with one)' },
  evaluate: { device: 'the loss and metrics are computed on the CPU in float64 from the saved parameters' },
};

/** parseArgs reads `--bias -0.5` as two options; weights and biases are often negative, so join them. */
function joinNegativeValues(args: string[], options: Record<string, { type: string }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith('--') ? args[i].slice(2) : null;
    const next = args[i + 1];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

/** Typed access to the parsed values, each check naming its flag. */
export class Flags {
  constructor(readonly values: Record<string, string | boolean | undefined>) {}

  has(name: string): boolean {
    return this.values[name] !== undefined && this.values[name] !== false;
  }

  given(): string[] {
    return Object.keys(this.values).filter((k) => this.has(k));
  }

  str(name: string): string | undefined {
    const s = this.values[name] as string | undefined;
    if (s !== undefined && s.trim() === '') throw new UsageError(`--${name}: empty value`);
    return s;
  }

  num(name: string, check: (v: number) => boolean, want: string): number | undefined {
    const raw = this.values[name] as string | undefined;
    if (raw === undefined) return undefined;
    return numberValue(`--${name}`, raw, check, want);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const raw = this.str(name);
    if (raw === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`--${name}: expected ${allowed.join(', ')}, got "${raw}"`);
    return raw as T;
  }

  /** A comma list; `distinct` for names (columns, classes), not for values that may repeat (layer widths). */
  list(name: string, distinct = true): string[] | undefined {
    const raw = this.values[name] as string | undefined;
    if (raw === undefined) return undefined;
    const items = splitList(name, raw);
    if (items.some((s) => s === '')) throw new UsageError(`--${name}: empty item in "${raw}"`);
    const seen = new Set<string>();
    for (const s of items) {
      if (distinct && seen.has(s)) throw new UsageError(`--${name}: "${s}" is listed twice`);
      seen.add(s);
    }
    return items;
  }

  common(): DataFlags {
    return { onInvalid: this.oneOf('on-invalid', INVALID_POLICIES) ?? 'drop-missing', json: this.has('json') };
  }
}

/**
 * A comma list, an item in double quotes as in CSV where it holds a comma or a quote itself ("b,c" is one
 * column's name; "" is a quote inside one): a column may be named anything a file can hold.
 */
export function splitList(name: string, raw: string): string[] {
  const items: string[] = [];
  let i = 0;
  for (;;) {
    while (raw[i] === ' ') i++;
    if (raw[i] === '"') {
      const opened = i;
      let item = '';
      for (i++; ; i++) {
        if (i >= raw.length) throw new UsageError(`--${name}: the quote at character ${opened + 1} of ${raw} is not closed`);
        if (raw[i] === '"' && raw[i + 1] === '"') item += raw[i++];
        else if (raw[i] === '"') break;
        else item += raw[i];
      }
      i++;
      while (raw[i] === ' ') i++;
      if (i < raw.length && raw[i] !== ',') throw new UsageError(`--${name}: after the quoted name ${JSON.stringify(item)} comes ${JSON.stringify(raw[i])}, not a comma, in ${raw}`);
      items.push(item);
    } else {
      const end = raw.indexOf(',', i);
      items.push(raw.slice(i, end < 0 ? raw.length : end).trim());
      i = end < 0 ? raw.length : end;
    }
    if (i >= raw.length) return items;
    i++; // the comma
  }
}

function numberValue(flag: string, raw: string, check: (v: number) => boolean, want: string): number {
  const v = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(v) || !check(v)) throw new UsageError(`${flag}: expected ${want}, got "${raw}"`);
  return v;
}

const positive = (v: number) => v > 0;
const nonNegative = (v: number) => v >= 0;
const positiveInteger = (v: number) => Number.isInteger(v) && v >= 1;

/** 'model' when any flag only the model trainer implements is given, or a model other than linear. */
export function engineOf(model: ModelKind, given: readonly string[]): 'linear' | 'model' {
  return model !== 'linear' || given.some((f) => MODEL_ENGINE_FLAGS.includes(f)) ? 'model' : 'linear';
}

function trainArgs(v: Flags): TrainArgs {
  const given = v.given();
  const model = v.oneOf('model', MODEL_KINDS) ?? 'linear';
  const engine = engineOf(model, given);
  const resume = v.str('resume');
  const args: TrainArgs = {
    command: 'train', ...v.common(), data: v.str('data') ?? null, device: v.oneOf('device', DEVICES) ?? 'auto', model, engine,
    epochs: v.num('epochs', (x) => Number.isInteger(x) && x >= 0 && x <= 1e9, 'a non-negative integer') ?? 1000,
    standardize: !v.has('no-standardize'), stream: v.has('stream'), given,
  };
  const optional: Partial<TrainArgs> = {
    target: v.str('target'),
    features: v.list('features'),
    lr: v.num('lr', positive, 'a positive number'),
    tol: v.num('tol', nonNegative, 'a non-negative number'),
    batchSize: v.num('batch-size', positiveInteger, 'a positive integer'),
    seed: v.num('seed', (x) => Number.isSafeInteger(x) && x >= 0, 'a non-negative integer'),
    chunkMb: v.num('chunk-mb', positive, 'a positive number of MiB'),
    hidden: v.list('hidden', false)?.map((h, k) => numberValue(`--hidden (layer ${k + 1})`, h, positiveInteger, 'a positive integer')),
    activation: v.oneOf('activation', ACTIVATIONS),
    classes: v.list('classes'),
    optimizer: v.oneOf('optimizer', [...OPTIMIZER_KINDS, 'lm'] as const),
    weightDecay: v.num('weight-decay', nonNegative, 'a non-negative number'),
    momentum: v.num('momentum', (x) => x >= 0 && x < 1, 'a number in [0, 1)'),
    save: v.str('save'),
    resume,
  };
  const schedule = v.str('schedule');
  if (schedule !== undefined) {
    try {
      optional.schedule = parseSchedule(schedule);
    } catch (e) {
      const m = (e as Error).message;
      throw new UsageError(m.startsWith('--schedule') ? m : `--schedule: ${m}`);
    }
  }
  for (const [k, value] of Object.entries(optional)) if (value !== undefined) (args as unknown as Record<string, unknown>)[k] = value;
  formulaTrainFlags(args, v, (flag, raw) => numberValue(flag, raw, () => true, 'a number'));
  checkTrainCombination(args, v);
  return args;
}

/** Flags that cannot apply together, or to the chosen model, engine or device. */
function checkTrainCombination(a: TrainArgs, v: Flags): void {
  const explicitModel = v.has('model');
  // With --resume and no --model, the saved model decides; resume.ts checks these flags against it.
  const modelKnown = explicitModel || a.resume === undefined;
  if (modelKnown && a.model !== 'mlp') {
    for (const f of ['hidden', 'activation']) if (v.has(f)) throw new UsageError(`--${f}: applies to --model mlp only (not ${a.model})`);
  }
  if (modelKnown && a.model === 'linear' && v.has('classes')) throw new UsageError('--classes: applies to classifiers (logistic, softmax, mlp), not --model linear');
  if (modelKnown && a.model === 'logistic' && a.classes && a.classes.length !== 2) {
    throw new UsageError(`--classes: logistic regression takes exactly 2 classes, got ${a.classes.length}; use --model softmax`);
  }
  if (a.classes && a.classes.length < 2) throw new UsageError('--classes: at least 2 classes');
  if (a.loss !== undefined && a.formula === undefined && modelKnown) {
    // A formula loss is a loss of one output: the softmax's K logits have none; an mlp with a loss is a regression.
    if (a.model === 'softmax') throw new UsageError('--loss: a formula loss applies to one output; --model softmax has one per class (use --model logistic or mlp)');
    if (a.model === 'mlp' && v.has('classes')) throw new UsageError('--classes: --model mlp with --loss fits a number target through one output (no classes)');
  }
  if (a.optimizer === 'lm') {
    // With --resume the saved file says whether it is a fit to continue (resume.ts).
    if (a.formula === undefined && a.resume === undefined) throw new UsageError('--optimizer lm: fits formula models (add --formula "Y ~ EXPR"); the network models train by gradient descent');
    for (const f of ['lr', 'schedule', 'momentum', 'weight-decay', 'batch-size', 'seed']) {
      if (v.has(f)) throw new UsageError(`--${f}: does not apply with --optimizer lm (Levenberg-Marquardt takes trust-region steps over every row)`);
    }
  }
  const optimizerKnown = v.has('optimizer') || a.resume === undefined;
  if (optimizerKnown && v.has('momentum') && a.optimizer !== 'momentum' && a.optimizer !== 'nesterov') {
    throw new UsageError(`--momentum: applies to --optimizer momentum or nesterov (not ${a.optimizer ?? 'sgd, the default'})`);
  }
  if (a.tol !== undefined && a.batchSize !== undefined) {
    throw new UsageError('--tol: applies to full-batch training only; it cannot be combined with --batch-size');
  }
  if (a.data === null) {
    if (a.engine === 'model') throw new UsageError('--data: required for train with --model, --save or --resume (the built-in example is for the linear model)');
    if (v.has('target') || v.has('features')) throw new UsageError(`--${v.has('target') ? 'target' : 'features'}: needs --data`);
    if (a.stream) throw new UsageError('--stream: needs --data');
  } else if (a.target === undefined && a.resume === undefined && a.engine !== 'formula') {
    throw new UsageError('--target: required with --data');
  }
  if (a.data === null) a.target = 'y';
  if (a.engine !== 'linear' && !a.stream && v.has('chunk-mb')) {
    const modelFlag = a.engine === 'formula' ? 'formula' : MODEL_ENGINE_FLAGS.find((f) => v.has(f));
    throw new UsageError(`--chunk-mb: sizes the linear model's GPU chunks, or a stream's chunks with --stream; it does not apply with ${modelFlag ? `--${modelFlag}` : `--model ${a.model}`} alone`);
  }
  if (a.engine === 'linear' && v.has('seed') && a.batchSize === undefined) {
    throw new UsageError('--seed: the linear model\'s full-batch training starts from zero and draws nothing; --seed applies with --batch-size (or another --model)');
  }
  if (v.has('chunk-mb') && onCpu(a.device) && !a.stream) throw new UsageError(`--chunk-mb: sizes GPU chunks (or a stream's, with --stream); with --device ${a.device} there are none`);
}

function gradientArgs(v: Flags): GradientArgs {
  const data = v.str('data');
  if (data === undefined) throw new UsageError('--data: required for gradient');
  const target = v.str('target');
  if (target === undefined) throw new UsageError('--target: required for gradient');
  const weightsRaw = v.values.weights as string | undefined;
  if (weightsRaw === undefined) throw new UsageError('--weights: required for gradient');
  const bias = v.num('bias', () => true, 'a number');
  if (bias === undefined) throw new UsageError('--bias: required for gradient');
  const weights = weightsRaw.split(',').map((s, i) => numberValue(`--weights (value ${i + 1})`, s, () => true, 'a number'));
  const args: GradientArgs = { command: 'gradient', ...v.common(), data, target, device: v.oneOf('device', DEVICES) ?? 'auto', weights, bias };
  const features = v.list('features');
  if (features) args.features = features;
  const chunkMb = v.num('chunk-mb', positive, 'a positive number of MiB');
  if (chunkMb !== undefined) {
    if (onCpu(args.device)) throw new UsageError(`--chunk-mb: sizes GPU chunks; with --device ${args.device} there are none`);
    args.chunkMb = chunkMb;
  }
  return args;
}

function predictArgs(command: 'predict' | 'evaluate', v: Flags): PredictArgs {
  const model = v.str('model');
  if (model === undefined) throw new UsageError(`--model: required for ${command} (a file written by train --save)`);
  const data = v.str('data');
  if (data === undefined) throw new UsageError(`--data: required for ${command}`);
  const args: PredictArgs = { command, ...v.common(), model, data };
  const target = v.str('target');
  if (target !== undefined) args.target = target;
  return args;
}

function convertArgs(v: Flags, positionals: string[]): ConvertArgs {
  if (positionals.length !== 2) throw new UsageError(`convert: expected IN and OUT.f32, got ${positionals.length} file name(s)`);
  const [input, output] = positionals;
  if (!output.endsWith('.f32')) throw new UsageError(`convert: OUT must end in .f32, got "${output}"`);
  const target = v.str('target');
  if (target === undefined) throw new UsageError('--target: required for convert');
  const args: ConvertArgs = { command: 'convert', ...v.common(), input, output, target };
  const features = v.list('features');
  if (features) args.features = features;
  return args;
}
