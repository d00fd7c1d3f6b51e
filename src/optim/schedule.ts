// Learning-rate schedules: lr(t) for update t = 0, 1, 2, ... in float64 on the host. The GPU update reads
// the value from its per-step uniform, so both paths use exactly the same number.
//
// A linear warm-up of W steps scales lr by (t + 1) / W for t < W; the decay then runs on t' = t - W, so the
// warm-up does not eat into the step or cosine schedule.
import { rejectUnknownKeys, requireOptionsObject } from '../core/options.ts';

export type Schedule =
  | { kind: 'constant'; warmup?: number }
  /** lr * gamma^floor(t' / every) */
  | { kind: 'step'; every: number; gamma: number; warmup?: number }
  /** minLr + (lr - minLr) * (1 + cos(pi * min(t', total) / total)) / 2 */
  | { kind: 'cosine'; total: number; minLr?: number; warmup?: number };

export const SCHEDULE_KINDS = ['constant', 'step', 'cosine'] as const;

/** The keys each kind reads: another (a misspelt minLr, gamma on a cosine schedule) would be ignored. */
const SCHEDULE_KEYS: Readonly<Record<string, readonly string[]>> = {
  constant: ['kind', 'warmup'],
  step: ['kind', 'every', 'gamma', 'warmup'],
  cosine: ['kind', 'total', 'minLr', 'warmup'],
};

export function validateSchedule(s: Schedule): void {
  requireOptionsObject(s, 'schedule');
  if (Object.hasOwn(SCHEDULE_KEYS, s.kind)) rejectUnknownKeys(s, SCHEDULE_KEYS[s.kind], `schedule ${s.kind}`);
  const positiveInt = (name: string, v: number) => {
    if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`${name}: expected a positive integer, got ${v}`);
  };
  if (s.warmup !== undefined && !(Number.isInteger(s.warmup) && s.warmup >= 0)) {
    throw new RangeError(`warmup: expected a non-negative integer, got ${s.warmup}`);
  }
  switch (s.kind) {
    case 'constant':
      return;
    case 'step':
      positiveInt('schedule step: every', s.every);
      if (!(Number.isFinite(s.gamma) && s.gamma > 0 && s.gamma <= 1)) {
        throw new RangeError(`schedule step: gamma: expected a number in (0, 1], got ${s.gamma}`);
      }
      return;
    case 'cosine':
      positiveInt('schedule cosine: total', s.total);
      if (s.minLr !== undefined && !(Number.isFinite(s.minLr) && s.minLr >= 0)) {
        throw new RangeError(`schedule cosine: minLr: expected a non-negative number, got ${s.minLr}`);
      }
      return;
    default:
      throw new RangeError(`schedule: expected ${SCHEDULE_KINDS.join(', ')}, got "${(s as { kind: string }).kind}"`);
  }
}

/**
 * lr(t) for update t = 0, 1, 2, ... of a run from `base`, checked as train() checks its lr and schedule:
 * base a positive finite number, t a non-negative integer.
 */
export function learningRate(base: number, s: Schedule, t: number): number {
  if (typeof base !== 'number') throw new TypeError(`base: expected the learning rate, a number, got ${typeof base}`);
  if (!(Number.isFinite(base) && base > 0)) throw new RangeError(`base: expected a positive finite learning rate, got ${base}`);
  validateSchedule(s);
  if (typeof t !== 'number') throw new TypeError(`t: expected the update's number, got ${typeof t}`);
  if (!(Number.isSafeInteger(t) && t >= 0)) throw new RangeError(`t: expected the update's number, a non-negative integer, got ${t}`);
  return scheduledRate(base, s, t);
}

/** learningRate without its checks, for the training loop, whose options were checked once at its start. */
export function scheduledRate(base: number, s: Schedule, t: number): number {
  const warm = s.warmup ?? 0;
  let lr = base;
  if (t < warm) lr *= (t + 1) / warm;
  const u = Math.max(0, t - warm);
  switch (s.kind) {
    case 'constant':
      return lr;
    case 'step':
      return lr * Math.pow(s.gamma, Math.floor(u / s.every));
    case 'cosine': {
      const minLr = Math.min(s.minLr ?? 0, base);
      const scale = lr / base; // the warm-up factor
      return scale * (minLr + (base - minLr) * 0.5 * (1 + Math.cos((Math.PI * Math.min(u, s.total)) / s.total)));
    }
  }
}

/** The CLI form of a schedule, as parseSchedule reads it (for messages that name one). */
export function scheduleText(s: Schedule): string {
  const main = s.kind === 'constant' ? 'constant' : s.kind === 'step' ? `step:${s.every}:${s.gamma}` : `cosine:${s.total}${s.minLr !== undefined ? `:${s.minLr}` : ''}`;
  return s.warmup !== undefined ? `${main},warmup:${s.warmup}` : main;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses the CLI form: `constant`, `step:EVERY:GAMMA`, `cosine:TOTAL[:MIN_LR]`, each optionally followed by
 * `,warmup:W` (e.g. `cosine:1000,warmup:50`).
 */
export function parseSchedule(raw: string): Schedule {
  if (typeof raw !== 'string') throw new TypeError(`schedule: expected the text form, e.g. "cosine:1000,warmup:50", got ${raw === null ? 'null' : typeof raw}`);
  const [main, ...extra] = raw.split(',').map((p) => p.trim());
  let warmup: number | undefined;
  for (const e of extra) {
    const m = /^warmup:(\d+)$/.exec(e);
    if (!m) throw new RangeError(`--schedule: expected ",warmup:STEPS", got "${e}"`);
    if (warmup !== undefined) throw new RangeError(`--schedule: warmup given twice in "${raw}"`);
    warmup = Number(m[1]);
  }
  const parts = main.split(':');
  const num = (k: number, what: string) => {
    // Decimal only: Number() would also read "0x10" as 16, "" as 0 and "1_0" as NaN without saying why.
    if (parts[k] === undefined || !DECIMAL.test(parts[k])) throw new RangeError(`--schedule: ${what} missing or not a decimal number in "${raw}"`);
    return Number(parts[k]);
  };
  let s: Schedule;
  if (parts[0] === 'constant' && parts.length === 1) s = { kind: 'constant' };
  else if (parts[0] === 'step' && parts.length === 3) s = { kind: 'step', every: num(1, 'EVERY'), gamma: num(2, 'GAMMA') };
  else if (parts[0] === 'cosine' && (parts.length === 2 || parts.length === 3)) {
    s = { kind: 'cosine', total: num(1, 'TOTAL') };
    if (parts.length === 3) s.minLr = num(2, 'MIN_LR');
  } else {
    throw new RangeError(`--schedule: expected constant, step:EVERY:GAMMA or cosine:TOTAL[:MIN_LR], got "${raw}"`);
  }
  if (warmup !== undefined) s.warmup = warmup;
  validateSchedule(s);
  return s;
}
