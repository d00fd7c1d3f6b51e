// `train --model ...` whose start is not finite (poisson's log of a linear or mlp output at or below 0): the
// engines train on standardized features, and the linear model under a loss as a formula of columns x1, x2, ...;
// the message names the first such row in the file's units, with its columns' names and its line.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain as run } from '../cli-main.ts';
import { float32Text } from '../../src/core/float32.ts';
import { suiteTempDir } from '../temp-dir.ts';

const dir = suiteTempDir('cli-model-start');
const data = join(dir, 'counts.csv');
// Row 1 (line 2) is bad at the start: the linear model's output there is 0, the mlp's negative (seed 1).
writeFileSync(data, `height,weight,count\n1.344,3.474,0\n2.5,1,2\n2.5,1,\n${Array.from({ length: 30 }, (_, i) => `${(i % 7) * 0.9},${(i % 5) - 2.2},${i % 4}`).join('\n')}\n`);

describe('a --model start that is not finite', () => {
  for (const [name, model] of [['the linear model under poisson', ['--model', 'linear', '--optimizer', 'sgd']], ['an mlp under poisson', ['--model', 'mlp', '--hidden', '3']]] as const) {
    for (const device of ['cpu', 'cpu64']) {
      it(`names the file's line and the row in the file's units: ${name}, --device ${device}`, async () => {
        const r = await run(['train', ...model, '--loss', 'poisson', '--data', data, '--target', 'count', '--epochs', '2', '--device', device]);
        expect(r.code).toBe(2);
        expect(r.out).toBe('');
        expect(r.err).toMatch(new RegExp(`^nabla: ${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/counts\\.csv line 2: the model is not finite on kept row 1 at the initial parameters ` +
          '\\(output = \\S+, loss = NaN; height = 1\\.344, weight = 3\\.474, count = 0\\): check that the loss is defined'));
      });
    }
  }
});

describe('float32Text', () => {
  it('writes a float32 as the shortest decimal that reads back to it', () => {
    expect(float32Text(Math.fround(1.344))).toBe('1.344');
    expect(float32Text(Math.fround(0.1))).toBe('0.1');
    expect(float32Text(Math.fround(1e-45))).toBe('1e-45');
    expect(float32Text(Math.fround(3.4028234663852886e38))).toBe('3.4028235e+38');
    expect(float32Text(Math.fround(16777217))).toBe('16777216');
    for (const v of [-2.5, 0, -0, 123456789, Math.fround(Math.PI), Math.fround(-7.123456e-20)]) expect(Math.fround(Number(float32Text(Math.fround(v))))).toBe(Math.fround(v));
    // Not a float32 (a float64 parameter) or not finite: as JavaScript writes it.
    expect(float32Text(0.1)).toBe('0.1');
    expect(float32Text(1 / 3)).toBe(String(1 / 3));
    expect(float32Text(NaN)).toBe('NaN');
    expect(float32Text(-Infinity)).toBe('-Infinity');
  });
});
