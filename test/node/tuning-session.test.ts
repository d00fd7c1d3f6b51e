// The CLI's GPU session keeps the kernel tuning table on disk (src/cli/gpu-session.ts, tuning-file.ts):
// the first run tunes and writes it, the second starts tuned (nothing new to write), a corrupt file is
// ignored with a warning and replaced. Real headless Chromium and adapter, as in cli-gpu.test.ts.
import { describe, expect, it } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GpuSession } from '../../src/cli/gpu-session.ts';
import { parseTuningTable } from '../../src/gpu/tuning/cache.ts';
import { makeLinearData } from '../data-gen.ts';
import { linearFormulaModel } from '../../src/models/linear-formula.ts';
import { testTempDir } from '../temp-dir.ts';

const data = makeLinearData(100_000, 3, 5);
const model = linearFormulaModel(3);
const job = {
  kind: 'formula-gradient' as const, spec: { ...model.spec }, columns: [...model.features, model.target], params: [...model.params], start: [0.1, 0.2, 0.3, 0.4],
};

async function gradientRun(tuningFile: string, warnings: string[] = []) {
  const session = await GpuSession.open({ tuningFile, warn: (m) => warnings.push(m) });
  try {
    return { adapter: session.adapter, result: await session.run(job, data) };
  } finally {
    await session.close();
  }
}

describe('GpuSession and the tuning table on disk', () => {
  it('the first run tunes and writes the table; the second starts tuned and leaves the file as it was', async () => {
    const file = join(testTempDir('tuning-session'), 'cache', 'tuning.json');
    const first = await gradientRun(file);
    const table = parseTuningTable(JSON.parse(readFileSync(file, 'utf8')));
    const entry = table.entries.find((e) => e.key.family === 'formula.linear-quad');
    expect(entry, JSON.stringify(table.entries.map((e) => e.key))).toBeDefined();
    expect(entry!.key.adapter.vendor).toBe(first.adapter.vendor);
    expect(entry!.key.adapter.isFallbackAdapter).toBe(first.adapter.isFallback);
    const text = readFileSync(file, 'utf8');
    const mtime = statSync(file).mtimeMs;
    const second = await gradientRun(file);
    // A retune would have stored a new entry (new tunedAt) and rewritten the file.
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(statSync(file).mtimeMs).toBe(mtime);
    expect(second.result.formulaGradient!.grad).toHaveLength(4);
    for (let j = 0; j < 4; j++) expect(second.result.formulaGradient!.grad[j]).toBeCloseTo(first.result.formulaGradient!.grad[j], 4);
  }, 180_000);

  it('a corrupt file is ignored with a warning, the job still runs, and the file is replaced by a valid table', async () => {
    const file = join(testTempDir('tuning-session'), 'tuning.json');
    writeFileSync(file, '{"format": "nabla-tuning", "version": 1, "entries": [{"key": ');
    const warnings: string[] = [];
    const run = await gradientRun(file, warnings);
    expect(run.result.formulaGradient!.grad).toHaveLength(4);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^warning: tuning cache .*tuning\.json ignored/);
    expect(parseTuningTable(JSON.parse(readFileSync(file, 'utf8'))).entries.length).toBeGreaterThan(0);
  }, 180_000);
});
