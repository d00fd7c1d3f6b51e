// The formula commands through main, the one entry (parse, validate, run, map errors to exit codes): train
// --formula with named losses, row weights, save/resume, predict/evaluate, derive, and every bad input with
// its exit code and message. The data are made here from known parameters with a seeded generator.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { suiteTempDir, testTempDir } from '../temp-dir.ts';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

async function run(argv: string[]) {
  const r = io();
  const code = await main(argv, r.io);
  return { code, out: r.out.join('\n'), err: r.err.join('\n') };
}

async function trainJson(argv: string[]) {
  const r = await run(['train', ...argv, '--json']);
  // --device auto (the default) says why it stays on the CPU (no adapter, or only a software one); anything else on stderr is a failure.
  expect(r.err.replace(/^nabla: (no WebGPU adapter|the only WebGPU adapter is) .*$/m, '')).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out);
}

/** Exit 2, nothing on stdout, stderr matching every pattern. */
async function refused(argv: string[], ...patterns: RegExp[]): Promise<string> {
  const r = await run(argv);
  expect(r.out).toBe('');
  for (const p of patterns) expect(r.err).toMatch(p);
  expect(r.code).toBe(2);
  return r.err;
}

/** A seeded uniform generator in [0, 1) (an LCG: the same data on every run). */
function uniform(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

function csv(dir: string, name: string, header: string, rows: Array<Array<number | string>>): string {
  const file = join(dir, name);
  writeFileSync(file, [header, ...rows.map((r) => r.join(','))].join('\n'));
  return file;
}

describe('train --formula', () => {
  const dir = suiteTempDir('formula-cli');
  const u = uniform(7);
  // The seed example: y = 500 (1 - e^(-0.0002 x)) + noise, x in [0, 20000).
  const saturating = csv(dir, 'sat.csv', 'x,y', Array.from({ length: 200 }, (_, i) => [i * 100, 500 * (1 - Math.exp(-2e-4 * i * 100)) + (u() - 0.5) * 0.2]));
  const seedArgs = ['--formula', 'y ~ b1*(1-exp(-b2*x))', '--start', 'b1=500,b2=1e-4', '--data', saturating, '--optimizer', 'adam', '--lr', '1e-5', '--schedule', 'cosine:2000', '--epochs', '2000'];

  it('fits the seed example from --start b1=500,b2=1e-4, the same on the fast CPU path and the float64 twin', async () => {
    const fast = await trainJson([...seedArgs, '--device', 'cpu']);
    expect(fast.model).toBe('formula');
    expect(fast.params.b1).toBeCloseTo(500, 1);
    expect(Math.abs(fast.params.b2 - 2e-4)).toBeLessThan(1e-7);
    expect(fast.metrics.r2).toBeGreaterThan(0.9999);
    for (const k of ['loss', 'gradNorm', 'epochs', 'updates', 'rows', 'droppedRows', 'device', 'adapter', 'stopReason']) expect(fast).toHaveProperty(k);
    expect(fast).toMatchObject({ epochs: 2000, updates: 2000, rows: 200, droppedRows: 0, device: 'cpu', adapter: null, stopReason: 'max-epochs', lossFunction: 'mse' });
    const twin = await trainJson([...seedArgs, '--device', 'cpu64']);
    expect(twin.params.b1).toBeCloseTo(fast.params.b1, 6);
    expect(twin.params.b2 / fast.params.b2).toBeCloseTo(1, 6);
  });

  it('auto says on stderr where a formula runs', async () => {
    const r = await run(['train', ...seedArgs.slice(0, 6), '--epochs', '5', '--json']);
    expect(r.code).toBe(0);
    // Here: SwiftShader, a software adapter, or no adapter at all; on a hardware adapter auto trains on the GPU.
    const out = JSON.parse(r.out);
    if (out.device === 'cpu') expect(r.err).toMatch(/using the CPU/);
    else expect(out).toMatchObject({ device: 'gpu', adapter: expect.any(String) });
  }, 120_000);

  it('recovers a line through outliers with huber:1 (mse is pulled away)', async () => {
    const g = uniform(11);
    const rows = Array.from({ length: 400 }, (_, i) => {
      const x = (i / 400) * 4 - 2;
      const outlier = i % 40 === 0 ? 60 : 0;
      return [x, 2 * x + 1 + (g() - 0.5) * 0.1 + outlier];
    });
    const data = csv(dir, 'outliers.csv', 'x,y', rows);
    const common = ['--formula', 'y ~ a*x + c', '--start', 'a=0,c=0', '--data', data, '--optimizer', 'adam', '--lr', '0.05', '--schedule', 'cosine:1500', '--epochs', '1500', '--device', 'cpu64'];
    const huber = await trainJson([...common, '--loss', 'huber:1']);
    expect(huber.lossFunction).toBe('huber:1');
    expect(huber.params.a).toBeCloseTo(2, 1);
    expect(huber.params.c).toBeCloseTo(1, 1);
    const mse = await trainJson(common);
    expect(Math.abs(mse.params.c - 1)).toBeGreaterThan(0.5);
  });

  it('recovers a Poisson regression with a log link (weights column: weight 0 rows are ignored)', async () => {
    const g = uniform(5);
    const poissonDraw = (mean: number) => {
      const limit = Math.exp(-mean);
      let k = 0;
      for (let p = g(); p > limit; p *= g()) k++;
      return k;
    };
    const rows = Array.from({ length: 3000 }, (_, i) => {
      const x = (i / 3000) * 2;
      const junk = i % 10 === 0;
      return [x, junk ? 500 : poissonDraw(Math.exp(-1 + 0.8 * x)), junk ? 0 : 1];
    });
    const data = csv(dir, 'counts.csv', 'x,count,w', rows);
    const r = await trainJson(['--formula', 'count ~ exp(a + b*x)', '--loss', 'poisson', '--weights', 'w', '--start', 'a=0,b=0', '--data', data,
      '--optimizer', 'adam', '--lr', '0.02', '--schedule', 'cosine:1500', '--epochs', '1500', '--device', 'cpu64']);
    expect(r.params.a).toBeCloseTo(-1, 1);
    expect(r.params.b).toBeCloseTo(0.8, 1);
  });

  it('linear(...) names its weights w_<col> and its bias b, starting at 0', async () => {
    const data = csv(dir, 'lin.csv', 'x1,x2,y', Array.from({ length: 50 }, (_, i) => [i / 50, (i % 7) / 7, 3 * (i / 50) - 2 * ((i % 7) / 7) + 0.5]));
    const r = await trainJson(['--formula', 'y ~ linear(x1, x2)', '--data', data, '--optimizer', 'adam', '--lr', '0.05', '--epochs', '2000', '--schedule', 'cosine:2000', '--device', 'cpu64']);
    expect(Object.keys(r.params)).toEqual(['w_x1', 'w_x2', 'b']);
    expect(r.params.w_x1).toBeCloseTo(3, 2);
    expect(r.params.w_x2).toBeCloseTo(-2, 2);
    expect(r.params.b).toBeCloseTo(0.5, 2);
  });

  it('save, then resume to the same total, equals the run without a break (mini-batches, adam); predict and evaluate', async () => {
    const args = [...seedArgs.slice(0, 6), '--optimizer', 'adam', '--lr', '1e-5', '--batch-size', '32', '--seed', '3', '--device', 'cpu'];
    const whole = join(dir, 'whole.json');
    const half = join(dir, 'half.json');
    const a = await trainJson([...args, '--epochs', '40', '--save', whole]);
    await trainJson([...args, '--epochs', '20', '--save', half]);
    const saved = JSON.parse(readFileSync(half, 'utf8'));
    expect(saved.model).toMatchObject({ kind: 'formula', formula: 'y ~ b1*(1-exp(-b2*x))', loss: 'mse', weights: null, params: ['b1', 'b2'] });
    expect(saved.training.start).toEqual({ b1: 500, b2: 1e-4 });
    const b = await trainJson(['--resume', half, '--epochs', '40', '--data', saturating, '--device', 'cpu']);
    expect(b.params).toEqual(a.params);
    expect(b.loss).toBe(a.loss);
    // A flag that agrees with the file is accepted; one that contradicts it is refused.
    await trainJson(['--resume', half, '--epochs', '21', '--data', saturating, '--formula', 'y ~ b1 * (1 - exp(-b2 * x))', '--loss', 'mse', '--start', 'b2=1e-4,b1=500', '--device', 'cpu']);
    await refused(['train', '--resume', half, '--data', saturating, '--formula', 'y ~ b1*x'], /--formula "y ~ b1\*x": .*half\.json was trained with --formula "y ~ b1\*\(1-exp\(-b2\*x\)\)"/);
    await refused(['train', '--resume', half, '--data', saturating, '--loss', 'mae'], /--loss mae: .* was trained with --loss mse/);
    await refused(['train', '--resume', half, '--data', saturating, '--lr', '0.1'], /--lr 0.1: .* was trained with --lr 0.00001/);
    await refused(['train', '--resume', half, '--data', saturating, '--hidden', '4'], /--hidden/);

    const p = await run(['predict', '--model', whole, '--data', saturating, '--json']);
    expect(p.code).toBe(0);
    const preds = JSON.parse(p.out);
    expect(preds.predictions).toHaveLength(200);
    expect(preds.predictions[0]).toBe(0);
    expect(preds.predictions[100]).toBeCloseTo(a.params.b1 * (1 - Math.exp(-a.params.b2 * 10000)), 6);
    const text = await run(['predict', '--model', whole, '--data', saturating]);
    expect(text.out.split('\n')).toHaveLength(200);
    const e = await run(['evaluate', '--model', whole, '--data', saturating, '--json']);
    expect(e.code).toBe(0);
    const ev = JSON.parse(e.out);
    expect(ev.rows).toBe(200);
    expect(ev.metrics.loss).toBeCloseTo(a.loss, 8);
    expect(ev.metrics.mse).toBeCloseTo(a.loss, 8);
    expect(ev.metrics.r2).toBeGreaterThan(0.99);
    await refused(['evaluate', '--model', whole, '--data', saturating, '--target', 'x'], /--target: .* whose target is y/);
  });

  it('evaluate reports accuracy for a logistic formula', async () => {
    const rows = Array.from({ length: 100 }, (_, i) => [i / 10, i / 10 > 4.5 ? 1 : 0]);
    const data = csv(dir, 'cls.csv', 'x,y', rows);
    const file = join(dir, 'cls.json');
    const r = await trainJson(['--formula', 'y ~ a*(x - c)', '--loss', 'logistic', '--start', 'a=1,c=0', '--data', data, '--optimizer', 'adam', '--lr', '0.1', '--epochs', '500', '--device', 'cpu64', '--save', file]);
    expect(r.metrics.accuracy).toBe(1);
    const e = await run(['evaluate', '--model', file, '--data', data, '--json']);
    expect(JSON.parse(e.out).metrics).toMatchObject({ accuracy: 1 });
    expect(JSON.parse(e.out).metrics.mse).toBeUndefined();
  });

  it('--stream trains as the rows in memory do (full batch and mini-batches), on both CPU paths; a bad row is named by its line', async () => {
    for (const extra of [[], ['--batch-size', '32', '--seed', '4']]) {
      const args = [...seedArgs.slice(0, 6), '--optimizer', 'adam', '--lr', '1e-5', '--epochs', '30', ...extra];
      const memory = await trainJson([...args, '--device', 'cpu64']);
      const streamed = await trainJson([...args, '--device', 'cpu64', '--stream', '--chunk-mb', '0.001']);
      expect(streamed.rows).toBe(200);
      if (extra.length === 0) {
        expect(streamed.params.b1).toBeCloseTo(memory.params.b1, 9);
        expect(streamed.params.b2 / memory.params.b2).toBeCloseTo(1, 9);
        expect(streamed.metrics.r2).toBeCloseTo(memory.metrics.r2, 9);
      }
      const fast = await trainJson([...args, '--device', 'cpu', '--stream', '--chunk-mb', '0.001']);
      expect(fast.params.b1).toBeCloseTo(streamed.params.b1, 6);
    }
    const counts = csv(dir, 'neg-stream.csv', 'x,y', [...Array.from({ length: 300 }, (_, i) => [i, 1]), [1, -2]]);
    await refused(['train', '--formula', 'y ~ exp(a*x)', '--loss', 'poisson', '--start', 'a=0', '--data', counts, '--stream', '--chunk-mb', '0.001'],
      /neg-stream\.csv line 302: the poisson loss cannot use target y = -2 in kept row 301/);
  });

  it('divergence is exit 3 with the last good parameters', async () => {
    const r = await run(['train', ...seedArgs.slice(0, 6), '--lr', '10', '--epochs', '50', '--device', 'cpu64']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/diverged at epoch \d+; kept the parameters of epoch \d+ \(b1 = [-\d.e]+, b2 = [-\d.e]+\)/);
  });

  it('a step outside the formula\'s domain, the last one too, is exit 3 naming the first row where it is not finite', async () => {
    const dir = suiteTempDir('formula-cli-domain');
    const data = csv(dir, 'logs.csv', 'x,y', Array.from({ length: 50 }, (_, i) => [1 + i / 5, 0]));
    for (const device of ['cpu', 'cpu64']) {
      const r = await run(['train', '--formula', 'y ~ 10*log(x - a)', '--start', 'a=-1', '--data', data, '--lr', '1', '--epochs', '1', '--device', device]);
      expect(r.code, r.err).toBe(3);
      expect(r.err).toMatch(/diverged at epoch 1; kept the parameters of epoch 0 \(a = -1\)/);
      expect(r.err).toMatch(/logs\.csv line 2: the model is not finite on kept row 1 at the parameters it stepped to \(yhat = NaN, .*x = 1, y = 0, a = [\d.e+]+\)/);
    }
    // Mini-batches: the update that failed, its epoch, and the update whose parameters were kept.
    const batches = await run(['train', '--formula', 'y ~ 10*log(x - a)', '--start', 'a=-1', '--data', data, '--lr', '1', '--epochs', '5', '--batch-size', '10', '--seed', '1', '--device', 'cpu']);
    expect(batches.code, batches.err).toBe(3);
    expect(batches.err).toMatch(/diverged at update 1 \(epoch 1\); kept the starting parameters \(a = -1\)/);
  });
});

describe('train --formula: bad input is exit 2, named', () => {
  const dir = suiteTempDir('formula-cli-bad');
  const good = csv(dir, 'good.csv', 'x,y', [[1, 2], [2, 3], [3, 5]]);
  const f = ['train', '--formula'];

  it('a parameter without a starting value, named', async () => {
    await refused([...f, 'y ~ b1*(1-exp(-b2*x))', '--start', 'b1=500', '--data', good], /--start: no starting value for "b2"/);
    await refused([...f, 'y ~ b*x', '--start', 'b=1,x=2', '--data', good], /--start: "x" is not a parameter of the model \(it is a column of the data\)/);
    await refused([...f, 'y ~ b*x', '--start', 'b=one', '--data', good], /--start \(b\): expected a number, got "one"/);
  });

  it('--start with a name every JavaScript object has is an unknown name, given once', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      await refused([...f, 'y ~ b*x', '--start', `b=1,${name}=1`, '--data', good], new RegExp(`--start: "${name}" is not a parameter of the model; parameters: b$`));
    }
    await refused([...f, 'y ~ b*x', '--start', 'b=1,b=2', '--data', good], /--start: "b" is given twice/);
  });

  it('an unknown function or a syntax error prints the formula with a caret under the place', async () => {
    const err = await refused([...f, 'y ~ b*foo(x)', '--start', 'b=1', '--data', good], /--formula: unknown function "foo"/);
    expect(err).toContain('  y ~ b*foo(x)\n        ^');
    const syntax = await refused([...f, 'y ~ b*(x', '--data', good], /--formula: the "\(" opened at column 7 is not closed: expected "\)"/);
    expect(syntax.split('\n')).toHaveLength(3);
    await refused([...f, 'y ~ b*x', '--loss', 'squared', '--data', good], /--loss: unknown loss "squared"/);
    await refused([...f, 'y ~ b*x', '--loss', 'huber:-1', '--data', good], /--loss: δ must be positive/);
  });

  it('a loss that cannot use the target names the file and line', async () => {
    const counts = csv(dir, 'neg.csv', 'x,y', [[1, 2], [2, -1], [3, 4]]);
    await refused([...f, 'y ~ exp(a*x)', '--loss', 'poisson', '--start', 'a=0', '--data', counts], /neg\.csv line 3: the poisson loss cannot use target y = -1/);
    const labels = csv(dir, 'labels.csv', 'x,y', [[1, 0], [2, 1], [3, 2.5]]);
    await refused([...f, 'y ~ sigmoid(a*x)', '--loss', 'cross-entropy', '--start', 'a=0', '--data', labels], /labels\.csv line 4: the cross-entropy loss cannot use target y = 2\.5/);
  });

  it('row weights that are all 0 leave nothing to fit: exit 2 naming the column, in memory, streamed and for a fit', async () => {
    const zero = csv(dir, 'zero-w.csv', 'x,w,y', [[1, 0, 2], [2, 0, 3], [3, 0, 5]]);
    const args = [...f, 'y ~ a*x', '--start', 'a=1', '--weights', 'w', '--data', zero];
    const expected = /zero-w\.csv, column "w": every row's weight in column "w" is 0: the loss is 0 whatever the parameters/;
    await refused(args, expected);
    await refused([...args, '--stream'], expected);
    await refused([...args, '--optimizer', 'lm'], expected);
  });

  it('a model not finite at the start names the row and line', async () => {
    const data = csv(dir, 'domain.csv', 'x,y', [[1, 2], [2, 3], ['', 9], [-3, 5]]);
    await refused([...f, 'y ~ log(b*x)', '--start', 'b=1', '--data', data], /domain\.csv line 5: the model is not finite on kept row 3 at the starting parameters \(yhat = NaN.*x = -3.*b = 1/);
  });

  it('a non-numeric cell names file, line and column', async () => {
    const data = csv(dir, 'text.csv', 'x,y', [[1, 2], [2, 3], ['abc', 4]]);
    await refused([...f, 'y ~ b*x', '--start', 'b=1', '--data', data], /text\.csv line 4, column "x": "abc" is not a number/);
    await refused([...f, 'z ~ b*x', '--start', 'b=1', '--data', good], /column "z": no such target column/);
    await refused([...f, 'y ~ b*x', '--start', 'b=1', '--weights', 'w', '--data', good], /--weights: .*column "w": no such weights column; the columns are "x", "y"/);
    await refused([...f, 'y ~ b*x', '--start', 'b=1', '--weights', 'y', '--data', good], /^nabla: --weights: y is the formula's target; the row weights must be another column/);
  });

  it('flags that cannot apply', async () => {
    for (const [flag, value] of [['--model', 'mlp'], ['--hidden', '4'], ['--activation', 'tanh'], ['--classes', 'a,b'], ['--features', 'x'], ['--target', 'y']]) {
      await refused([...f, 'y ~ b*x', '--start', 'b=1', '--data', good, flag, value], new RegExp(`^nabla: ${flag}: does not apply with --formula`));
    }
    for (const [flag, value] of [['--start', 'b=1'], ['--weights', 'w']]) {
      await refused(['train', '--data', good, '--target', 'y', flag, value], new RegExp(`^nabla: ${flag}: applies to formula models only`));
    }
    // --loss also applies to a network on the model trainer, not to the linear model's default path.
    await refused(['train', '--data', good, '--target', 'y', '--loss', 'mae'], /^nabla: --loss: the linear model's default path .* trains the squared error only/);
    await refused([...f, 'y ~ b*x', '--start', 'b=1', '--data', good, '--seed', '2'], /--seed: .* applies with --batch-size/);
    await refused([...f, 'y ~ b*x', '--start', 'b=1', '--data', good, '--tol', '1e-6', '--batch-size', '2'], /--tol/);
    await refused([...f, 'y ~ b*x', '--start', 'b=1'], /--data: required with --formula/);
  });

  it('--no-standardize is accepted: formula models are never standardized', async () => {
    const r = await run([...f, 'y ~ b*x', '--start', 'b=1', '--data', good, '--no-standardize', '--epochs', '3', '--device', 'cpu64', '--json']);
    expect(r.code).toBe(0);
    // The float64 twin ran, and the JSON says so as the text does.
    expect(JSON.parse(r.out).device).toBe('cpu64');
  });

  it('a resume to fewer epochs than the file holds is refused, naming --epochs', async () => {
    const saved = join(dir, 'ten.json');
    expect((await run([...f, 'y ~ b*x', '--start', 'b=1', '--data', good, '--lr', '0.01', '--epochs', '10', '--device', 'cpu', '--save', saved])).code).toBe(0);
    await refused(['train', '--resume', saved, '--data', good, '--epochs', '4', '--device', 'cpu'], /^nabla: --epochs 4: .*ten\.json already has 10 epochs.* total to reach/);
  });

  it('evaluate of a weighted model on a file without its weights column names the weights column; predict needs none', async () => {
    const weighted = csv(dir, 'weighted.csv', 'x,y,w', [[1, 2, 1], [2, 3, 2], [3, 5, 0]]);
    const saved = join(dir, 'weighted.json');
    expect((await run([...f, 'y ~ b*x', '--start', 'b=1', '--weights', 'w', '--data', weighted, '--epochs', '3', '--device', 'cpu', '--save', saved])).code).toBe(0);
    await refused(['evaluate', '--model', saved, '--data', good],
      /^nabla: .*good\.csv, column "w": no such weights column; the columns are "x", "y"\. .*weighted\.json was trained with --weights w: its loss J is the mean over rows weighted by w, so evaluate needs that column/);
    const predicted = await run(['predict', '--model', saved, '--data', good]);
    expect(predicted.code, predicted.err).toBe(0);
    expect(predicted.out.split('\n')).toHaveLength(3);
    expect((await run(['evaluate', '--model', saved, '--data', weighted])).code).toBe(0);
  });

  it('a damaged model file is named with its field, not as a flag the user never gave', async () => {
    const saved = join(dir, 'm.json');
    expect((await run([...f, 'y ~ b*x', '--start', 'b=1', '--data', good, '--epochs', '3', '--device', 'cpu', '--save', saved])).code).toBe(0);
    const file = JSON.parse(readFileSync(saved, 'utf8'));
    const damaged = (name: string, model: object) => {
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify({ ...file, model: { ...file.model, ...model } }));
      return path;
    };
    const formula = damaged('formula.json', { formula: 'y ~ b*x+(b' });
    const loss = damaged('loss.json', { loss: 'huber:-1' });
    for (const command of ['predict', 'evaluate']) {
      await refused([command, '--model', formula, '--data', good], /^nabla: .*formula\.json: not a usable nabla formula model file \(model\.formula: the "\(" opened/);
      await refused([command, '--model', loss, '--data', good], /^nabla: .*loss\.json: not a usable nabla formula model file \(model\.loss: δ must be positive/);
    }
  });
});

describe('derive', () => {
  it('prints each step with its rule, then the chain rule per parameter', async () => {
    const r = await run(['derive', '--formula', 'y ~ b1*(1-exp(-b2*x))', '--columns', 'x']);
    expect(r.code).toBe(0);
    for (const rule of ['power rule', 'difference rule', 'constant multiple', 'exponential rule', 'chain rule']) expect(r.out).toContain(rule);
    expect(r.out).toContain('dℓ/dŷ = 2 * (yhat - y)');
    expect(r.out).toContain('∂ŷ/∂b1 = 1 - exp(-b2 * x)');
    expect(r.out).toMatch(/∂ℓ\/∂b2 = dℓ\/dŷ · ∂ŷ\/∂b2 = 2 \* \(yhat - y\) \* /);
    expect(r.out.indexOf('1. dℓ/dŷ')).toBeLessThan(r.out.indexOf('2. ∂ŷ/∂b1'));
  });

  it('states the subgradient where there is no derivative', async () => {
    const r = await run(['derive', '--formula', 'y ~ a*x', '--loss', 'mae', '--params', 'a']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('absolute value');
    expect(r.out).toContain('at u = 0 the subgradient 0 is taken');
  });

  it('--json gives the expressions as formula text and LaTeX, and every step', async () => {
    const r = await run(['derive', '--formula', 'y ~ b1*(1-exp(-b2*x))', '--params', 'b1,b2', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ formula: 'y ~ b1*(1-exp(-b2*x))', target: 'y', loss: 'mse', params: ['b1', 'b2'], features: ['x'], dLossDyhat: '2 * (yhat - y)' });
    expect(j.partials.b1.dModel).toBe('1 - exp(-b2 * x)');
    expect(j.partials.b2.steps.map((s: { rule: string }) => s.rule)).toContain('exponential rule: (e^u)\' = e^u u\', chain rule');
    expect(j.partials.b2.steps[0]).toHaveProperty('of');
    expect(j.partials.b2.steps[0]).toHaveProperty('result');
    expect(j.partials.b2.partialLatex).toContain('\\exp');
  });

  it('takes the columns from a data file, and refuses bad input', async () => {
    const dir = testTempDir('formula-derive');
    const data = csv(dir, 'd.csv', 'x,y', [[1, 2]]);
    const r = await run(['derive', '--formula', 'y ~ b*x', '--data', data, '--json']);
    expect(JSON.parse(r.out).params).toEqual(['b']);
    await refused(['derive', '--formula', 'y ~ b*x'], /--formula: say which names are columns/);
    await refused(['derive', '--formula', 'y ~ b*x', '--columns', 'x', '--params', 'b'], /--params: give one of/);
    await refused(['derive', '--formula', 'y ~ sin(x'], /--formula: .*\n {2}y ~ sin\(x\n {11}\^/);
    await refused(['derive'], /--formula: required for derive/);
  });

  it('refuses listed names that are not in the formula; the target may be listed as a column', async () => {
    await refused(['derive', '--formula', 'y ~ a*x', '--columns', 'q'], /^nabla: --columns: q is not in the formula "y ~ a\*x"/);
    await refused(['derive', '--formula', 'y ~ a*x', '--columns', 'x,q,r'], /^nabla: --columns: q, r are not in the formula/);
    await refused(['derive', '--formula', 'y ~ a*x', '--params', 'a,b'], /^nabla: --params: b is not in the formula/);
    // Before the parameter check was the model's own, a lone unknown name made every name a column.
    await refused(['derive', '--formula', 'y ~ b1*(1-exp(-b2*x))', '--params', 'b3'], /^nabla: --params: b3 is not in the formula "y ~ b1\*\(1-exp\(-b2\*x\)\)" \(its names: /);
    await refused(['derive', '--formula', 'y ~ a*x', '--params', 'a,y'], /^nabla: --params: y is the formula's target/);
    const r = await run(['derive', '--formula', 'y ~ a*x', '--columns', 'x,y', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ params: ['a'], features: ['x'] });
  });
});
