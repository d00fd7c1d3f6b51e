// Pure formatting helpers for the page's numbers. Unit-tested in test/node/demo-format.test.ts.
import type { AdapterSummary } from '../gpu/device.ts';

/** Short, fixed-width-ish numbers: plain decimals in a readable range, exponent notation outside it. */
export function fmt(v: number, digits = 4): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  const s = a >= 1e-3 && a < 1e5 ? v.toPrecision(digits) : v.toExponential(digits - 1);
  return s.replace('-', '−');
}

const SI = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const;

/** e.g. 1.23e9 -> "1.23 G samples/s". */
export function fmtRate(perSecond: number, unit = 'samples/s'): string {
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) return `— ${unit}`;
  for (const [scale, prefix] of SI) {
    if (perSecond >= scale) return `${(perSecond / scale).toPrecision(3)} ${prefix} ${unit}`;
  }
  return `${perSecond.toPrecision(3)} ${unit}`;
}

/** Thousands separated by thin spaces: 10000000 -> "10 000 000". */
export function fmtCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

/** A count and its noun, singular for one: "1 row", "1 000 rows", "2 passes". */
export function fmtCountOf(n: number, noun: string, plural = `${noun}s`): string {
  return `${fmtCount(n)} ${n === 1 ? noun : plural}`;
}

export function adapterText(s: AdapterSummary): string {
  const parts = [`vendor ${s.vendor || '?'}`, `architecture ${s.architecture || '?'}`];
  if (s.description) parts.push(s.description);
  parts.push(s.isFallback ? 'fallback (software) adapter' : 'hardware adapter');
  return parts.join(', ');
}

/** A learning rate the page takes (parseLearningRate), and what it says of one it does not. */
export const LR_MESSAGE = 'the learning rate must be a number from 1e-12 to 1e6';

/** A form's learning rate: a number in [1e-12, 1e6], else null. */
export function parseLearningRate(text: string): number | null {
  return parseField(text, 1e-12, 1e6);
}

/** Parses a form value as a number in [min, max] (integer when asked); null when it is not one. */
export function parseField(text: string, min: number, max: number, integer = false): number | null {
  const s = text.trim();
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(s)) return null;
  const v = Number(s);
  if (!Number.isFinite(v) || v < min || v > max) return null;
  if (integer && !Number.isInteger(v)) return null;
  return v;
}

/** A learning rate rounded to two significant digits. */
export function roundLr(v: number): number {
  return Number(v.toPrecision(2));
}
