// The benchmark harness end to end: tiny linear-step and mlp-epoch suites in headless Chromium through
// bench/run.ts (bundle build, page, validation, timing, TF.js, CPU, JSON), and the fault injection that
// proves the validation can fail and that a failed row is never timed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBench, type BenchIo } from '../../bench/run.ts';
import { parseBenchArgs, QUICK_NS, QUICK_DS } from '../../bench/args.ts';
import { adapterLine, formatTable, resultFileName, type BenchRow, type MlpRow } from '../../bench/report.ts';

const TINY = ['--n', '16384', '--d', '1,16', '--reps', '3'];
/** Two batches per epoch; SwiftShader takes seconds per MLP evaluation whatever the batch (its reduce). */
const TINY_MLP = ['--mlp-n', '256', '--mlp-batch', '128', '--mlp-epochs', '1', '--mlp-cpu-n', '128'];
const MLP_TIMING_KEYS = ['gpuEpochMs', 'gpuSamplesPerSec', 'cpuEpochMs', 'cpuSamplesPerSec', 'tfjsEpochMs', 'tfjsSamplesPerSec', 'vsTfjs', 'vsCpu',
  'gradientRelError', 'tfjsRelError'] as const;
const TIMING_KEYS = ['msMedian', 'msMin', 'msMax', 'samplesPerSec', 'gbps', 'readKernelGbps', 'fractionOfRead',
  'tfjsMs', 'tfjsRatio', 'cpuMs', 'cpuRatio', 'cpuGbps', 'jsLoopGbps'] as const;
const ROW_KEYS = ['suite', 'n', 'd', ...TIMING_KEYS, 'validation', 'repetitions'] as const;

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
    expect([quick.ns, quick.ds, quick.reps >= 10]).toEqual([QUICK_NS, QUICK_DS, true]);
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
    expect(formatTable([])).toMatch(/^\| suite \| N \| d \| ms/);
  });
});

describe('bench harness in headless Chromium', () => {
  it('runs a tiny suite: validation passes, every column is measured, the JSON has the documented shape', async () => {
    const out = join(dir, 'tiny.json');
    const io = quietIo();
    const { exitCode, report, file } = await runBench([...TINY, ...TINY_MLP, '--out', out], io);
    expect(exitCode, io.stderr.join('\n')).toBe(0);
    expect(file).toBe(out);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(report);
    expect(io.stdout.join('\n')).toMatch(/^adapter: /);
    expect(io.stdout.join('\n')).toMatch(/\| linear-step \| 2\^14 \| 16 \|/);

    const r = report!;
    expect(Object.keys(r.adapter).sort()).toEqual(['architecture', 'description', 'isFallback', 'vendor']);
    expect(typeof r.adapter.vendor).toBe('string');
    expect(typeof r.adapter.isFallback).toBe('boolean');
    expect(r.browser).toMatch(/^chromium \d+/);
    expect(r.commit === null || /^[0-9a-f]{40}$/.test(r.commit)).toBe(true);
    expect(Number.isNaN(Date.parse(r.date))).toBe(false);
    expect(r.rows.map((row) => [row.n, row.d])).toEqual([[16384, 1], [16384, 16]]);
    for (const row of r.rows) {
      for (const key of ROW_KEYS) expect(row, key).toHaveProperty(key);
      expect(row.suite).toBe('linear-step');
      expect(row.validation).toBe('passed');
      expect(row.gradientRelError).toBeLessThanOrEqual(1e-5);
      expect(row.repetitions).toBeGreaterThanOrEqual(2); // 3 asked; at most one impossible sample dropped
      for (const key of TIMING_KEYS) {
        const v = row[key as keyof BenchRow];
        expect(typeof v, `${key} (notes: ${row.notes.join('; ')})`).toBe('number');
        expect(Number.isFinite(v) && (v as number) > 0, `${key} = ${v}`).toBe(true);
      }
      expect(row.msMin!).toBeLessThanOrEqual(row.msMedian!);
      expect(row.msMedian!).toBeLessThanOrEqual(row.msMax!);
      expect(row.tfjsRatio!).toBeCloseTo(row.tfjsMs! / row.msMedian!, 9);
      expect(row.cpuRatio!).toBeCloseTo(row.cpuMs! / row.msMedian!, 9);
      expect(row.gbps!).toBeCloseTo((row.n * row.d + row.n) * 4 / (row.msMedian! * 1e6), 9);
    }

    expect(io.stdout.join('\n')).toMatch(/\| mlp-epoch \| 256 \| 128 \| 1 \|/);
    expect(r.mlp).toHaveLength(1);
    const m = r.mlp[0];
    expect([m.n, m.batch, m.epochs, m.cpuN, m.hidden, m.classes]).toEqual([256, 128, 1, 128, [256, 256], 10]);
    expect(m.validation).toBe('passed');
    for (const key of MLP_TIMING_KEYS) {
      const v = m[key as keyof MlpRow];
      expect(Number.isFinite(v) && (v as number) > 0, `${key} = ${v} (notes: ${m.notes.join('; ')})`).toBe(true);
    }
    expect(m.gradientRelError!).toBeLessThanOrEqual(1e-4);
    expect(m.tfjsRelError!).toBeLessThanOrEqual(1e-4);
    expect(m.vsTfjs!).toBeCloseTo(m.gpuSamplesPerSec! / m.tfjsSamplesPerSec!, 9);
    expect(m.gpuSamplesPerSec!).toBeCloseTo(256 / (m.gpuEpochMs! / 1e3), 6);
    // Same start, data, batches in the same order and Adam: after two epochs the losses agree to float32
    // rounding (a wrong update or order would differ by the loss change per step, ~1e-2 here).
    expect(Math.abs(m.gpuLoss! - m.tfjsLoss!)).toBeLessThan(1e-4 * m.tfjsLoss!);
  }, 420_000);

  it('--inject-fault: a wrong pass-1 kernel fails validation and its rows are not timed', async () => {
    const out = join(dir, 'fault.json');
    const io = quietIo();
    const { exitCode, report } = await runBench(['--inject-fault', '--reps', '3', '--out', out], io);
    expect(exitCode).toBe(1);
    expect(report!.config.injectFault).toBe(true);
    expect(report!.rows.map((row) => [row.n, row.d])).toEqual([[16384, 1], [16384, 16]]);
    for (const row of report!.rows) {
      expect(row.validation).toMatch(/^failed: relative error/);
      for (const key of TIMING_KEYS) expect(row[key as keyof BenchRow], key).toBeNull();
    }
    // The MLP's fault: the GPU differentiates the loss of shifted labels; the row stays untimed.
    expect(report!.mlp).toHaveLength(1);
    expect(report!.mlp[0].validation).toMatch(/^failed: relative error/);
    for (const key of MLP_TIMING_KEYS.filter((k) => k !== 'gradientRelError')) expect(report!.mlp[0][key as keyof MlpRow], key).toBeNull();
    expect(io.stdout.join('\n')).toMatch(/FAULT INJECTED/);
  }, 180_000);
});
