// Command-line parsing with node:util parseArgs (strict: unknown options are errors) and validation
// that names the offending argument. Pure: unit-tested without running a command.
import { parseArgs } from 'node:util';
import { INVALID_POLICIES, type InvalidPolicy } from '../data/select.ts';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type DeviceChoice = 'auto' | 'gpu' | 'cpu';

interface Common {
  data: string | null; // null: the built-in example
  onInvalid: InvalidPolicy;
  target: string;
  features?: string[];
  device: DeviceChoice;
  json: boolean;
  /** GPU chunk size in MiB (default: the adapter's storage binding); small values exercise chunking. */
  chunkMb?: number;
}

export interface TrainArgs extends Common {
  command: 'train';
  lr: number;
  epochs: number;
  tol: number;
  standardize: boolean;
  /** Samples per step; undefined = full batch. */
  batchSize?: number;
  /** Stream the file to the GPU chunk by chunk for every evaluation instead of reading it into memory. */
  stream: boolean;
  seed: number;
}

export interface GradientArgs extends Common {
  command: 'gradient';
  weights: number[];
  bias: number;
}

export interface ConvertArgs {
  command: 'convert';
  input: string;
  output: string;
  target: string;
  features?: string[];
  onInvalid: InvalidPolicy;
  json: boolean;
}

export type CliArgs = TrainArgs | GradientArgs | ConvertArgs | { command: 'help' };

export const USAGE = `nabla: gradients of a loss over a dataset, on the GPU (WebGPU) or the CPU

Usage:
  nabla train    [--data FILE --target COL] [--features A,B,...] [--lr 0.1] [--epochs 1000]
                 [--tol 1e-6] [--no-standardize] [--batch-size B --seed S] [--chunk-mb M] [--stream]
                 [--device auto|gpu|cpu] [--on-invalid POLICY] [--json]
  nabla gradient --data FILE --target COL [--features A,B,...] --weights w1,w2,... --bias b
                 [--device auto|gpu|cpu] [--json]
  nabla convert  IN OUT.f32 --target COL [--features A,B,...] [--on-invalid POLICY] [--json]
  nabla train    --model linear|logistic|softmax|mlp --data FILE --target COL [--hidden 64,64]
                 [--activation relu|tanh|sigmoid] [--optimizer sgd|momentum|nesterov|adam|adamw] [--lr η]
                 [--weight-decay λ] [--momentum μ] [--schedule constant|step:E:G|cosine:T[:MIN][,warmup:W]]
                 [--epochs N] [--batch-size B] [--tol T] [--seed S] [--save F.json] [--resume F.json]
                 [--no-standardize] [--device ...] [--json]
  nabla predict  --model F.json --data FILE [--json]
  nabla evaluate --model F.json --data FILE [--target COL] [--json]

FILE is CSV (header row), JSON (array of objects), Parquet, Arrow IPC (.arrow/.arrows/.feather) or nabla's
raw .f32 format (docs/raw-format.md). --features defaults to every other numeric column.
--on-invalid: drop-missing (default: rows with an empty/NA/null/NaN cell are dropped and counted, an
infinite value is an error), drop (infinite values dropped too), error (any of them is an error).
Without --data, train uses the built-in example (y = 3x + 2 + noise). Exit codes: 0 ok, 2 bad input,
3 training diverged, 1 anything else. --batch-size B (a multiple of 4) trains by mini-batch SGD with a
batch order shuffled per epoch from --seed; --tol then does not apply. --stream reads the file chunk by
chunk (--chunk-mb, default 64) for every evaluation on the GPU, so host memory holds a few chunks only.
With --model, --epochs counts passes over the data, --batch-size B (any size) takes B rows per update in
an order shuffled per epoch from --seed (which also seeds the initial weights), schedules count updates,
and --tol T (full batch only; default off) stops at |grad J| <= T.`;

const common = {
  data: { type: 'string' },
  target: { type: 'string' },
  features: { type: 'string' },
  device: { type: 'string', default: 'auto' },
  'on-invalid': { type: 'string', default: 'drop-missing' },
  'chunk-mb': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function number(name: string, raw: string | undefined, fallback: number, check: (v: number) => boolean, want: string): number {
  if (raw === undefined) return fallback;
  const v = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(v) || !check(v)) throw new UsageError(`--${name}: expected ${want}, got "${raw}"`);
  return v;
}

function list(name: string, raw: string): string[] {
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(`--${name}: empty name in "${raw}"`);
  const seen = new Set<string>();
  for (const s of items) {
    if (seen.has(s)) throw new UsageError(`--${name}: "${s}" is listed twice`);
    seen.add(s);
  }
  return items;
}

function invalidPolicy(raw: string): InvalidPolicy {
  if ((INVALID_POLICIES as readonly string[]).includes(raw)) return raw as InvalidPolicy;
  throw new UsageError(`--on-invalid: expected ${INVALID_POLICIES.join(', ')}, got "${raw}"`);
}

function device(raw: string): DeviceChoice {
  if (raw === 'auto' || raw === 'gpu' || raw === 'cpu') return raw;
  throw new UsageError(`--device: expected auto, gpu or cpu, got "${raw}"`);
}

function parseConvert(rest: string[]): ConvertArgs | { command: 'help' } {
  const options = {
    target: { type: 'string' }, features: { type: 'string' }, 'on-invalid': { type: 'string', default: 'drop-missing' },
    json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
  } as const;
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: rest, options, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^Unknown option '(.*?)'.*$/s, 'unknown option $1'));
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  if (positionals.length !== 2) throw new UsageError(`convert: expected IN and OUT.f32, got ${positionals.length} file name(s)`);
  const [input, output] = positionals;
  if (!output.endsWith('.f32')) throw new UsageError(`convert: OUT must end in .f32, got "${output}"`);
  if (values.target === undefined) throw new UsageError('--target: required for convert');
  const args: ConvertArgs = {
    command: 'convert', input, output, target: values.target as string,
    onInvalid: invalidPolicy(values['on-invalid'] as string), json: values.json === true,
  };
  if (values.features !== undefined) args.features = list('features', values.features as string);
  return args;
}

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

export function parseCli(argv: string[]): CliArgs {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { command: 'help' };
  if (command === 'convert') return parseConvert(rest);
  if (command !== 'train' && command !== 'gradient') throw new UsageError(`unknown command "${command}" (expected train, gradient, convert, predict or evaluate)`);
  const options = command === 'train'
    ? {
      ...common, lr: { type: 'string' }, epochs: { type: 'string' }, tol: { type: 'string' },
      'no-standardize': { type: 'boolean', default: false }, 'batch-size': { type: 'string' }, seed: { type: 'string' },
      model: { type: 'string' }, stream: { type: 'boolean', default: false },
    } as const
    : { ...common, weights: { type: 'string' }, bias: { type: 'string' } } as const;
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: joinNegativeValues(rest, options), options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^Unknown option '(.*?)'.*$/s, 'unknown option $1'));
  }
  if (values.help) return { command: 'help' };
  const str = (k: string) => values[k] as string | undefined;
  if (str('data') === '') throw new UsageError('--data: empty file name');
  const data = str('data') ?? null;
  if (data !== null && str('target') === undefined) throw new UsageError('--target: required with --data');
  if (command === 'gradient' && data === null) throw new UsageError('--data: required for gradient');
  const base: Common = {
    data,
    target: str('target') ?? 'y',
    device: device(str('device')!),
    onInvalid: invalidPolicy(str('on-invalid')!),
    json: values.json === true,
  };
  if (str('features') !== undefined) base.features = list('features', str('features')!);
  if (str('model') !== undefined && str('model') !== 'linear') throw new UsageError(`--model: expected linear, logistic, softmax or mlp, got "${str('model')}"`);
  if (str('chunk-mb') !== undefined) base.chunkMb = number('chunk-mb', str('chunk-mb'), 0, (v) => v > 0, 'a positive number of MiB');
  if (command === 'train') {
    return {
      ...base,
      command,
      lr: number('lr', str('lr'), 0.1, (v) => v > 0, 'a positive number'),
      epochs: number('epochs', str('epochs'), 1000, (v) => Number.isInteger(v) && v >= 0 && v <= 1e9, 'a non-negative integer'),
      tol: number('tol', str('tol'), 1e-6, (v) => v >= 0, 'a non-negative number'),
      standardize: values['no-standardize'] !== true,
      batchSize: str('batch-size') === undefined ? undefined
        : number('batch-size', str('batch-size'), 0, (v) => Number.isInteger(v) && v >= 1, 'a positive integer'),
      seed: number('seed', str('seed'), 0, (v) => Number.isSafeInteger(v) && v >= 0, 'a non-negative integer'),
      stream: values.stream === true,
    };
  }
  if (str('weights') === undefined) throw new UsageError('--weights: required for gradient');
  if (str('bias') === undefined) throw new UsageError('--bias: required for gradient');
  const weights = str('weights')!.split(',').map((s, i) => number(`weights (value ${i + 1})`, s, 0, () => true, 'a number'));
  return { ...base, command, weights, bias: number('bias', str('bias'), 0, () => true, 'a number') };
}
