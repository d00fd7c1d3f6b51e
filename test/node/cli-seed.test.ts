// `train --seed` where training turns out full batch: a --batch-size at or above the row count trains on all
// rows at once, and a formula's or the linear model's seed then orders nothing and draws nothing. The rows are
// only known once read, so args.ts cannot see it; the commands refuse it with exit 2, naming --seed.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain as run } from '../cli-main.ts';
import { suiteTempDir } from '../temp-dir.ts';

const dir = suiteTempDir('cli-seed');
const data = join(dir, 'line.csv');
writeFileSync(data, `x,y\n${Array.from({ length: 40 }, (_, i) => `${i / 10},${1 + 2 * (i / 10) + (i % 3) * 0.01}`).join('\n')}\n`);
const FORMULA = ['--formula', 'y ~ a + b*x', '--start', 'a=0,b=0'];
const LINEAR = ['--target', 'y'];

describe('train --seed with a --batch-size that covers every row', () => {
  for (const [name, model, more] of [
    ['a formula', FORMULA, []],
    ['a streamed formula', FORMULA, ['--stream']],
    ['the linear model', LINEAR, []],
    ['the streamed linear model', LINEAR, ['--stream']],
  ] as const) {
    it(`is refused for ${name}, and taken with a batch below the row count`, async () => {
      const train = (batch: string) => run(['train', ...model, '--data', data, '--device', 'cpu', '--epochs', '2', '--batch-size', batch, '--seed', '3', ...more, '--json']);
      const r = await train('40');
      expect(r.out).toBe('');
      expect(r.err).toMatch(/^nabla: --seed: --batch-size 40 covers all 40 rows, so training is full batch and draws nothing; drop --seed, or give a --batch-size below 40/);
      expect(r.code).toBe(2);
      const ok = await train('10');
      expect(ok.code, ok.err).toBe(0);
    });
  }

  it('is taken for a network, whose seed draws its initial weights', async () => {
    const r = await run(['train', '--model', 'mlp', '--hidden', '2', '--loss', 'mse', ...LINEAR, '--data', data, '--device', 'cpu', '--epochs', '2', '--batch-size', '40', '--seed', '3', '--json']);
    expect(r.code, r.err).toBe(0);
  });
});
