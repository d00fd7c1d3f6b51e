import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { makeXor } from '../model-data.ts';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

// Each command through main, the one entry (parse, validate, run, map errors to exit codes).
const modelTrainCommand = (argv: string[], o: ReturnType<typeof io>['io']) => main(['train', ...argv], o);
const predictCommand = (argv: string[], o: ReturnType<typeof io>['io']) => main(['predict', ...argv], o);
const evaluateCommand = (argv: string[], o: ReturnType<typeof io>['io']) => main(['evaluate', ...argv], o);

/** The exit code must be 2 and stderr one line matching `pattern`. */
async function refused(run: (o: ReturnType<typeof io>['io']) => Promise<number>, pattern: RegExp): Promise<void> {
  const r = io();
  expect(await run(r.io)).toBe(2);
  expect(r.out).toEqual([]);
  expect(r.err.join('\n')).toMatch(pattern);
}

function xorCsv(dir: string): string {
  const d = makeXor(10, 3);
  const rows = ['a,b,label'];
  for (let i = 0; i < d.n; i++) rows.push(`${d.x[2 * i]},${d.x[2 * i + 1]},${d.y[i] ? 'yes' : 'no'}`);
  const file = join(dir, 'xor.csv');
  writeFileSync(file, rows.join('\n'));
  return file;
}

describe('model CLI commands (CPU path)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nabla-model-'));
  const data = xorCsv(dir);
  const args = ['--data', data, '--target', 'label', '--model', 'mlp', '--hidden', '6', '--activation', 'tanh', '--optimizer', 'adam', '--lr', '0.05', '--seed', '2'];

  it('trains an mlp on string labels, saves atomically, predicts and evaluates', async () => {
    const file = join(dir, 'm.json');
    const t = io();
    expect(await modelTrainCommand([...args, '--epochs', '300', '--save', file, '--json'], t.io)).toBe(0);
    const report = JSON.parse(t.out[0]);
    expect(report.model).toBe('mlp');
    expect(report.layers).toEqual([2, 6, 2]);
    expect(report.metrics.accuracy).toBe(1);
    expect(report.classes).toEqual(['no', 'yes']);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.version).toBe(1);
    expect(saved.training.state.t).toBe(300);
    const p = io();
    expect(await predictCommand(['--model', file, '--data', data, '--json'], p.io)).toBe(0);
    const preds = JSON.parse(p.out[0]).predictions;
    expect(preds.length).toBe(40);
    expect(new Set(preds)).toEqual(new Set(['yes', 'no']));
    const e = io();
    expect(await evaluateCommand(['--model', file, '--data', data, '--json'], e.io)).toBe(0);
    const m = JSON.parse(e.out[0]).metrics;
    expect(m.accuracy).toBe(1);
    expect(m.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(40);
  });

  it('--resume continues to the same parameters as an uninterrupted run', async () => {
    const whole = join(dir, 'whole.json');
    const half = join(dir, 'half.json');
    await modelTrainCommand([...args, '--epochs', '120', '--schedule', 'cosine:120,warmup:10', '--save', whole, '--json'], io().io);
    await modelTrainCommand([...args, '--epochs', '50', '--schedule', 'cosine:120,warmup:10', '--save', half, '--json'], io().io);
    await modelTrainCommand(['--data', data, '--resume', half, '--epochs', '120', '--save', half, '--json'], io().io);
    expect(JSON.parse(readFileSync(half, 'utf8')).parameters).toEqual(JSON.parse(readFileSync(whole, 'utf8')).parameters);
  });

  it('names bad arguments', async () => {
    await refused((o) => modelTrainCommand([...args, '--optimizer', 'lion'], o), /--optimizer/);
    await refused((o) => modelTrainCommand([...args, '--hidden', '4,x'], o), /--hidden/);
    await refused((o) => modelTrainCommand([...args, '--schedule', 'cosine'], o), /--schedule/);
    await refused((o) => predictCommand(['--data', data], o), /--model/);
    const bogus = join(dir, 'bogus.json');
    writeFileSync(bogus, '{"format":"nabla-model","version":99}');
    await refused((o) => predictCommand(['--model', bogus, '--data', data], o), /version/);
    expect(existsSync(join(dir, 'never.json'))).toBe(false);
  });

  it('--batch-size trains by mini-batches, saves the batch size, and resumes with the same batches', async () => {
    const cpu = [...args, '--device', 'cpu', '--batch-size', '12'];
    const whole = join(dir, 'mb-whole.json');
    const half = join(dir, 'mb-half.json');
    const t = io();
    expect(await modelTrainCommand([...cpu, '--epochs', '40', '--save', whole, '--json'], t.io)).toBe(0);
    const report = JSON.parse(t.out[0]);
    expect(report).toMatchObject({ epochs: 40, updates: 160, batchSize: 12, rows: 40 }); // 40 rows: 12, 12, 12, 4
    expect(JSON.parse(readFileSync(whole, 'utf8')).training.batchSize).toBe(12);
    await modelTrainCommand([...cpu, '--epochs', '15', '--save', half, '--json'], io().io);
    const r = io();
    expect(await modelTrainCommand(['--data', data, '--device', 'cpu', '--resume', half, '--epochs', '40', '--save', half, '--json'], r.io)).toBe(0);
    expect(JSON.parse(r.out[0]).updates).toBe(160);
    expect(JSON.parse(readFileSync(half, 'utf8')).parameters).toEqual(JSON.parse(readFileSync(whole, 'utf8')).parameters);
    await refused((o) => modelTrainCommand(['--data', data, '--device', 'cpu', '--resume', half, '--epochs', '50', '--batch-size', '8'], o), /--batch-size 8: .*trained with --batch-size 12/);
    // A batch of all the rows (or more) is the full batch.
    const full = io();
    await modelTrainCommand([...args, '--device', 'cpu', '--batch-size', '999', '--epochs', '5', '--json'], full.io);
    expect(JSON.parse(full.out[0])).toMatchObject({ updates: 5, batchSize: 40 });
  });

  it('--tol stops full-batch training early and is refused with mini-batches', async () => {
    const t = io();
    expect(await modelTrainCommand([...args, '--device', 'cpu', '--epochs', '5000', '--tol', '0.05', '--json'], t.io)).toBe(0);
    const report = JSON.parse(t.out[0]);
    expect(report.stopReason).toBe('tolerance');
    expect(report.updates).toBeLessThan(5000);
    expect(report.gradNorm).toBeLessThanOrEqual(0.05);
    await refused((o) => modelTrainCommand([...args, '--device', 'cpu', '--tol', '0.05', '--batch-size', '8'], o), /--tol: applies to full-batch/);
    await refused((o) => modelTrainCommand([...args, '--device', 'cpu', '--tol=-1'], o), /--tol: expected a non-negative number/);
    await refused((o) => modelTrainCommand([...args, '--device', 'cpu', '--batch-size', '0'], o), /--batch-size: expected a positive integer/);
  });
});
