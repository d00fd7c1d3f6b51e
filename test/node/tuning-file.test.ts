// The CLI's tuning table on disk (src/cli/tuning-file.ts): where it lives, atomic writes that merge, and a
// corrupt file ignored with a warning rather than an error.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readTuningFile, tuningFilePath, writeTuningFile } from '../../src/cli/tuning-file.ts';
import { TuningCache, type TuningKey, type TuningTable } from '../../src/gpu/tuning/cache.ts';
import { testTempDir } from '../temp-dir.ts';

const LIMITS = {
  maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupsPerDimension: 65535,
  maxComputeWorkgroupStorageSize: 16384, maxStorageBufferBindingSize: 134217728, maxBufferSize: 268435456,
};
const key = (d: number): TuningKey => ({
  adapter: { vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true },
  limits: LIMITS, family: 'linear.partials.quad', shape: { d, log2Rows: 20 },
});
function tableOf(...ds: number[]): TuningTable {
  const cache = new TuningCache();
  for (const d of ds) cache.set(key(d), { config: { workgroupSize: 64, numGroups: d }, ms: 1, method: 'wall-clock', validated: 3, tried: 4, tunedAt: 'now' });
  return cache.toJSON();
}
const tempDir = () => testTempDir('tuning');

describe('tuningFilePath', () => {
  it('NABLA_TUNING_CACHE, else $XDG_CACHE_HOME/nabla/tuning.json, else ~/.cache/nabla/tuning.json', () => {
    expect(tuningFilePath({ NABLA_TUNING_CACHE: '/x/t.json', XDG_CACHE_HOME: '/c' })).toBe('/x/t.json');
    expect(tuningFilePath({ XDG_CACHE_HOME: '/c' })).toBe('/c/nabla/tuning.json');
    expect(tuningFilePath({ XDG_CACHE_HOME: '' })).toBe(join(homedir(), '.cache', 'nabla', 'tuning.json'));
    expect(tuningFilePath({})).toBe(join(homedir(), '.cache', 'nabla', 'tuning.json'));
  });
});

describe('readTuningFile / writeTuningFile', () => {
  it('round-trips a table through a new folder, leaving no temporary file behind', () => {
    const path = join(tempDir(), 'deep', 'er', 'tuning.json');
    expect(readTuningFile(path)).toEqual({ table: null, warning: null }); // none yet: no warning
    writeTuningFile(path, tableOf(1, 16));
    const back = readTuningFile(path);
    expect(back.warning).toBeNull();
    expect(back.table).toEqual(tableOf(1, 16));
    expect(readdirSync(join(path, '..'))).toEqual(['tuning.json']);
  });

  it('merges with what the file holds when written (another run\'s entries survive; ours win on equal keys)', () => {
    const path = join(tempDir(), 'tuning.json');
    writeTuningFile(path, tableOf(1, 2));
    const ours = tableOf(2, 3);
    ours.entries[0].config = { workgroupSize: 128, numGroups: 7 };
    writeTuningFile(path, ours);
    const entries = readTuningFile(path).table!.entries;
    expect(entries.map((e) => e.key.shape.d).sort()).toEqual([1, 2, 3]);
    expect(entries.find((e) => e.key.shape.d === 2)!.config).toEqual({ workgroupSize: 128, numGroups: 7 });
  });

  const corrupt: Array<[string, string, RegExp]> = [
    ['truncated JSON', '{"format": "nabla-tuning", "version": 1, "entries": [', /JSON|Unexpected|end/i],
    ['not a table', '[1, 2, 3]', /expected a JSON object/],
    ['a future version', JSON.stringify({ ...tableOf(1), version: 9 }), /version: expected 1, got 9/],
    ['a bad entry', JSON.stringify({ ...tableOf(1), entries: [{ key: 5 }] }), /entries\[0\]\.key/],
    ['binary garbage', '\u0000\u0001\u0002', /JSON|Unexpected/i],
  ];
  for (const [name, text, reason] of corrupt) {
    it(`ignores ${name} with a warning naming the file and the reason, then replaces it on write`, () => {
      const path = join(tempDir(), 'tuning.json');
      writeFileSync(path, text);
      const { table, warning } = readTuningFile(path);
      expect(table).toBeNull();
      expect(warning).toContain(path);
      expect(warning).toMatch(reason);
      writeTuningFile(path, tableOf(4));
      expect(readTuningFile(path)).toEqual({ table: tableOf(4), warning: null });
      expect(JSON.parse(readFileSync(path, 'utf8')).format).toBe('nabla-tuning');
    });
  }

  it('a path that is a folder is a warning on read and an error on write (the session turns it into a warning)', () => {
    const path = join(tempDir(), 'tuning.json');
    mkdirSync(path);
    expect(readTuningFile(path).warning).toMatch(/ignored/);
    expect(() => writeTuningFile(path, tableOf(1))).toThrow();
    expect(readdirSync(join(path, '..'))).toEqual(['tuning.json']); // no temporary file left
  });
});
