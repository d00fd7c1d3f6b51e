// A run that diverged, saved with --save: its file holds the last good parameters (predict and evaluate use
// them) and says it diverged, and --resume refuses it, since a resume keeps the rate and the batches and would
// take the same steps to the same divergence.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain as run } from '../cli-main.ts';
import { suiteTempDir } from '../temp-dir.ts';

const dir = suiteTempDir('resume-diverged');
const data = join(dir, 'line.csv');
writeFileSync(data, `x,y\n${Array.from({ length: 64 }, (_, i) => `${i / 4},${1 + 2 * (i / 4)}`).join('\n')}\n`);

describe('--resume of a run that diverged', () => {
  for (const [name, model] of [
    ['a formula, full batch', ['--formula', 'y ~ a + b*x', '--start', 'a=0,b=0']],
    ['a formula, mini-batches (diverged inside an epoch)', ['--formula', 'y ~ a + b*x', '--start', 'a=0,b=0', '--batch-size', '8']],
    ['the linear model under sgd', ['--model', 'linear', '--optimizer', 'sgd', '--target', 'y', '--no-standardize']],
  ] as const) {
    it(`is refused, naming where; the file predicts with the last good parameters: ${name}`, async () => {
      const file = join(dir, `${name.replace(/\W+/g, '-')}.json`);
      const trained = await run(['train', ...model, '--data', data, '--device', 'cpu64', '--epochs', '50', '--lr', '5', '--save', file, '--json']);
      expect(trained.code, trained.err).toBe(3);
      const saved = JSON.parse(readFileSync(file, 'utf8'));
      // The update after the kept parameters, counted from 1, as the divergence message says.
      const update = JSON.parse(trained.out).updates + 1;
      expect(saved.training.diverged).toEqual({ update });
      const at = (model as readonly string[]).includes('--batch-size') ? `update ${update}` : `epoch ${update}`;
      expect(trained.err).toContain(`training diverged at ${at}`);
      expect(saved.parameters.every(Number.isFinite)).toBe(true);
      const resumed = await run(['train', '--resume', file, '--data', data, '--device', 'cpu64', '--epochs', '60']);
      expect(resumed.code).toBe(2);
      expect(resumed.err).toMatch(new RegExp(`^nabla: --resume .*: the run it holds diverged at ${at}, and a resume keeps its --lr 5 and its batches, ` +
        'so it would take the same steps to the same divergence; its parameters are the last good ones, for predict and evaluate'));
      const predicted = await run(['predict', '--model', file, '--data', data]);
      expect(predicted.code, predicted.err).toBe(0);
    });
  }

  it('a file whose diverged mark is malformed is not a usable model file', async () => {
    const file = join(dir, 'good.json');
    expect((await run(['train', '--formula', 'y ~ a + b*x', '--start', 'a=0,b=0', '--data', data, '--device', 'cpu64', '--epochs', '3', '--lr', '0.01', '--save', file])).code).toBe(0);
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.training.diverged).toBeUndefined();
    writeFileSync(file, JSON.stringify({ ...saved, training: { ...saved.training, diverged: { update: 0 } } }));
    const r = await run(['predict', '--model', file, '--data', data]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not a usable nabla formula model file \(diverged \{"update":0\}\)/);
  });
});

describe('--resume with another --schedule', () => {
  it('names both schedules as --schedule writes them', async () => {
    const file = join(dir, 'cosine.json');
    expect((await run(['train', '--formula', 'y ~ a + b*x', '--start', 'a=0,b=0', '--data', data, '--device', 'cpu64', '--epochs', '3', '--lr', '0.01', '--schedule', 'cosine:100,warmup:2', '--save', file])).code).toBe(0);
    const r = await run(['train', '--resume', file, '--data', data, '--device', 'cpu64', '--epochs', '6', '--schedule', 'constant']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^nabla: --schedule constant: .*cosine\.json was trained with --schedule cosine:100,warmup:2; a resume continues the saved run/);
  });
});
