// The benchmark harness end to end: tiny linear-step and mlp-epoch suites in headless Chromium through
// bench/run.ts (bundle build, page, validation, timing, TF.js, CPU, JSON), and the fault injection that
// proves the validation can fail and that a failed row is never timed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBench, type BenchIo } from '../../bench/run.ts';
import { parseBenchArgs, QUICK_NS, QUICK_DS, QUICK_GD_NS } from '../../bench/args.ts';
import { adapterLine, formatTable, resultFileName, type BenchRow, type FormulaRow, type MlpRow } from '../../bench/report.ts';

const TINY = ['--n', '16384', '--gd-n', '4096', '--d', '1,16', '--formula-n', '16384', '--reps', '3'];
/** Two batches per epoch; SwiftShader takes seconds per MLP evaluation whatever the batch (its reduce). */
const TINY_MLP = ['--mlp-n', '256', '--mlp-batch', '128', '--mlp-epochs', '1', '--mlp-cpu-n', '128'];
const MLP_TIMING_KEYS = ['gpuEpochMs', 'gpuSamplesPerSec', 'cpuEpochMs', 'cpuSamplesPerSec', 'tfjsEpochMs', 'tfjsSamplesPerSec',
  'jaxEpochMs', 'jaxSamplesPerSec', 'vsTfjs', 'vsJax', 'vsCpu', 'gradientRelError', 'tfjsRelError', 'jaxRelError'] as const;
/** Measured on every linear row that passed (gpuMs needs timestamp-query and applies to gradient rows only). */
const TIMING_KEYS = ['ms', 'msMin', 'msMax', 'gbps', 'samplesPerSec', 'fractionOfRead', 'jaxMs', 'vsJax', 'tfjsMs', 'vsTfjs',
  'cpuMs', 'vsCpu', 'cpuGbps', 'jsLoopGbps'] as const;
/** Measured on every formula row that passed (the generic-kernel columns where the compiler specialises: linear16-mse). */
const FORMULA_TIMING_KEYS = ['ms', 'msMin', 'msMax', 'gbps', 'fractionOfRead', 'jaxMs', 'vsJax', 'relError', 'jaxRelError'] as const;
const GENERIC_KEYS = ['genericMs', 'pickPairedMs', 'pickVsGeneric'] as const;
const ROW_KEYS = ['suite', 'op', 'n', 'd', 'steps', 'bytes', ...TIMING_KEYS, 'read', 'validation', 'relError', 'repetitions', 'gpuMs',
  'jaxValidation', 'tfjsValidation', 'notes'] as const;

const dir = mkdtempSync(join(tmpdir(), 'nabla-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function quietIo(): BenchIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t) };
}

describe('bench harness (pure parts)', () => {
  it('parses --quick, --n/--d lists with 2^k, and rejects unknown flags', () => {
    const quick = parseBenchArgs(['--quick']);
    expect([quick.ns, quick.gdNs, quick.ds, quick.reps >= 10, quick.jax, quick.tfjs]).toEqual([QUICK_NS, QUICK_GD_NS, QUICK_DS, true, true, true]);
    expect(parseBenchArgs(['--no-gd', '--no-jax'])).toMatchObject({ gdNs: [], jax: false });
    expect(parseBenchArgs(['--gd-n', '2^12,2^14']).gdNs).toEqual([4096, 16384]);
    expect(() => parseBenchArgs(['--no-gd', '--gd-n', '4096'])).toThrow(/--no-gd/);
    const sized = parseBenchArgs(['--n', '2^28', '--d', '1,16', '--d', '64', '--json']);
    expect([sized.ns, sized.ds, sized.json]).toEqual([[2 ** 28], [1, 16, 64], true]);
    expect(() => parseBenchArgs(['--bogus'])).toThrow(/unknown argument/);
    expect(() => parseBenchArgs(['--n', '0'])).toThrow(/positive integer/);
  });

  it('never calls a software adapter a GPU, and names result files safely', () => {
    const sw = { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device', isFallback: true, name: 'google swiftshader' };
    expect(adapterLine(sw)).toMatch(/software.*not a GPU/);
    expect(adapterLine({ ...sw, isFallback: false, name: 'nvidia hopper' })).toMatch(/hardware/);
    expect(resultFileName('2026-11-26T10:00:00.000Z', sw)).toBe('2026-11-26T10-00-00-000Z-google-swiftshader.json');
    expect(formatTable([])).toMatch(/^\| op \| N \| d \| nabla ms/);
  });
});

describe('bench harness in headless Chromium', () => {
  it('runs a tiny suite: every path validated then timed on the wall clock, the JSON has the documented shape', async () => {
    const out = join(dir, 'tiny.json');
    const io = quietIo();
    const { exitCode, report, file } = await runBench([...TINY, ...TINY_MLP, '--out', out], io);
    expect(exitCode, io.stderr.join('\n')).toBe(0);
    expect(file).toBe(out);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(report);
    const text = io.stdout.join('\n');
    expect(text).toMatch(/^adapter: /);
    expect(text).toMatch(/\| gradient \| 2\^14 \| 16 \|/);
    expect(text).toMatch(/\| gd100 \| 2\^12 \| 1 \|/);

    const r = report!;
    expect(Object.keys(r.adapter).sort()).toEqual(['architecture', 'description', 'isFallback', 'name', 'vendor']);
    expect(typeof r.adapter.isFallback).toBe('boolean');
    expect(r.browser).toMatch(/^chromium \d+/);
    expect(r.host).toMatch(/^node \d+/);
    expect(r.command).toBe(`npm run bench -- ${[...TINY, ...TINY_MLP, '--out', out].join(' ')}`);
    expect(r.commit === null || /^[0-9a-f]{40}$/.test(r.commit)).toBe(true);
    expect(r.dirty === null || typeof r.dirty === 'boolean').toBe(true);
    expect(Number.isNaN(Date.parse(r.date))).toBe(false);
    expect(r.rows.map((row) => [row.op, row.n, row.d])).toEqual([['gradient', 16384, 1], ['gradient', 16384, 16], ['gd100', 4096, 1], ['gd100', 4096, 16]]);
    for (const row of r.rows) {
      const where = `${row.op} ${row.n}x${row.d} (notes: ${row.notes.join('; ')})`;
      for (const key of ROW_KEYS) expect(row, key).toHaveProperty(key);
      expect([row.validation, row.jaxValidation, row.tfjsValidation], where).toEqual(['passed', 'passed', 'passed']);
      expect(row.relError!).toBeLessThanOrEqual(row.op === 'gd100' ? 1e-4 : 1e-5);
      expect(row.repetitions).toBe(3);
      for (const key of TIMING_KEYS) {
        const v = row[key as keyof BenchRow];
        expect(Number.isFinite(v) && (v as number) > 0, `${key} = ${v}, ${where}`).toBe(true);
      }
      expect(row.msMin!).toBeLessThanOrEqual(row.ms!);
      expect(row.ms!).toBeLessThanOrEqual(row.msMax!);
      // Every ratio is the other path's wall-clock ms over nabla's, on the same clock.
      expect(row.vsJax!).toBeCloseTo(row.jaxMs! / row.ms!, 9);
      expect(row.vsTfjs!).toBeCloseTo(row.tfjsMs! / row.ms!, 9);
      expect(row.vsCpu!).toBeCloseTo(row.cpuMs! / row.ms!, 9);
      expect(row.fractionOfRead!).toBeCloseTo(row.read!.ms / row.ms!, 9);
      expect(row.gbps!).toBeCloseTo((row.steps * (row.n * row.d + row.n) * 4) / (row.ms! * 1e6), 9);
      expect(row.steps).toBe(row.op === 'gd100' ? 100 : 1);
      // The yardstick: a validated winner with its configuration, timed on the wall clock.
      const read = row.read!;
      expect(read.rejected).toBe(0);
      expect(read.candidates).toBeGreaterThanOrEqual(5);
      expect([64, 128, 256]).toContain(read.config.wg);
      expect([1, 2, 4]).toContain(read.config.vec);
      expect([1, 2, 4]).toContain(read.config.unroll);
      expect(read.msMin).toBeLessThanOrEqual(read.ms);
      expect(read.passes).toBe(row.steps);
      expect(read.gbps).toBeCloseTo((read.passes * row.bytes) / (read.ms * 1e6), 9);
    }

    expect(text).toMatch(/\| mlp-epoch \| 256 \| 128 \| 1 \|/);
    expect(r.mlp).toHaveLength(1);
    const m = r.mlp[0];
    expect([m.n, m.batch, m.epochs, m.cpuN, m.hidden, m.classes]).toEqual([256, 128, 1, 128, [256, 256], 10]);
    expect([m.validation, m.tfjsValidation, m.jaxValidation]).toEqual(['passed', 'passed', 'passed']);
    for (const key of MLP_TIMING_KEYS) {
      const v = m[key as keyof MlpRow];
      expect(Number.isFinite(v) && (v as number) > 0, `${key} = ${v} (notes: ${m.notes.join('; ')})`).toBe(true);
    }
    expect(m.gradientRelError!).toBeLessThanOrEqual(1e-4);
    expect(m.tfjsRelError!).toBeLessThanOrEqual(1e-4);
    expect(m.jaxRelError!).toBeLessThanOrEqual(1e-4);
    expect(m.vsTfjs!).toBeCloseTo(m.gpuSamplesPerSec! / m.tfjsSamplesPerSec!, 9);
    expect(m.vsJax!).toBeCloseTo(m.gpuSamplesPerSec! / m.jaxSamplesPerSec!, 9);
    expect(m.gpuSamplesPerSec!).toBeCloseTo(256 / (m.gpuEpochMs! / 1e3), 6);
    // Same start, data, batches in the same order and Adam: after two epochs the losses agree to float32
    // rounding (a wrong update or order would differ by the loss change per step, ~1e-2 here).
    expect(Math.abs(m.gpuLoss! - m.tfjsLoss!)).toBeLessThan(1e-4 * m.tfjsLoss!);
    expect(Math.abs(m.gpuLoss! - m.jaxLoss!)).toBeLessThan(1e-4 * m.jaxLoss!);

    // The formula suite: every case validated against the float64 twin, then timed beside the read and jax-js.
    expect(text).toMatch(/\| linear16-mse \| `y ~ linear\(x1\.\.x16\)` \| mse \| 2\^14 \| 16 \|/);
    expect(r.formula!.map((f) => [f.case, f.n, f.width])).toEqual([
      ['exp-decay', 16384, 1], ['linear16-huber', 16384, 16], ['poisson16', 16384, 16], ['linear16-mse', 16384, 16]]);
    for (const f of r.formula!) {
      const where = `${f.case} (notes: ${f.notes.join('; ')})`;
      expect([f.validation, f.jaxValidation], where).toEqual(['passed', 'passed']);
      expect(f.relError!).toBeLessThan(1e-4);
      for (const key of [...FORMULA_TIMING_KEYS, ...(f.case === 'linear16-mse' ? GENERIC_KEYS : [])]) {
        const v = f[key as keyof FormulaRow];
        expect(Number.isFinite(v) && (v as number) > 0, `${key} = ${v}, ${where}`).toBe(true);
      }
      expect(f.kernel!.kind, f.case).toBe(f.case === 'linear16-mse' ? 'linear-quad' : 'generated');
      if (f.case !== 'linear16-mse') expect([f.genericMs, f.genericValidation]).toEqual([null, 'not run']);
      else expect([f.genericValidation, f.genericKernel!.kind]).toEqual(['passed', 'generated']);
      expect(f.bytes).toBe(f.n * (f.width + 1) * 4);
      expect(f.vsJax!).toBeCloseTo(f.jaxMs! / f.ms!, 9);
      expect(f.fractionOfRead!).toBeCloseTo(f.read!.ms / f.ms!, 9);
      expect(f.read!.rejected).toBe(0);
      expect(f.repetitions).toBe(3);
    }
  }, 600_000);

  it('--inject-fault: a wrong pass-1 kernel fails validation and its rows are not timed; wrong read candidates are rejected', async () => {
    const out = join(dir, 'fault.json');
    const io = quietIo();
    const { exitCode, report } = await runBench(['--inject-fault', '--reps', '3', '--out', out], io);
    expect(exitCode).toBe(1);
    expect(report!.config.injectFault).toBe(true);
    expect(report!.rows.map((row) => [row.op, row.n, row.d])).toEqual([['gradient', 16384, 1], ['gradient', 16384, 16], ['gd100', 4096, 1], ['gd100', 4096, 16]]);
    for (const row of report!.rows) {
      // The quad kernel the compiler picks computes r = p - 2y: the engine's own check rejects it when it is built.
      expect(row.validation).toMatch(/^failed: could not build the engine: GPU kernel for .* \(linear quad kernel\) .* disagrees with the float64 twin/);
      for (const key of TIMING_KEYS.filter((k) => k !== 'fractionOfRead')) expect(row[key as keyof BenchRow], key).toBeNull();
      expect(row.fractionOfRead).toBeNull();
      // The read sweep's fault: every unrolled variant reads its first vector twice. Each is rejected by
      // its sum; the yardstick is still found, among the single-load variants.
      expect(row.read!.rejected, row.notes.join('; ')).toBeGreaterThan(0);
      expect(row.read!.rejections[0]).toMatch(/^rejected: .* unroll[24]\b.* summed with relative error/);
      expect(row.read!.config.unroll).toBe(1);
    }
    // The MLP's fault: the GPU differentiates the loss of shifted labels; the row stays untimed.
    expect(report!.mlp).toHaveLength(1);
    expect(report!.mlp[0].validation).toMatch(/^failed: relative error/);
    for (const key of MLP_TIMING_KEYS.filter((k) => k !== 'gradientRelError')) expect(report!.mlp[0][key as keyof MlpRow], key).toBeNull();
    // The formula suite's fault: the kernel the compiler picks reads every target as 2y (linear16-mse: the quad
    // kernel's residual is r = p - 2y). The engine's own check at
    // creation rejects it; the rows are reported failed and nothing of nabla or the peers is timed.
    expect(report!.formula!.map((f) => f.case)).toEqual(['exp-decay', 'linear16-huber', 'poisson16', 'linear16-mse']);
    for (const f of report!.formula!) {
      expect(f.validation).toMatch(/^failed: could not build the engine: GPU kernel for .* disagrees with the float64 twin/);
      for (const key of [...FORMULA_TIMING_KEYS.filter((k) => k !== 'relError'), ...GENERIC_KEYS]) expect(f[key as keyof FormulaRow], key).toBeNull();
      expect(f.read!.rejected).toBeGreaterThan(0);
    }
    expect(io.stdout.join('\n')).toMatch(/FAULT INJECTED/);
  }, 300_000);
});
