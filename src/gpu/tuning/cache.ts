// The tuning table: which kernel configuration won on which adapter, for which kernel family and shape.
// Keys are the adapter's identity (what GPUAdapterInfo says, never a name matched against a list), the
// device limits a configuration can depend on, the kernel family and its shape class, so a table carried
// to another machine, browser flag or limit set simply misses and the kernel is tuned again there.
// In memory (TuningCache) and as plain JSON (TuningTable) for the CLI's file; parseTuningTable rejects
// anything malformed with a reason instead of trusting it.

/** What the adapter says about itself (GPUAdapterInfo); the device string is often empty. */
export interface AdapterIdentity {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

/** The device limits a compute kernel's best configuration may depend on. */
export interface TuningLimits {
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupsPerDimension: number;
  maxComputeWorkgroupStorageSize: number;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

const LIMIT_NAMES = [
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupsPerDimension',
  'maxComputeWorkgroupStorageSize', 'maxStorageBufferBindingSize', 'maxBufferSize',
] as const satisfies ReadonlyArray<keyof TuningLimits>;

/** A shape class: small scalars naming the problem size a configuration was tuned for (e.g. d, log2 N). */
export type ShapeClass = Record<string, string | number | boolean>;

export interface TuningKey {
  adapter: AdapterIdentity;
  limits: TuningLimits;
  family: string;
  shape: ShapeClass;
}

export interface TuningEntry<C = unknown> {
  /** The winning configuration, a plain JSON object; its consumer checks it before use. */
  config: C;
  /** Its time per unit of work while tuning, and how that was measured. */
  ms: number;
  method: 'timestamp-query' | 'wall-clock';
  /** Candidates that ran and passed validation / all that were tried. */
  validated: number;
  tried: number;
  tunedAt: string;
}

/** The serialized table (the CLI's tuning.json). */
export interface TuningTable {
  format: 'nabla-tuning';
  version: 1;
  entries: Array<{ key: TuningKey } & TuningEntry>;
}

export function adapterIdentity(adapter: GPUAdapter): AdapterIdentity {
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const flag = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter
    ?? (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  return {
    vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '',
    description: info.description ?? '', isFallbackAdapter: Boolean(flag),
  };
}

export function tuningLimits(device: GPUDevice): TuningLimits {
  const out = {} as TuningLimits;
  for (const name of LIMIT_NAMES) out[name] = device.limits[name];
  return out;
}

/** The key of a family and shape on a GpuContext-like pair (adapter, device). */
export function tuningKey(gpu: { adapter: GPUAdapter; device: GPUDevice }, family: string, shape: ShapeClass): TuningKey {
  return { adapter: adapterIdentity(gpu.adapter), limits: tuningLimits(gpu.device), family, shape };
}

/** A canonical string for a key: fields in a fixed order, so equal keys give equal strings. */
export function keyString(key: TuningKey): string {
  const a = key.adapter;
  const sorted = (o: Record<string, unknown>) => Object.keys(o).sort().map((k) => [k, o[k]]);
  return JSON.stringify([
    [a.vendor, a.architecture, a.device, a.description, a.isFallbackAdapter],
    LIMIT_NAMES.map((n) => key.limits[n]),
    key.family,
    sorted(key.shape),
  ]);
}

export class TuningTableError extends Error {
  constructor(message: string) {
    super(`tuning table: ${message}`);
    this.name = 'TuningTableError';
  }
}

export class TuningCache {
  private readonly entries = new Map<string, { key: TuningKey } & TuningEntry>();

  get size(): number {
    return this.entries.size;
  }

  /**
   * The entry for a key, if any and if `accept` takes its config (a stale or foreign config is dropped,
   * so the caller tunes again rather than running something this build does not understand).
   */
  get<C>(key: TuningKey, accept: (config: unknown) => config is C): TuningEntry<C> | undefined {
    const id = keyString(key);
    const hit = this.entries.get(id);
    if (!hit) return undefined;
    if (!accept(hit.config)) {
      this.entries.delete(id);
      return undefined;
    }
    const { key: _key, ...entry } = hit;
    return structuredClone(entry) as TuningEntry<C>;
  }

  /** Checked as parseTuningTable checks a table's entries, so that toJSON always writes a table that reads back. */
  set<C>(key: TuningKey, entry: TuningEntry<C>): void {
    const [checked] = parseTuningTable({ format: 'nabla-tuning', version: 1, entries: [{ key, ...entry }] }).entries;
    this.entries.set(keyString(checked.key), checked);
  }

  clear(): void {
    this.entries.clear();
  }

  toJSON(): TuningTable {
    return { format: 'nabla-tuning', version: 1, entries: [...this.entries.values()].map((e) => structuredClone(e)) };
  }

  /** Adds every entry of a table (checked by parseTuningTable); its entries win over equal keys here. */
  merge(table: unknown): void {
    for (const e of parseTuningTable(table).entries) this.entries.set(keyString(e.key), e);
  }
}

/** Entries every engine in this JavaScript realm shares (a page, a Deno process, a test file). */
export const defaultTuningCache = new TuningCache();

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNonNegative = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function checkKey(v: unknown, at: string): TuningKey {
  if (!isObject(v)) throw new TuningTableError(`${at}.key: expected an object`);
  const { adapter, limits, family, shape } = v;
  if (!isObject(adapter)) throw new TuningTableError(`${at}.key.adapter: expected an object`);
  for (const f of ['vendor', 'architecture', 'device', 'description'] as const) {
    if (typeof adapter[f] !== 'string') throw new TuningTableError(`${at}.key.adapter.${f}: expected a string`);
  }
  if (typeof adapter.isFallbackAdapter !== 'boolean') throw new TuningTableError(`${at}.key.adapter.isFallbackAdapter: expected a boolean`);
  if (!isObject(limits)) throw new TuningTableError(`${at}.key.limits: expected an object`);
  for (const n of LIMIT_NAMES) {
    if (!isFiniteNonNegative(limits[n])) throw new TuningTableError(`${at}.key.limits.${n}: expected a non-negative number`);
  }
  if (typeof family !== 'string' || family === '') throw new TuningTableError(`${at}.key.family: expected a non-empty string`);
  if (!isObject(shape)) throw new TuningTableError(`${at}.key.shape: expected an object`);
  for (const [k, s] of Object.entries(shape)) {
    if (!['string', 'number', 'boolean'].includes(typeof s)) throw new TuningTableError(`${at}.key.shape.${k}: expected a string, number or boolean`);
  }
  const a = adapter as unknown as AdapterIdentity;
  return {
    adapter: { vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description, isFallbackAdapter: a.isFallbackAdapter },
    limits: Object.fromEntries(LIMIT_NAMES.map((n) => [n, limits[n]])) as unknown as TuningLimits,
    family,
    shape: { ...(shape as ShapeClass) },
  };
}

/** Checks a parsed tuning.json; throws TuningTableError naming the first bad field. */
export function parseTuningTable(v: unknown): TuningTable {
  if (!isObject(v)) throw new TuningTableError('expected a JSON object');
  if (v.format !== 'nabla-tuning') throw new TuningTableError(`format: expected "nabla-tuning", got ${JSON.stringify(v.format)}`);
  if (v.version !== 1) throw new TuningTableError(`version: expected 1, got ${JSON.stringify(v.version)}`);
  if (!Array.isArray(v.entries)) throw new TuningTableError('entries: expected an array');
  // Array.from: a hole is an entry too (map would skip it).
  const entries = Array.from(v.entries as unknown[]).map((e: unknown, i: number): { key: TuningKey } & TuningEntry => {
    const at = `entries[${i}]`;
    if (!isObject(e)) throw new TuningTableError(`${at}: expected an object`);
    const key = checkKey(e.key, at);
    if (!isObject(e.config)) throw new TuningTableError(`${at}.config: expected an object`);
    if (!isFiniteNonNegative(e.ms)) throw new TuningTableError(`${at}.ms: expected a non-negative number`);
    if (e.method !== 'timestamp-query' && e.method !== 'wall-clock') throw new TuningTableError(`${at}.method: expected "timestamp-query" or "wall-clock"`);
    if (!Number.isInteger(e.validated) || !Number.isInteger(e.tried) || (e.validated as number) < 0 || (e.tried as number) < (e.validated as number)) {
      throw new TuningTableError(`${at}.validated/tried: expected whole numbers, 0 <= validated <= tried`);
    }
    if (typeof e.tunedAt !== 'string') throw new TuningTableError(`${at}.tunedAt: expected a string`);
    let config: unknown;
    try {
      config = structuredClone(e.config);
    } catch {
      throw new TuningTableError(`${at}.config: expected plain data (numbers, strings, arrays and objects)`);
    }
    return {
      key, config, ms: e.ms, method: e.method as TuningEntry['method'], validated: e.validated as number, tried: e.tried as number, tunedAt: e.tunedAt,
    };
  });
  return { format: 'nabla-tuning', version: 1, entries };
}
