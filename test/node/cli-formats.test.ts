// The CLI over every file format: convert to the raw format, train from it, and the errors of bad files.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'nabla-cli-formats-'));

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
