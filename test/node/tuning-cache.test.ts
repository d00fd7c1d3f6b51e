// The tuning table's keys and its JSON form (src/gpu/tuning/cache.ts), without a GPU.
import { describe, expect, it } from 'vitest';
import {
  adapterIdentity, keyString, parseTuningTable, TuningCache, TuningTableError, tuningKey, type TuningEntry, type TuningKey,
} from '../../src/gpu/tuning/cache.ts';

const LIMITS = {
  maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupsPerDimension: 65535,
  maxComputeWorkgroupStorageSize: 16384, maxStorageBufferBindingSize: 134217728, maxBufferSize: 268435456,
};
const INFO = { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader Device (Subzero)', isFallbackAdapter: true };

/** The two objects tuningKey reads: adapter.info and device.limits. */
function fakeGpu(info: Partial<typeof INFO> = {}, limits: Partial<typeof LIMITS> = {}) {
  return {
    adapter: { info: { ...INFO, ...info } } as unknown as GPUAdapter,
    device: { limits: { ...LIMITS, maxComputeWorkgroupSizeY: 256, ...limits } } as unknown as GPUDevice,
  };
}

const isConfig = (c: unknown): c is { workgroupSize: number; numGroups: number } =>
  typeof c === 'object' && c !== null && Number.isInteger((c as { workgroupSize?: unknown }).workgroupSize) && Number.isInteger((c as { numGroups?: unknown }).numGroups);

const entry = (numGroups: number): TuningEntry<{ workgroupSize: number; numGroups: number }> => ({
  config: { workgroupSize: 64, numGroups }, ms: 1.25, method: 'timestamp-query', validated: 9, tried: 11, tunedAt: '2026-11-30T20:00:00.000Z',
});

describe('tuning keys', () => {
  const base = keyString(tuningKey(fakeGpu(), 'linear.partials.quad', { d: 1, log2Rows: 20 }));

  it('equal inputs give equal keys, whatever the order of the shape fields', () => {
    expect(keyString(tuningKey(fakeGpu(), 'linear.partials.quad', { log2Rows: 20, d: 1 }))).toBe(base);
  });

  it('changes with each field of the adapter identity', () => {
    for (const change of [{ vendor: 'nvidia' }, { architecture: 'hopper' }, { device: '0x2330' }, { description: 'NVIDIA H100' }, { isFallbackAdapter: false }]) {
      expect(keyString(tuningKey(fakeGpu(change), 'linear.partials.quad', { d: 1, log2Rows: 20 })), JSON.stringify(change)).not.toBe(base);
    }
  });

  it('changes with each compute limit a configuration may depend on', () => {
    for (const [name, value] of Object.entries(LIMITS)) {
      const key = keyString(tuningKey(fakeGpu({}, { [name]: value * 2 }), 'linear.partials.quad', { d: 1, log2Rows: 20 }));
      expect(key, name).not.toBe(base);
    }
    // A limit no kernel configuration reads does not split the table.
    const other = fakeGpu();
    (other.device.limits as unknown as Record<string, number>).maxComputeWorkgroupSizeY = 1;
    expect(keyString(tuningKey(other, 'linear.partials.quad', { d: 1, log2Rows: 20 }))).toBe(base);
  });

  it('changes with the kernel family and the shape class', () => {
    expect(keyString(tuningKey(fakeGpu(), 'linear.partials.tiled', { d: 1, log2Rows: 20 }))).not.toBe(base);
    expect(keyString(tuningKey(fakeGpu(), 'linear.partials.quad', { d: 2, log2Rows: 20 }))).not.toBe(base);
    expect(keyString(tuningKey(fakeGpu(), 'linear.partials.quad', { d: 1, log2Rows: 21 }))).not.toBe(base);
  });

  it('reads isFallbackAdapter from the info, or from the adapter on older implementations', () => {
    expect(adapterIdentity({ info: { ...INFO, isFallbackAdapter: undefined }, isFallbackAdapter: true } as unknown as GPUAdapter).isFallbackAdapter).toBe(true);
    expect(adapterIdentity({ info: { vendor: 'x' } } as unknown as GPUAdapter)).toEqual({ vendor: 'x', architecture: '', device: '', description: '', isFallbackAdapter: false });
  });
});

describe('TuningCache', () => {
  const key: TuningKey = tuningKey(fakeGpu(), 'linear.partials.quad', { d: 1, log2Rows: 20 });

  it('round-trips through JSON text', () => {
    const cache = new TuningCache();
    cache.set(key, entry(4));
    cache.set(tuningKey(fakeGpu({ vendor: 'nvidia' }), 'linear.partials.quad', { d: 16, log2Rows: 22 }), entry(2048));
    const text = JSON.stringify(cache);
    const back = new TuningCache();
    back.merge(JSON.parse(text));
    expect(back.size).toBe(2);
    expect(back.get(key, isConfig)).toEqual(entry(4));
    expect(JSON.stringify(back)).toBe(text);
  });

  it('misses on another key, and drops an entry whose config the consumer does not accept', () => {
    const cache = new TuningCache();
    cache.set(key, entry(4));
    expect(cache.get(tuningKey(fakeGpu({ device: 'x' }), 'linear.partials.quad', { d: 1, log2Rows: 20 }), isConfig)).toBeUndefined();
    const never = (c: unknown): c is never => (void c, false);
    expect(cache.get(key, never)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('stores copies: changing the caller\'s objects later does not change the table', () => {
    const cache = new TuningCache();
    const e = entry(4);
    cache.set(key, e);
    e.config.numGroups = 99;
    expect(cache.get(key, isConfig)?.config.numGroups).toBe(4);
  });
});

describe('parseTuningTable rejects malformed tables with the field named', () => {
  const good = () => JSON.parse(JSON.stringify({ format: 'nabla-tuning', version: 1, entries: [{ key: tuningKey(fakeGpu(), 'f', { d: 1 }), ...entry(4) }] }));
  const cases: Array<[string, (t: Record<string, any>) => unknown, RegExp]> = [
    ['not an object', () => [1, 2], /expected a JSON object/],
    ['null', () => null, /expected a JSON object/],
    ['wrong format', (t) => ({ ...t, format: 'other' }), /format/],
    ['future version', (t) => ({ ...t, version: 2 }), /version: expected 1, got 2/],
    ['entries not an array', (t) => ({ ...t, entries: {} }), /entries: expected an array/],
    ['entry not an object', (t) => ({ ...t, entries: [7] }), /entries\[0\]: expected an object/],
    ['adapter vendor a number', (t) => (t.entries[0].key.adapter.vendor = 4, t), /entries\[0\]\.key\.adapter\.vendor/],
    ['fallback flag a string', (t) => (t.entries[0].key.adapter.isFallbackAdapter = 'yes', t), /isFallbackAdapter/],
    ['a limit missing', (t) => (delete t.entries[0].key.limits.maxBufferSize, t), /limits\.maxBufferSize/],
    ['a negative limit', (t) => (t.entries[0].key.limits.maxComputeWorkgroupSizeX = -1, t), /maxComputeWorkgroupSizeX/],
    ['empty family', (t) => (t.entries[0].key.family = '', t), /family/],
    ['shape value an object', (t) => (t.entries[0].key.shape.d = { x: 1 }, t), /shape\.d/],
    ['config not an object', (t) => (t.entries[0].config = 'fast', t), /config/],
    ['ms not a number', (t) => (t.entries[0].ms = '1', t), /\.ms/],
    ['ms infinite', (t) => (t.entries[0].ms = Infinity, t), /\.ms/],
    ['unknown method', (t) => (t.entries[0].method = 'guess', t), /method/],
    ['a hole among the entries', (t) => ({ ...t, entries: [, t.entries[0]] }), /entries\[0\]: expected an object/],
    ['more validated than tried', (t) => (t.entries[0].validated = 12, t), /validated\/tried/],
    ['a negative count', (t) => (t.entries[0].validated = -5, t), /validated\/tried/],
    ['a config that is no plain data', (t) => (t.entries[0].config = { f: () => 1 }, t), /config: expected plain data/],
    ['tunedAt missing', (t) => (delete t.entries[0].tunedAt, t), /tunedAt/],
  ];
  for (const [name, mutate, message] of cases) {
    it(name, () => {
      expect(() => parseTuningTable(mutate(good()))).toThrow(TuningTableError);
      expect(() => parseTuningTable(mutate(good()))).toThrow(message);
      const cache = new TuningCache();
      expect(() => cache.merge(mutate(good()))).toThrow(TuningTableError);
      expect(cache.size).toBe(0);
    });
  }

  it('accepts the well-formed table', () => {
    expect(parseTuningTable(good()).entries).toHaveLength(1);
  });
});

describe('TuningCache.set', () => {
  it('checks an entry as a table read back would, so that toJSON always reads back', () => {
    const cache = new TuningCache();
    const key = tuningKey(fakeGpu(), 'f', { d: 1 });
    expect(() => cache.set(key, { ...entry(4), ms: NaN })).toThrow(/entries\[0\]\.ms: expected a non-negative number/);
    expect(() => cache.set({ adapter: {}, limits: {}, family: 'f', shape: {} } as unknown as TuningKey, entry(4))).toThrow(TuningTableError);
    cache.set(key, entry(4));
    expect(parseTuningTable(JSON.parse(JSON.stringify(cache.toJSON()))).entries).toHaveLength(1);
  });
});
