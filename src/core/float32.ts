// float32, the precision the data and the GPU hold: its largest finite value, and its values written for people.

/** The largest finite float32: beyond it a value uploads, or a float32 kernel computes, as ±Infinity. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A float32 value as the shortest decimal that reads back to it: 1.344 rather than 1.343999981880188, the
 * float64 expansion of the same float32. Messages quote data this way, as the file most likely wrote it.
 */
export function float32Text(v: number): string {
  if (!Number.isFinite(v) || Math.fround(v) !== v) return String(v);
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  for (let digits = 1; digits < 9; digits++) {
    const shorter = Number(v.toPrecision(digits));
    if (Math.fround(shorter) === v) return String(shorter);
  }
  return String(Number(v.toPrecision(9)));
}
