import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';
import { makeXor } from '../model-data.ts';
import { suiteTempDir } from '../temp-dir.ts';

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
  const dir = suiteTempDir('model');
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

describe('--resume refuses flags that contradict the saved model', () => {
  const dir = suiteTempDir('resume');
  const data = xorCsv(dir);
  const saved = join(dir, 'r.json');
  const base = ['--data', data, '--target', 'label', '--device', 'cpu'];

  it('saves a model to resume', async () => {
    const t = io();
    expect(await modelTrainCommand([...base, '--model', 'mlp', '--hidden', '6', '--activation', 'tanh', '--optimizer', 'momentum', '--momentum', '0.8',
      '--lr', '0.05', '--schedule', 'cosine:40', '--weight-decay', '0.001', '--seed', '3', '--epochs', '10', '--save', saved, '--json'], t.io)).toBe(0);
  });

  const cases: Array<[string[], RegExp]> = [
    [['--lr', '0.5'], /--lr 0\.5: .*r\.json was trained with --lr 0\.05; a resume continues/],
    [['--optimizer', 'adam'], /--optimizer adam: .*trained with --optimizer momentum/],
    [['--momentum', '0.9'], /--momentum 0\.9: .*trained with --momentum 0\.8/],
    [['--weight-decay', '0'], /--weight-decay 0: .*trained with --weight-decay 0\.001/],
    [['--schedule', 'constant'], /--schedule constant: .* was trained with --schedule cosine:/],
    [['--model', 'softmax'], /--model softmax: .*trained with --model mlp 2-6-2 \(tanh\)/],
    [['--hidden', '8'], /--hidden 8: .*trained with --hidden 6/],
    [['--activation', 'relu'], /--activation relu: .*trained with --activation tanh/],
    [['--features', 'b,a'], /--features b,a: .*trained with --features a,b/],
    [['--no-standardize'], /--no-standardize: .*trained with standardized features/],
    [['--seed', '4'], /--seed 4: .*trained with --seed 3/],
    [['--classes', 'yes,no'], /--classes yes,no: .*trained with the classes no,yes/],
    [['--batch-size', '8'], /--batch-size 8: .*trained with full batches/],
  ];
  for (const [flags, pattern] of cases) {
    it(`refuses ${flags.join(' ')}`, async () => {
      await refused((o) => modelTrainCommand([...base, '--resume', saved, '--epochs', '20', ...flags], o), pattern);
    });
  }

  it('accepts flags that agree with the saved model, and those a resume may change', async () => {
    const next = join(dir, 'next.json');
    const t = io();
    expect(await modelTrainCommand([...base, '--resume', saved, '--lr', '0.05', '--optimizer', 'momentum', '--hidden', '6', '--model', 'mlp',
      '--epochs', '20', '--save', next, '--json', '--on-invalid', 'error'], t.io), t.err.join('\n')).toBe(0);
    expect(JSON.parse(t.out[0])).toMatchObject({ model: 'mlp', epochs: 20 });
  });
});

describe('--classes, output paths, predict columns, internal errors', () => {
  const dir = suiteTempDir('classes');
  const data = xorCsv(dir);
  const base = ['--data', data, '--target', 'label', '--device', 'cpu', '--epochs', '3', '--json'];

  it('a number target that is not whole is no set of classes: a classifier refuses it, suggesting a regression', async () => {
    const continuous = join(dir, 'continuous.csv');
    writeFileSync(continuous, `x,y\n${Array.from({ length: 40 }, (_, i) => `${i / 40},${(1.7 * i / 40 + 0.3).toFixed(4)}`).join('\n')}\n`);
    for (const model of ['mlp', 'softmax']) {
      await refused((o) => modelTrainCommand(['--data', continuous, '--target', 'y', '--model', model, '--device', 'cpu', '--epochs', '1'], o),
        new RegExp(`--model ${model}: the target "y" holds 40 distinct numbers, not all whole \\(0\\.\\d+\\): a classifier wants class labels; for a number target use --model linear`));
    }
    // Whole numbers are labels.
    const whole = join(dir, 'whole.csv');
    writeFileSync(whole, `x,y\n${Array.from({ length: 40 }, (_, i) => `${i / 40},${i % 3}`).join('\n')}\n`);
    expect(await modelTrainCommand(['--data', whole, '--target', 'y', '--model', 'softmax', '--device', 'cpu', '--epochs', '1'], io().io)).toBe(0);
  });

  it('--classes fixes the classes and their order (a class absent from the data is allowed)', async () => {
    const t = io();
    expect(await modelTrainCommand([...base, '--model', 'softmax', '--classes', 'yes,no,maybe'], t.io)).toBe(0);
    const r = JSON.parse(t.out[0]);
    expect(r.classes).toEqual(['yes', 'no', 'maybe']);
    expect(r.metrics.confusion).toHaveLength(3);
    expect(r.parameters).toHaveLength(3 * 3); // softmax: K (d + 1)
  });

  it('--classes refuses a label it does not list, naming file, line and column', async () => {
    await refused((o) => modelTrainCommand([...base, '--model', 'softmax', '--classes', 'yes,maybe'], o), /xor\.csv line \d+, column "label": class "no" is not one the model knows \(yes, maybe\)/);
  });

  it('--save into a missing folder is refused before the data is read or anything trains', async () => {
    const r = io();
    expect(await modelTrainCommand([...base, '--model', 'mlp', '--save', join(dir, 'nope', 'm.json')], r.io)).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err).toEqual([`nabla: --save: cannot write "${join(dir, 'nope', 'm.json')}": the folder "${join(dir, 'nope')}" does not exist`]);
  });

  it('predict on a file lacking a feature lists only the real columns', async () => {
    const model = join(dir, 'm.json');
    expect(await modelTrainCommand([...base, '--model', 'logistic', '--save', model], io().io)).toBe(0);
    const other = join(dir, 'other.csv');
    writeFileSync(other, 'a,c\n1,2\n3,4\n');
    await refused((o) => predictCommand(['--model', model, '--data', other], o), /other\.csv, column "b": no such feature column; the columns are "a", "c"$/);
    const r = io();
    await predictCommand(['--model', model, '--data', other], r.io);
    expect(r.err.join('')).not.toContain('\u0000');
    // A row without a feature has no prediction, and predict says so.
    const holey = join(dir, 'holey.json');
    writeFileSync(holey, JSON.stringify([{ a: 1, b: 2 }, { a: 3, b: null }, { a: 0, b: 0 }]));
    const h = io();
    expect(await predictCommand(['--model', model, '--data', holey], h.io)).toBe(0);
    expect(h.out[0].split('\n')).toHaveLength(2);
    expect(h.err).toEqual(['nabla: 1 row(s) with a missing feature were dropped and have no prediction']);
    const j = io();
    expect(await predictCommand(['--model', model, '--data', holey, '--json'], j.io)).toBe(0);
    expect(JSON.parse(j.out[0])).toMatchObject({ rows: 2, droppedRows: 1 });
    expect(JSON.parse(j.out[0]).predictions).toHaveLength(2);
  });

  it('a RangeError thrown in the GPU page is bad input on the host (exit 2), its message without the page\'s stack', async () => {
    const { reportError } = await import('../../src/cli/main.ts');
    const { hostError } = await import('../../src/cli/gpu-session.ts');
    const fromPage = new Error('page.evaluate: RangeError: the model needs 903 sums\n    at evaluate (http://127.0.0.1:1/nabla-engine.js:1:1)');
    const host = hostError(fromPage);
    expect(host).toBeInstanceOf(RangeError);
    const r = io();
    expect(reportError(host, r.io, false)).toBe(2);
    expect(r.err).toEqual(['nabla: the model needs 903 sums']);
    // A start that is not finite stays a StartDivergenceError (the CLI names its row in the file's units).
    const { StartDivergenceError } = await import('../../src/models/model-engine.ts');
    const start = hostError(new Error('page.evaluate: StartDivergenceError: training diverged at the initial parameters: loss NaN; check the starting parameters\n    at x (y:1:1)'));
    expect(start).toBeInstanceOf(StartDivergenceError);
    expect((start as Error).message).toBe('training diverged at the initial parameters: loss NaN; check the starting parameters');
    expect((start as InstanceType<typeof StartDivergenceError>).update).toBe(0);
    const bug = new Error('page.evaluate: TypeError: x is undefined');
    expect(hostError(bug)).toBe(bug);
    expect(hostError('text')).toBe('text');
  });

  it('an internal error is one line, exit 1; NABLA_DEBUG=1 adds the stack', async () => {
    const { reportError } = await import('../../src/cli/main.ts');
    const bug = new TypeError('x is undefined\nmore detail');
    const r = io();
    expect(reportError(bug, r.io, false)).toBe(1);
    expect(r.err).toEqual(['nabla: x is undefined (internal error; NABLA_DEBUG=1 prints the details)']);
    const d = io();
    expect(reportError(bug, d.io, true)).toBe(1);
    expect(d.err.join('\n')).toMatch(/TypeError: x is undefined[\s\S]*\n\s+at /);
  });
});

describe('train --model: loss names, target rows, resume epochs, devices', () => {
  const dir = suiteTempDir('model-report');
  const labels = join(dir, 'labels.csv');
  writeFileSync(labels, `x,y\n${Array.from({ length: 40 }, (_, i) => `${i / 10},${i % 3 === 0 || i > 25 ? 1 : 0}`).join('\n')}\n`);
  const onLabels = ['--data', labels, '--target', 'y'];
  const logistic = [...onLabels, '--model', 'logistic', '--device', 'cpu', '--epochs', '5', '--json'];
  const metricsOf = async (argv: string[]) => {
    const t = io();
    expect(await modelTrainCommand(argv, t.io), t.err.join('\n')).toBe(0);
    return JSON.parse(t.out[0]).metrics;
  };

  it('a classifier trained under --loss reports that loss by its name, not as logLoss, in memory and streamed', async () => {
    for (const stream of [[], ['--stream']]) {
      const m = await metricsOf([...logistic, '--loss', 'mse', ...stream]);
      expect(m).not.toHaveProperty('logLoss');
      expect(m).toMatchObject({ lossFunction: 'mse', loss: expect.any(Number) });
    }
    expect(await metricsOf(logistic)).toMatchObject({ logLoss: expect.any(Number) });
    const model = join(dir, 'mse.json');
    expect(await modelTrainCommand([...logistic, '--loss', 'mse', '--save', model], io().io)).toBe(0);
    const e = io();
    expect(await evaluateCommand(['--model', model, '--data', labels, '--json'], e.io)).toBe(0);
    expect(JSON.parse(e.out[0]).metrics).toMatchObject({ lossFunction: 'mse' });
  });

  it('a regression network trained under --loss reports that loss beside MSE and R², in memory, streamed and in evaluate', async () => {
    const numbers = join(dir, 'numbers.csv');
    writeFileSync(numbers, `x,y\n${Array.from({ length: 40 }, (_, i) => `${i / 10},${(Math.sin(i / 10) + (i % 7) / 10).toFixed(4)}`).join('\n')}\n`);
    const args = ['--data', numbers, '--target', 'y', '--model', 'mlp', '--hidden', '4', '--loss', 'huber:0.5', '--device', 'cpu', '--epochs', '5', '--json'];
    const trained = async (more: string[]) => {
      const t = io();
      expect(await modelTrainCommand([...args, ...more], t.io), t.err.join('\n')).toBe(0);
      return JSON.parse(t.out[0]);
    };
    const inMemory = await trained([]);
    expect(inMemory.metrics).toMatchObject({ lossFunction: 'huber:0.5', mse: expect.any(Number), r2: expect.any(Number) });
    // The metrics' loss is J at the returned parameters, the report's loss (that one summed by the fast path in float32).
    expect(Math.abs(inMemory.metrics.loss / inMemory.loss - 1)).toBeLessThan(1e-6);
    const streamed = await trained(['--stream']);
    expect(Math.abs(streamed.metrics.loss / streamed.loss - 1)).toBeLessThan(1e-6);
    const model = join(dir, 'huber-mlp.json');
    expect(await modelTrainCommand([...args, '--save', model], io().io)).toBe(0);
    const e = io();
    expect(await evaluateCommand(['--model', model, '--data', numbers, '--json'], e.io)).toBe(0);
    expect(JSON.parse(e.out[0]).metrics).toMatchObject({ lossFunction: 'huber:0.5', loss: expect.any(Number) });
  });

  it('a target the --loss cannot use is named by file and line', async () => {
    const negative = join(dir, 'negative.csv');
    writeFileSync(negative, 'x,y\n1,2\n2,\n3,-0.5\n4,1\n');
    await refused((o) => modelTrainCommand(['--data', negative, '--target', 'y', '--model', 'mlp', '--hidden', '3', '--loss', 'poisson', '--device', 'cpu', '--epochs', '2'], o),
      /^nabla: .*negative\.csv line 4: the poisson loss cannot use target y = -0\.5 in kept row 2: expected a count/);
  });

  it('a resume to fewer epochs than the file holds is refused, naming --epochs', async () => {
    const model = join(dir, 'ten.json');
    expect(await modelTrainCommand([...onLabels, '--model', 'logistic', '--device', 'cpu', '--epochs', '10', '--save', model], io().io)).toBe(0);
    await refused((o) => modelTrainCommand(['--resume', model, '--data', labels, '--epochs', '4', '--device', 'cpu'], o), /^nabla: --epochs 4: .*ten\.json already has 10 epochs.* total to reach/);
  });

  it('the float64 twin is reported as cpu64 (network and linear models)', async () => {
    for (const argv of [[...onLabels, '--model', 'logistic', '--device', 'cpu64', '--epochs', '5', '--json'], [...onLabels, '--device', 'cpu64', '--json']]) {
      const t = io();
      expect(await modelTrainCommand(argv, t.io), t.err.join('\n')).toBe(0);
      expect(JSON.parse(t.out[0]).device).toBe('cpu64');
    }
  });
});
