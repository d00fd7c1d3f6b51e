import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateCommand, modelTrainCommand, predictCommand } from '../../src/cli/model-commands.ts';
import { makeXor } from '../model-data.ts';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
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
    await expect(modelTrainCommand([...args, '--optimizer', 'lion'], io().io)).rejects.toThrow(/--optimizer/);
    await expect(modelTrainCommand([...args, '--hidden', '4,x'], io().io)).rejects.toThrow(/--hidden/);
    await expect(modelTrainCommand([...args, '--schedule', 'cosine'], io().io)).rejects.toThrow(/--schedule/);
    await expect(predictCommand(['--data', data], io().io)).rejects.toThrow(/--model/);
    const bogus = join(dir, 'bogus.json');
    writeFileSync(bogus, '{"format":"nabla-model","version":99}');
    await expect(predictCommand(['--model', bogus, '--data', data], io().io)).rejects.toThrow(/version/);
    expect(existsSync(join(dir, 'never.json'))).toBe(false);
  });
});
