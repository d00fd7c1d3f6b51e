// `train --formula ... --optimizer lm` through main: NIST's Misra1a (the seed's own model and start) fitted
// to its certified digits on the float64 twin and on the fast CPU path, from a file and streamed; the JSON
// fields and the table; and every bad start with its exit code and message.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain as run } from '../cli-main.ts';
import { suiteTempDir } from '../temp-dir.ts';
import { readNist } from '../nist.ts';

const digits = (got: number, want: number) => -Math.log10(Math.abs(got - want) / Math.abs(want));
const SEED = ['--formula', 'y ~ b1*(1-exp(-b2*x))', '--start', 'b1=500,b2=1e-4', '--optimizer', 'lm'];

describe('train --optimizer lm', () => {
  const dir = suiteTempDir('fit-cli');
  const misra = readNist('Misra1a');
  const csv = join(dir, 'misra1a.csv');
  const write = () => writeFileSync(csv, `y,x\n${Array.from(misra.x, (x, i) => `${misra.y[i]},${x}`).join('\n')}\n`);

  it('reproduces NIST Misra1a on the float64 twin (estimates and standard errors to >= 6 digits)', async () => {
    write();
    const r = await run(['train', ...SEED, '--data', csv, '--device', 'cpu64', '--json']);
    expect(r.code).toBe(0);
    const fit = JSON.parse(r.out);
    for (const [k, name] of misra.params.entries()) {
      expect(digits(fit.params[name], misra.certified[k])).toBeGreaterThanOrEqual(6);
      expect(digits(fit.standardErrors[name], misra.certifiedSd[k])).toBeGreaterThanOrEqual(6);
    }
    expect(digits(fit.rss, misra.rss)).toBeGreaterThanOrEqual(8);
    expect(fit).toMatchObject({ optimizer: 'lm', dof: 12, rows: 14 });
    expect(fit.covariance).toHaveLength(2);
    expect(fit.residualStd).toBeCloseTo(1.0187876330e-1, 8);
    expect(['relative-reduction', 'relative-step', 'both']).toContain(fit.stopReason);
    expect(fit.iterations).toBeGreaterThan(0);
    expect(fit.passes).toBeGreaterThan(fit.iterations);
  });

  it('fits on the fast CPU path (float32 rows, float64 sums) and streamed, to the same answer', async () => {
    write();
    const fast = JSON.parse((await run(['train', ...SEED, '--data', csv, '--device', 'cpu', '--json'])).out);
    const streamed = JSON.parse((await run(['train', ...SEED, '--data', csv, '--device', 'cpu', '--stream', '--chunk-mb', '0.0001', '--json'])).out);
    for (const [k, name] of misra.params.entries()) {
      // Rounding x and y to float32 moves the optimum by ~1e-7 relative here: 6 digits still hold.
      expect(digits(fast.params[name], misra.certified[k])).toBeGreaterThanOrEqual(6);
      expect(streamed.params[name] / fast.params[name]).toBeCloseTo(1, 9);
    }
  });

  it('counts only rows of positive weight in the degrees of freedom: weight-0 rows change nothing, in memory and streamed', async () => {
    write();
    // Misra1a with every row doubled at weight 0 (its y moved far off) against Misra1a with weights 1.
    const rows = Array.from(misra.x, (x, i) => `${misra.y[i]},${x},1`);
    const zeros = Array.from(misra.x, (x, i) => `${misra.y[i] * 3},${x},0`);
    const weighted = join(dir, 'misra-w.csv');
    const padded = join(dir, 'misra-w0.csv');
    writeFileSync(weighted, `y,x,w\n${rows.join('\n')}\n`);
    writeFileSync(padded, `y,x,w\n${rows.map((r, i) => `${r}\n${zeros[i]}`).join('\n')}\n`);
    const fit = async (file: string, more: string[] = []) => JSON.parse((await run(['train', ...SEED, '--weights', 'w', '--data', file, '--device', 'cpu64', '--json', ...more])).out);
    const plain = await fit(weighted);
    expect(plain).toMatchObject({ dof: 12, rows: 14 });
    // In memory cpu64 reads the CSV in float64 (the same sums to rounding); a stream reads float32 rows (~1e-6).
    for (const [got, digitsHeld] of [[await fit(padded), 9], [await fit(padded, ['--stream', '--chunk-mb', '0.0001']), 4]] as const) {
      expect(got).toMatchObject({ dof: 12, rows: 28 });
      for (const name of misra.params) {
        expect(got.params[name] / plain.params[name]).toBeCloseTo(1, digitsHeld);
        // Counted as 28 − 2 rows, every standard error would shrink by √(12/26) ≈ 0.68.
        expect(got.standardErrors[name] / plain.standardErrors[name]).toBeCloseTo(1, digitsHeld);
      }
    }
  });

  it('prints a table of estimates and standard errors', async () => {
    write();
    const r = await run(['train', ...SEED, '--data', csv, '--device', 'cpu64']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/parameter\s+estimate\s+std\. error/);
    expect(r.out).toMatch(/b1\s+238\.9421\d*\s+2\.70700/);
    expect(r.out).toMatch(/residual sum of squares 0\.12455138/);
    expect(r.err).toMatch(/iteration\s+1\s+RSS/);
  });

  it('exits 3 with the best parameters when the passes run out', async () => {
    write();
    const r = await run(['train', ...SEED, '--data', csv, '--device', 'cpu64', '--epochs', '3', '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out).stopReason).toBe('max-evaluations');
    expect(r.err).toMatch(/stopped after 3 passes/);
    const once = await run(['train', ...SEED, '--data', csv, '--device', 'cpu64', '--epochs', '1']);
    expect(once.err).toMatch(/stopped after 1 pass without/);
    expect(once.out).toMatch(/max-evaluations after 0 iterations, 1 pass$/m);
  });

  it('refuses a start where J has a zero column, naming the parameter', async () => {
    write();
    const r = await run(['train', '--formula', 'y ~ a*exp(-k*x)', '--start', 'a=0,k=0.01', '--optimizer', 'lm', '--data', csv, '--device', 'cpu64']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/singular at the start.*does not depend on k/);
  });

  it('refuses a start where the model is not finite, naming the row', async () => {
    write();
    const r = await run(['train', '--formula', 'y ~ a*log(x - c)', '--start', 'a=1,c=100', '--optimizer', 'lm', '--data', csv, '--device', 'cpu64']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/line 2/);
  });

  it('refuses more parameters than rows, flags that cannot apply, and losses that are not squared errors', async () => {
    const tiny = join(dir, 'tiny.csv');
    writeFileSync(tiny, 'y,x\n1,1\n2,2\n');
    expect((await run(['train', '--formula', 'y ~ a + b*x + c*x^2', '--start', 'a=0,b=0,c=0', '--optimizer', 'lm', '--data', tiny])).err).toMatch(/3 parameters cannot be fitted to 2 rows/);
    write();
    for (const [flag, value] of [['--lr', '0.1'], ['--batch-size', '4'], ['--schedule', 'cosine:10']]) {
      const r = await run(['train', ...SEED, '--data', csv, flag, value]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`${flag}: does not apply with --optimizer lm`);
    }
    const mae = await run(['train', ...SEED, '--loss', 'mae', '--data', csv]);
    expect(mae.code).toBe(2);
    expect(mae.err).toMatch(/squared errors/);
    const network = await run(['train', '--model', 'linear', '--optimizer', 'lm', '--data', csv, '--target', 'y']);
    expect(network.code).toBe(2);
    expect(network.err).toMatch(/--optimizer lm: fits formula models/);
  });

  it('saves a fit that predict reads', async () => {
    write();
    const saved = join(dir, 'fit.json');
    expect((await run(['train', ...SEED, '--data', csv, '--device', 'cpu64', '--save', saved])).code).toBe(0);
    const p = await run(['predict', '--model', saved, '--data', csv, '--json']);
    expect(p.code).toBe(0);
    const predictions = JSON.parse(p.out).predictions as number[];
    expect(predictions[0]).toBeCloseTo(238.94212918 * (1 - Math.exp(-5.5015643181e-4 * 77.6)), 4);
  });

  it('--epochs 0 is refused, naming --epochs, rather than run as a cap of 0 passes', async () => {
    write();
    const r = await run(['train', ...SEED, '--data', csv, '--device', 'cpu64', '--epochs', '0']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^nabla: --epochs: caps the passes .* at least 1/);
  });

  it('reports the float64 twin as cpu64, in the JSON and the table', async () => {
    write();
    expect(JSON.parse((await run(['train', ...SEED, '--data', csv, '--device', 'cpu64', '--json'])).out).device).toBe('cpu64');
    expect((await run(['train', ...SEED, '--data', csv, '--device', 'cpu64'])).out).toMatch(/ on cpu64: /);
    expect(JSON.parse((await run(['train', ...SEED, '--data', csv, '--device', 'cpu', '--json'])).out).device).toBe('cpu');
  });
});

describe('train --resume of a fit', () => {
  const dir = suiteTempDir('fit-cli-resume');
  // y = 2 + 3x on the rows of weight 1; rows of weight 0 lie far off, so a resume that dropped the weights would move.
  const data = join(dir, 'weighted.csv');
  writeFileSync(data, `x,y,w\n${Array.from({ length: 40 }, (_, i) => (i % 5 === 4 ? `${i / 10},100,0` : `${i / 10},${2 + 3 * (i / 10)},1`)).join('\n')}\n`);
  const FIT = ['--formula', 'y ~ a + b*x', '--start', 'a=0,b=0', '--weights', 'w', '--optimizer', 'lm', '--data', data, '--device', 'cpu64'];
  const saveFit = async (name: string) => {
    const file = join(dir, name);
    expect((await run(['train', ...FIT, '--save', file])).code).toBe(0);
    return file;
  };

  it('continues by Levenberg-Marquardt from the saved parameters, with the saved weights', async () => {
    const fit = await saveFit('fit.json');
    const again = join(dir, 'again.json');
    const r = await run(['train', '--resume', fit, '--data', data, '--device', 'cpu64', '--save', again, '--json']);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.optimizer).toBe('lm');
    expect(report.params.a).toBeCloseTo(2, 9);
    expect(report.params.b).toBeCloseTo(3, 9);
    const saved = JSON.parse(readFileSync(again, 'utf8'));
    expect(saved.training.fit.method).toBe('levenberg-marquardt');
    expect(saved.training.start).toEqual({ a: 0, b: 0 });
  });

  it('saves only what is true of a fit: its start and result, no optimizer, rate, schedule, seed or moments', async () => {
    const saved = JSON.parse(readFileSync(await saveFit('only.json'), 'utf8'));
    expect(Object.keys(saved.training).sort()).toEqual(['fit', 'start']);
    expect(Object.keys(saved.training.fit).sort()).toEqual(['covariance', 'dof', 'method', 'rss', 'standardErrors', 'stopReason']);
  });

  it('loads and resumes a fit saved with the placeholder gradient-descent fields files once held', async () => {
    const json = JSON.parse(readFileSync(await saveFit('placeholders.json'), 'utf8'));
    const old = join(dir, 'old-fit.json');
    writeFileSync(old, JSON.stringify({
      ...json,
      training: { optimizer: { kind: 'sgd', momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, lr: 0.1, schedule: { kind: 'constant' }, seed: 1, batchSize: null, state: { m: [], v: [], t: 0, bestLoss: null }, ...json.training },
    }));
    expect((await run(['predict', '--model', old, '--data', data])).code).toBe(0);
    const r = await run(['train', '--resume', old, '--data', data, '--device', 'cpu64', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).params.b).toBeCloseTo(3, 9);
  });

  it('refuses a file whose fit is not a Levenberg-Marquardt one, naming the field', async () => {
    const json = JSON.parse(readFileSync(await saveFit('bad-method.json'), 'utf8'));
    const bad = join(dir, 'bad-fit.json');
    writeFileSync(bad, JSON.stringify({ ...json, training: { ...json.training, fit: { ...json.training.fit, method: 'gauss-newton' } } }));
    const r = await run(['predict', '--model', bad, '--data', data]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad-fit\.json: not a usable nabla formula model file \(fit: expected a Levenberg-Marquardt fit/);
  });

  it('takes --optimizer lm as agreeing, and refuses another optimizer and the flags of gradient descent', async () => {
    const fit = await saveFit('fit2.json');
    expect((await run(['train', '--resume', fit, '--data', data, '--device', 'cpu64', '--optimizer', 'lm'])).code).toBe(0);
    const sgd = await run(['train', '--resume', fit, '--data', data, '--device', 'cpu64', '--optimizer', 'sgd']);
    expect(sgd.code).toBe(2);
    expect(sgd.err).toMatch(/^nabla: --optimizer sgd: .*fit2\.json was trained with --optimizer lm/);
    const lr = await run(['train', '--resume', fit, '--data', data, '--device', 'cpu64', '--lr', '0.1']);
    expect(lr.code).toBe(2);
    expect(lr.err).toMatch(/^nabla: --lr: .*fit2\.json is a Levenberg-Marquardt fit/);
  });

  it('refuses --optimizer lm on a file trained by gradient descent, naming the optimizer it was trained with', async () => {
    const gd = join(dir, 'gd.json');
    expect((await run(['train', '--formula', 'y ~ a + b*x', '--start', 'a=0,b=0', '--weights', 'w', '--data', data, '--device', 'cpu64', '--epochs', '5', '--save', gd])).code).toBe(0);
    const r = await run(['train', '--resume', gd, '--data', data, '--device', 'cpu64', '--optimizer', 'lm']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^nabla: --optimizer lm: .*gd\.json was trained with --optimizer sgd/);
  });
});
