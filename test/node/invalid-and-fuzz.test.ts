// The missing/invalid value policies, and seeded fuzzing of the readers and the argument parser:
// every input ends in data or in a DataError/UsageError naming its place, never in a crash or a hang.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsvText, parseJsonText } from '../../src/data/table.ts';
import { selectLinearData } from '../../src/data/select.ts';
import { DataError } from '../../src/data/errors.ts';
import { parseCli, UsageError } from '../../src/cli/args.ts';
import { mulberry32 } from '../data-gen.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures');
const csv = (name: string) => parseCsvText(readFileSync(join(fixtures, name), 'utf8'), name);

describe('invalid-value policies', () => {
  it('drop-missing (default) drops NA/empty rows and rejects infinities', () => {
    expect(selectLinearData(csv('missing.csv'), { target: 'y', features: ['x1', 'x2'] }).droppedRows).toBe(4);
    expect(() => selectLinearData(csv('infinite.csv'), { target: 'y' })).toThrow(/line 4, column "x2".*infinite/);
  });

  it('drop also drops infinities, counted', () => {
    const s = selectLinearData(csv('infinite.csv'), { target: 'y', invalid: 'drop' });
    expect(s.droppedRows).toBe(1);
    expect(Array.from(s.data.x).every(Number.isFinite)).toBe(true);
  });

  it('error rejects the first missing value with its line and column', () => {
    expect(() => selectLinearData(csv('missing.csv'), { target: 'y', features: ['x1', 'x2'], invalid: 'error' }))
      .toThrow(/missing\.csv line \d+, column "\w+": missing value/);
  });
});

const FUZZ_CASES = 1500;
// Per input: generous for a 2-core CI machine, far below what a hang would take.
const PER_INPUT_MS = 200;

function mutate(text: string, rand: () => number): string {
  const pieces = [',', '\n', '"', '""', 'NaN', 'inf', '-', 'e', '1e999', '[', ']', '{', '}', ':', 'null', ' ', '\r\n', '\u0000', 'é', '0x1'];
  let s = text;
  const edits = 1 + Math.floor(rand() * 6);
  for (let k = 0; k < edits; k++) {
    const at = Math.floor(rand() * (s.length + 1));
    const op = rand();
    if (op < 0.4) s = s.slice(0, at) + pieces[Math.floor(rand() * pieces.length)] + s.slice(at);
    else if (op < 0.7) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rand() * 5));
    else s = s.slice(0, at) + s.slice(Math.floor(rand() * s.length));
  }
  return s;
}

describe('fuzz (seeded)', () => {
  for (const [name, parse] of [['good.csv', parseCsvText], ['good.json', parseJsonText]] as const) {
    it(`${name}: mutated inputs parse or fail with a DataError`, () => {
      const base = readFileSync(join(fixtures, name), 'utf8');
      const rand = mulberry32(name.length * 7919);
      let parsed = 0;
      for (let i = 0; i < FUZZ_CASES; i++) {
        const text = mutate(base, rand);
        const started = performance.now();
        try {
          const table = parse(text, name);
          const s = selectLinearData(table, { target: table.columns.includes('y') ? 'y' : table.columns[0] });
          expect(s.rows + s.droppedRows).toBe(table.rowCount);
          expect(Array.from(s.data.x).every(Number.isFinite) && Array.from(s.data.y).every(Number.isFinite)).toBe(true);
          parsed++;
        } catch (e) {
          if (!(e instanceof DataError)) throw new Error(`input ${i} ${JSON.stringify(text)} threw ${(e as Error).stack}`);
          expect((e as Error).message).toContain(name);
        }
        expect(performance.now() - started).toBeLessThan(PER_INPUT_MS);
      }
      // The fuzzer must exercise both outcomes, or it is not testing much.
      expect(parsed).toBeGreaterThan(FUZZ_CASES / 100);
      expect(parsed).toBeLessThan(FUZZ_CASES);
    });
  }

  it('argument parser: random argv ends in arguments or a UsageError naming something', () => {
    const words = ['train', 'gradient', '--data', 'f.csv', '--target', 'y', '--features', 'a,b', 'a,,b', '--lr', '0.1',
      '-1', 'abc', '--epochs', '10', '1.5', '--tol', '--device', 'gpu', 'tpu', '--json', '--no-standardize', '--weights',
      '1,-2', '--bias', '--on-invalid', 'drop', '--bogus', '-x', '', '--lr=1e-3', '--help'];
    const rand = mulberry32(99);
    let ok = 0;
    for (let i = 0; i < FUZZ_CASES; i++) {
      const argv = Array.from({ length: Math.floor(rand() * 9) }, () => words[Math.floor(rand() * words.length)]);
      try {
        parseCli(argv);
        ok++;
      } catch (e) {
        if (!(e instanceof UsageError)) throw new Error(`${JSON.stringify(argv)} threw ${(e as Error).stack}`);
        expect((e as Error).message.length).toBeGreaterThan(5);
      }
    }
    expect(ok).toBeGreaterThan(0);
  });

  it('argument parser, every command and the model flags: arguments or a UsageError, never anything else', () => {
    const words = ['train', 'predict', 'evaluate', 'convert', 'help', '--model', 'mlp', 'logistic', 'm.json', '--hidden', '4,x', '8',
      '--activation', 'tanh', '--classes', 'a,b', 'a', '--optimizer', 'momentum', 'lion', '--momentum', '0.5', '--schedule',
      'cosine:10', 'cosine', '--save', '--resume', '--batch-size', '8', '--tol', '1e-3', '--stream', '--chunk-mb', '--device',
      'cpu', '--data', 'f.csv', 'out.f32', '--target', 'y', '-h', '--seed', '3'];
    const rand = mulberry32(7);
    let ok = 0;
    for (let i = 0; i < FUZZ_CASES; i++) {
      const argv = Array.from({ length: Math.floor(rand() * 11) }, () => words[Math.floor(rand() * words.length)]);
      try {
        parseCli(argv);
        ok++;
      } catch (e) {
        if (!(e instanceof UsageError)) throw new Error(`${JSON.stringify(argv)} threw ${(e as Error).stack}`);
        expect((e as Error).message).toMatch(/--[a-z-]+|command|help|convert|predict|evaluate|train/);
      }
    }
    expect(ok).toBeGreaterThan(FUZZ_CASES / 100);
  });
});
