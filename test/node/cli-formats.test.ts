// The CLI over every file format: convert to the raw format, train from it, and the errors of bad files.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { suiteTempDir } from '../temp-dir.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = suiteTempDir('cli-formats');

function nabla(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('node', ['bin/nabla.mjs', ...args], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('nabla convert and the raw format', () => {
  it('convert writes .f32 that trains to the same model as the CSV', async () => {
    const out = join(dir, 'good.f32');
    const c = await nabla('convert', 'test/fixtures/missing.csv', out, '--target', 'y', '--features', 'x1,x2', '--json');
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout)).toEqual({ output: out, rows: 5, droppedRows: 4, features: ['x1', 'x2'], target: 'y' });
    const fromRaw = await nabla('train', '--data', out, '--target', 'y', '--device', 'cpu', '--json');
    const fromCsv = await nabla('train', '--data', 'test/fixtures/missing.csv', '--target', 'y', '--features', 'x1,x2', '--device', 'cpu', '--json');
    const a = JSON.parse(fromRaw.stdout);
    const b = JSON.parse(fromCsv.stdout);
    expect(a.weights).toEqual(b.weights);
    expect(a.bias).toBe(b.bias);
    expect(a.rows).toBe(5);
  }, 120_000);

  it('a truncated .f32 file: exit 2, the file and the sizes named, nothing on stdout', async () => {
    const good = join(dir, 'whole.f32');
    expect((await nabla('convert', 'test/fixtures/good.csv', good, '--target', 'y')).code).toBe(0);
    const bytes = readFileSync(good);
    const cut = join(dir, 'cut.f32');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 6));
    const r = await nabla('train', '--data', cut, '--target', 'y', '--device', 'cpu');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/cut\.f32/);
    expect(r.stderr).toMatch(/\d+ bytes/);
  }, 120_000);

  it('a failed convert leaves no output file and no temporary file behind', async () => {
    const out = join(dir, 'bad.f32');
    const r = await nabla('convert', 'test/fixtures/nonnumeric.csv', out, '--target', 'y', '--features', 'x1,x2');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 7, column "x2"/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('bad.f32'))).toEqual([]);
  }, 60_000);

  it('convert argument errors name the argument', async () => {
    const r = await nabla('convert', 'test/fixtures/good.csv', join(dir, 'x.bin'), '--target', 'y');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/OUT must end in \.f32/);
    expect((await nabla('convert', 'test/fixtures/good.csv', join(dir, 'x.f32'))).stderr).toMatch(/--target/);
  }, 60_000);
});

describe('every command reads every format through the same sources', () => {
  // Two classes separated by a + 0.5 b > 0, values on a grid of float32-exact numbers so that every
  // format holds the very same float32 samples: the trained parameters must then agree bit for bit.
  const rows = Array.from({ length: 60 }, (_, i) => {
    const a = ((i * 37) % 61) / 8 - 3.75;
    const b = ((i * 11) % 29) / 4 - 3.5;
    return { a, b, label: a + 0.5 * b > 0 ? 1 : 0, y: 2 * a - b + 0.5 };
  });
  const files: Record<string, string> = {};

  it('prepares the same data as CSV, JSON, Parquet (ZSTD), Arrow and raw', async () => {
    const { writeParquet } = await import('./data-parquet-writer.ts');
    const { tableFromArrays, tableToIPC } = await import('apache-arrow');
    const { execFileSync } = await import('node:child_process');
    files.csv = join(dir, 'cls.csv');
    writeFileSync(files.csv, ['a,b,label,y', ...rows.map((r) => `${r.a},${r.b},${r.label},${r.y}`)].join('\n'));
    files.json = join(dir, 'cls.json');
    writeFileSync(files.json, JSON.stringify(rows));
    files.parquet = join(dir, 'cls.parquet');
    writeParquet(files.parquet, [
      { name: 'a', type: 'DOUBLE', values: rows.map((r) => r.a) },
      { name: 'b', type: 'DOUBLE', values: rows.map((r) => r.b) },
      { name: 'label', type: 'INT32', values: rows.map((r) => r.label) },
      { name: 'y', type: 'DOUBLE', values: rows.map((r) => r.y) },
    ], 25, { codec: 'ZSTD', compress: (p) => execFileSync('zstd', ['-q', '-c'], { input: p }) });
    files.arrow = join(dir, 'cls.arrow');
    writeFileSync(files.arrow, tableToIPC(tableFromArrays({
      a: Float64Array.from(rows, (r) => r.a), b: Float64Array.from(rows, (r) => r.b),
      label: Int32Array.from(rows, (r) => r.label), y: Float64Array.from(rows, (r) => r.y),
    }), 'file'));
    // The reproduction from issue 12: convert, then train a classifier on the raw file.
    files.raw = join(dir, 'cls.f32');
    const c = await nabla('convert', files.csv, files.raw, '--target', 'label', '--features', 'a,b');
    expect(c.code, c.stderr).toBe(0);
  }, 60_000);

  it('train --model logistic, predict and evaluate: the same on every format', async () => {
    const reports = [];
    for (const [format, file] of Object.entries(files)) {
      const model = join(dir, `m-${format}.json`);
      const t = await nabla('train', '--model', 'logistic', '--data', file, '--target', 'label', '--features', 'a,b',
        '--device', 'cpu', '--epochs', '30', '--save', model, '--json');
      expect(t.code, `${format}: ${t.stderr}`).toBe(0);
      const p = await nabla('predict', '--model', model, '--data', file, '--json');
      expect(p.code, `${format}: ${p.stderr}`).toBe(0);
      const e = await nabla('evaluate', '--model', model, '--data', file, '--json');
      expect(e.code, `${format}: ${e.stderr}`).toBe(0);
      reports.push({ format, train: JSON.parse(t.stdout), predictions: JSON.parse(p.stdout).predictions, metrics: JSON.parse(e.stdout).metrics });
    }
    const [first, ...others] = reports;
    expect(first.train.classes).toEqual(['0', '1']);
    expect(first.train.rows).toBe(60);
    expect(first.metrics.accuracy).toBeGreaterThan(0.9);
    for (const r of others) {
      expect(r.train.parameters, r.format).toEqual(first.train.parameters);
      expect(r.predictions, r.format).toEqual(first.predictions);
      expect(r.metrics, r.format).toEqual(first.metrics);
    }
  }, 180_000);

  it('gradient: the same on CSV, JSON, Parquet and Arrow', async () => {
    const out = [];
    for (const format of ['csv', 'json', 'parquet', 'arrow']) {
      const g = await nabla('gradient', '--data', files[format], '--target', 'y', '--features', 'a,b', '--weights', '1,-1', '--bias', '0.25', '--device', 'cpu', '--json');
      expect(g.code, `${format}: ${g.stderr}`).toBe(0);
      out.push(JSON.parse(g.stdout));
    }
    for (const g of out.slice(1)) expect(g).toEqual(out[0]);
  }, 120_000);

  it('an mlp trains on string labels in a compressed Parquet fixture', async () => {
    const t = await nabla('train', '--model', 'mlp', '--hidden', '4', '--data', 'test/fixtures/parquet/snappy.parquet', '--target', 'label',
      '--features', 'x1,x2', '--device', 'cpu', '--epochs', '5', '--json');
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout)).toMatchObject({ classes: ['high', 'low'], rows: 47, droppedRows: 1 });
  }, 60_000);
});
