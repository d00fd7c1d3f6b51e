// Options objects of the library API: a misspelt key (batchsize, lerningRate, kernal) would otherwise be
// ignored without a word and the run would use the default it meant to change, so every options object
// is checked against the keys its function reads.

/**
 * Throws a TypeError when `options` is not an object, and a RangeError naming every key that `known`
 * lacks, with the known ones listed. `what` names the options in the message (e.g. "train options").
 * A key set to undefined counts as not given, as TypeScript's optional properties read it. `reasons`
 * explains a key that looks plausible but does not apply here (e.g. threads on an engine that takes a pool).
 */
export function rejectUnknownKeys(
  options: unknown, known: readonly string[], what: string, reasons: Readonly<Record<string, string>> = {},
): void {
  requireOptionsObject(options, what);
  const unknown = Object.keys(options).filter((k) => !known.includes(k) && (options as Record<string, unknown>)[k] !== undefined);
  if (unknown.length === 0) return;
  const names = unknown.map((k) => JSON.stringify(k) + (Object.hasOwn(reasons, k) ? ` (${reasons[k]})` : '')).join(', ');
  throw new RangeError(`${what}: unknown option${unknown.length > 1 ? 's' : ''} ${names}; the options are ${[...known].sort().join(', ')}`);
}

/** A TypeError unless `options` is a (non-array) object. */
export function requireOptionsObject(options: unknown, what: string): asserts options is object {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${what}: expected an options object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
}
