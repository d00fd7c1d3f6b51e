// End to end: `node bin/nabla.mjs ...` as a user runs it, on the CPU path (the GPU path is covered by the
// browser project). Checks stdout, stderr and the exit code of each run.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdirSync, rmSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readTable } from '../../src/data/table-file.ts';
import { selectLinearData } from '../../src/data/select.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import { gradientNorm } from '../../src/models/linear.ts';
import { linearFormulaModel } from '../../src/models/linear-formula.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { parseCli, type GradientArgs, type TrainArgs } from '../../src/cli/args.ts';
import { gpuChunksOnCpuError } from '../../src/cli/commands.ts';
import { runMain } from '../cli-main.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const fixture = (name: string) => `test/fixtures/${name}`;
const TIMEOUT_MS = 60_000;

// good.csv / good.json / missing.csv hold y = 2 x1 - 3 x2 + 1 exactly, so the optimum is (2, -3, 1) with
// J = 0. Training stops once |grad J| < tol = 1e-6 in standardized units; J is quadratic, so the distance
// to the optimum is at most |grad J| / lambda_min(H). For good.csv lambda_min of the standardized
// Hessian is 2 - 2 corr(x1, x2) = 0.47, so |delta theta_std| <= 2.2e-6; mapped back (w_j = yStd v_j / s_j
// with yStd / s_j ~ 2.1, b picks up sum_j mu_j delta w_j with mu ~ 4) that is <= ~5e-5 in w and b. The
// float32 rounding of the data adds ~1e-7 relative. 1e-4 bounds both; a wrong gradient, a wrong
// un-standardization or an early stop misses by far more (observed error ~3e-6).
const PARAM_TOL = 1e-4;

const TRAIN_KEYS = ['model', 'weights', 'bias', 'loss', 'gradNorm', 'epochs', 'rows', 'droppedRows', 'device', 'adapter', 'stopReason'];

interface Run { code: number; stdout: string; stderr: string }

function nabla(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['bin/nabla.mjs', ...args], { cwd: ROOT, timeout: TIMEOUT_MS - 5_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`nabla ${args.join(' ')} did not exit normally: ${err.message}\n${stderr}`));
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

function json(run: Run): Record<string, unknown> {
  expect(run.stdout.endsWith('\n')).toBe(true);
  expect(run.stdout.trim().split('\n'), 'stdout holds exactly one line of JSON').toHaveLength(1);
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

async function selected(name: string, features?: string[]) {
  return selectLinearData(await readTable(`${ROOT}/${fixture(name)}`), { target: 'y', features });
}

function expectExactFit(report: Record<string, unknown>) {
  const w = report.weights as Record<string, number>;
  expect(Object.keys(w)).toEqual(['x1', 'x2']);
  expect(Math.abs(w.x1 - 2), `w.x1 = ${w.x1}`).toBeLessThan(PARAM_TOL);
  expect(Math.abs(w.x2 + 3), `w.x2 = ${w.x2}`).toBeLessThan(PARAM_TOL);
  expect(Math.abs((report.bias as number) - 1), `bias = ${report.bias}`).toBeLessThan(PARAM_TOL);
}

describe('nabla train --device cpu', () => {
  for (const file of ['good.csv', 'good.json']) {
    it(`--json on ${file}: recovers y = 2 x1 - 3 x2 + 1, with the documented report`, async () => {
      const run = await nabla('train', '--data', fixture(file), '--target', 'y', '--device', 'cpu', '--json');
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe('');
      const r = json(run);
      expect(Object.keys(r).sort()).toEqual([...TRAIN_KEYS].sort());
      expect(r.model).toBe('linear');
      expect(r.device).toBe('cpu');
      expect(r.adapter).toBeNull();
      expect(r.stopReason).toBe('tolerance');
      expect(r.rows).toBe(9);
      expect(r.droppedRows).toBe(0);
      expect(Number.isInteger(r.epochs)).toBe(true);
      expect(r.epochs as number).toBeGreaterThan(0);
      expect(r.epochs as number).toBeLessThan(1000);
      expectExactFit(r);
      // At an exact fit the loss is ~0 (its scale: y values ~10, so J(0) ~ 30).
      expect(r.loss as number).toBeGreaterThanOrEqual(0);
      expect(r.loss as number).toBeLessThan(1e-8);
      expect(r.gradNorm as number).toBeLessThan(1e-3);
    }, TIMEOUT_MS);
  }

  it('missing.csv: drops the 4 rows with a missing target or feature and trains on 5', async () => {
    const run = await nabla('train', '--data', fixture('missing.csv'), '--target', 'y', '--device', 'cpu', '--json');
    expect(run.code, run.stderr).toBe(0);
    const r = json(run);
    expect(r.droppedRows).toBe(4);
    expect(r.rows).toBe(5);
    // The 5 complete rows still satisfy y = 2 x1 - 3 x2 + 1.
    expectExactFit(r);
  }, TIMEOUT_MS);

  it('missing.json: drops null, "NA" and absent values (3 rows), trains on 4', async () => {
    const run = await nabla('train', '--data', fixture('missing.json'), '--target', 'y', '--device', 'cpu', '--json');
    expect(run.code, run.stderr).toBe(0);
    const r = json(run);
    expect([r.rows, r.droppedRows]).toEqual([4, 3]);
    expectExactFit(r);
  }, TIMEOUT_MS);

  it('--no-standardize converges on raw features with a small enough lr and enough epochs', async () => {
    // Raw Hessian of good.csv: lambda_max = 90, so lr < 2 / 90 = 0.022 is stable; lambda_min = 0.46 makes
    // the error shrink by (1 - 0.02 * 0.46) per epoch: ~1400 epochs to |grad J| < 1e-6.
    const run = await nabla('train', '--data', fixture('good.csv'), '--target', 'y', '--device', 'cpu', '--json',
      '--no-standardize', '--lr', '0.02', '--epochs', '100000');
    expect(run.code, run.stderr).toBe(0);
    const r = json(run);
    expect(r.stopReason).toBe('tolerance');
    expect(r.epochs as number).toBeGreaterThan(100);
    expect(r.epochs as number).toBeLessThan(100_000);
    // Without standardization the reported gradient is the one training stopped on: below tol.
    expect(r.gradNorm as number).toBeLessThan(1e-6);
    expectExactFit(r);
  }, TIMEOUT_MS);

  it('--no-standardize with a huge lr diverges: exit 3, the last good parameters and a hint', async () => {
    // cpu64: the float64 twin, whose report must equal linearGradient bit for bit (the fast path sums in a
    // different order; cli-fast tests hold it to the twin with a tolerance).
    const run = await nabla('train', '--data', fixture('good.csv'), '--target', 'y', '--device', 'cpu64', '--json',
      '--no-standardize', '--lr', '1');
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/diverged/);
    expect(run.stderr).toMatch(/smaller --lr/);
    const r = json(run);
    expect(Object.keys(r).sort()).toEqual([...TRAIN_KEYS].sort());
    expect(r.stopReason).toBe('diverged');
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(Number.isFinite(r.gradNorm)).toBe(true);
    // Unstandardized, the report is J and |grad J| at the reported parameters on the same data, exactly: the
    // linear formula's float64 twin there. The hand-written sums agree to rounding (their order differs).
    const s = await selected('good.csv');
    const w = r.weights as Record<string, number>;
    const twin = new CpuFormulaEngine(linearFormulaModel(2), s.data, new Float64Array(3));
    const t = await twin.lossAndGradient([w.x1, w.x2, r.bias as number]);
    expect(r.loss).toBe(t.loss);
    expect(r.gradNorm).toBe(gradientNorm({ loss: t.loss, gradW: t.grad.subarray(0, 2), gradB: t.grad[2] }));
    const g = linearGradient(s.data, { w: [w.x1, w.x2], b: r.bias as number });
    expect(Math.abs(r.loss as number - g.loss)).toBeLessThanOrEqual(1e-14 * g.loss);
    // The stderr message names the failing evaluation: one after the kept epoch.
    expect(run.stderr).toContain(`diverged at epoch ${(r.epochs as number) + 1}`);
  }, TIMEOUT_MS);

  it('--stream with --batch-size: mini-batches over a stream with no other flag, as in memory', async () => {
    // One chunk holds all 9 rows, so the batches and their shuffled order are those of the in-memory run; the
    // streamed standardization statistics agree with the in-memory ones to ~1e-15, so the parameters agree to 1e-12.
    const common = ['train', '--data', fixture('good.csv'), '--target', 'y', '--device', 'cpu64', '--json', '--epochs', '30', '--lr', '0.05'];
    const streamed = await nabla(...common, '--batch-size', '4', '--stream');
    const memory = await nabla(...common, '--batch-size', '4');
    expect(streamed.code, streamed.stderr).toBe(0);
    expect(memory.code, memory.stderr).toBe(0);
    const [s, m] = [json(streamed), json(memory)];
    expect([s.epochs, s.stopReason]).toEqual([30, 'max-epochs']);
    for (const k of ['x1', 'x2']) expect(Math.abs((s.weights as Record<string, number>)[k] - (m.weights as Record<string, number>)[k])).toBeLessThan(1e-12);
    expect(Math.abs((s.bias as number) - (m.bias as number))).toBeLessThan(1e-12);
    // A batch larger than a chunk cannot be cut inside one: the flag is named, nothing is trained.
    const tooBig = await nabla(...common, '--stream', '--batch-size', '8', '--chunk-mb', '0.00005');
    expect(tooBig.code).toBe(2);
    expect(tooBig.stderr).toMatch(/--batch-size: 8 rows exceed a stream chunk of 4 rows/);
    expect(tooBig.stdout).toBe('');
  }, TIMEOUT_MS);

  it('without --json: a summary on stdout and progress on stderr', async () => {
    const run = await nabla('train', '--data', fixture('good.csv'), '--target', 'y', '--device', 'cpu');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^trained the linear model on 9 rows \(0 dropped\) with cpu in \d+\.\d\d s$/m);
    expect(run.stdout).toMatch(/^stopped: tolerance after \d+ epochs$/m);
    const wx1 = Number(/^ {2}w\[x1\] = (\S+)$/m.exec(run.stdout)?.[1]);
    const wx2 = Number(/^ {2}w\[x2\] = (\S+)$/m.exec(run.stdout)?.[1]);
    const b = Number(/^ {2}b = (\S+)$/m.exec(run.stdout)?.[1]);
    expect(Math.abs(wx1 - 2)).toBeLessThan(PARAM_TOL);
    expect(Math.abs(wx2 + 3)).toBeLessThan(PARAM_TOL);
    expect(Math.abs(b - 1)).toBeLessThan(PARAM_TOL);
    expect(run.stdout).toMatch(/^ {2}J = /m);
    expect(run.stdout).toMatch(/\|grad J\| = /);
    expect(run.stdout).not.toMatch(/^epoch/m);
    const [readLine, ...progress] = run.stderr.trim().split('\n');
    expect(readLine).toMatch(/^read 9 rows \(0 dropped\) from \S+good\.csv in \d+\.\d\d s$/);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    for (const line of progress) expect(line).toMatch(/^epoch +\d+ {2}loss \S+ {2}\|grad J\| \S+ {2}\S+ samples\/s$/);
    expect(progress[0]).toMatch(/^epoch +0 /);
  }, TIMEOUT_MS);

  it('with no --data: trains the built-in example y = 3x + 2 + noise', async () => {
    const run = await nabla('train', '--device', 'cpu', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/built-in example/);
    const r = json(run);
    const w = r.weights as Record<string, number>;
    expect(Object.keys(w)).toEqual(['x']);
    // Noise of standard deviation 1 over 10,000 rows with x in [0, 10): the fitted slope and intercept
    // have standard errors ~0.0035 and ~0.02, well inside these bounds.
    expect(Math.abs(w.x - 3)).toBeLessThan(0.05);
    expect(Math.abs((r.bias as number) - 2)).toBeLessThan(0.1);
    expect(r.rows).toBe(10_000);
    expect(r.stopReason).toBe('tolerance');
  }, TIMEOUT_MS);
});

describe('nabla gradient --device cpu', () => {
  it('--json equals linearGradient on the same selected data', async () => {
    const run = await nabla('gradient', '--data', fixture('good.csv'), '--target', 'y', '--device', 'cpu', '--json',
      '--weights', '0.5,1.25', '--bias=-0.75');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const r = json(run);
    expect(Object.keys(r).sort()).toEqual(['adapter', 'device', 'droppedRows', 'gradient', 'loss', 'rows']);
    const s = await selected('good.csv');
    const g = linearGradient(s.data, { w: [0.5, 1.25], b: -0.75 });
    // Same float64 code on the same float32 data, and JSON round-trips doubles: exactly equal.
    expect(r.loss).toBe(g.loss);
    expect(r.gradient).toEqual({ x1: g.gradW[0], x2: g.gradW[1], bias: g.gradB });
    expect(r.rows).toBe(9);
    expect(r.device).toBe('cpu');
    expect(r.adapter).toBeNull();
    expect(g.loss).toBeGreaterThan(1);
  }, TIMEOUT_MS);

  it('--json with --features in a chosen order and dropped rows', async () => {
    const run = await nabla('gradient', '--data', fixture('missing.csv'), '--target', 'y', '--features', 'x2,x1',
      '--device', 'cpu', '--json', '--weights=-3,2', '--bias', '1');
    expect(run.code, run.stderr).toBe(0);
    const r = json(run);
    const s = await selected('missing.csv', ['x2', 'x1']);
    const g = linearGradient(s.data, { w: [-3, 2], b: 1 });
    expect(r.gradient).toEqual({ x2: g.gradW[0], x1: g.gradW[1], bias: g.gradB });
    expect(Object.keys(r.gradient as object)).toEqual(['x2', 'x1', 'bias']);
    expect(r.rows).toBe(5);
    // (-3, 2, 1) is the exact fit.
    expect(r.loss).toBe(0);
  }, TIMEOUT_MS);

  it('without --json: J and each partial derivative on stdout', async () => {
    const run = await nabla('gradient', '--data', fixture('good.csv'), '--target', 'y', '--device', 'cpu',
      '--weights', '0.5,1.25', '--bias', '0');
    expect(run.code, run.stderr).toBe(0);
    const s = await selected('good.csv');
    const g = linearGradient(s.data, { w: [0.5, 1.25], b: 0 });
    expect(run.stdout).toContain(`J = ${g.loss} over 9 rows (0 dropped), on cpu`);
    expect(run.stdout).toContain(`dJ/dw[x1] = ${g.gradW[0]}`);
    expect(run.stdout).toContain(`dJ/dw[x2] = ${g.gradW[1]}`);
    expect(run.stdout).toContain(`dJ/db = ${g.gradB}`);
  }, TIMEOUT_MS);
});

describe('bad input: exit code 2, nothing on stdout, stderr says where', () => {
  const cases: Array<[string, string[], RegExp[]]> = [
    ['ragged.csv', ['train', '--data', fixture('ragged.csv'), '--target', 'y'], [/ragged\.csv/, /line 5\b/, /3 fields/, /header has 4/]],
    ['nonnumeric.csv with --features x1,x2', ['train', '--data', fixture('nonnumeric.csv'), '--target', 'y', '--features', 'x1,x2'],
      [/nonnumeric\.csv/, /line 7\b/, /column "x2"/, /"abc" is not a number/]],
    ['empty.csv', ['train', '--data', fixture('empty.csv'), '--target', 'y'], [/empty\.csv/, /empty/]],
    ['header-only.csv', ['train', '--data', fixture('header-only.csv'), '--target', 'y'], [/header-only\.csv/, /only a header/]],
    ['a missing file', ['train', '--data', fixture('cli-does-not-exist.csv'), '--target', 'y'], [/cli-does-not-exist\.csv/, /cannot read/]],
    ['a missing target column', ['train', '--data', fixture('good.csv'), '--target', 'price'], [/good\.csv/, /column "price"/, /no such target column/]],
    ['a missing feature column', ['train', '--data', fixture('good.csv'), '--target', 'y', '--features', 'x1,x9'], [/column "x9"/, /no such feature column/]],
    ['--lr abc', ['train', '--data', fixture('good.csv'), '--target', 'y', '--lr', 'abc'], [/--lr/, /"abc"/]],
    ['--bogus', ['train', '--bogus'], [/--bogus/]],
    ['gradient with the wrong number of weights', ['gradient', '--data', fixture('good.csv'), '--target', 'y', '--weights', '1,2,3', '--bias', '0'],
      [/--weights/, /3 values/, /2 features/]],
    ['gradient without --data', ['gradient', '--weights', '1', '--bias', '0'], [/--data/]],
  ];
  for (const [name, args, patterns] of cases) {
    it(name, async () => {
      const run = await nabla(...args, '--device', 'cpu');
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^nabla: /);
      for (const p of patterns) expect(run.stderr).toMatch(p);
      // A user error is a message, not a crash.
      expect(run.stderr).not.toMatch(/^\s+at /m);
    }, TIMEOUT_MS);
  }
});

describe('one parser: help, unknown and conflicting flags, output paths, no stack traces', () => {
  it('nabla help lists the commands; help COMMAND and COMMAND --help list its flags', async () => {
    const all = await nabla('help');
    expect(all.code).toBe(0);
    for (const c of ['train', 'gradient', 'predict', 'evaluate', 'convert']) expect(all.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    const a = await nabla('help', 'train');
    const b = await nabla('train', '--help');
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stdout).toBe(b.stdout);
    for (const flag of ['--resume F.json', '--classes', '--stream', '--on-invalid POLICY']) expect(a.stdout).toContain(flag);
    const p = await nabla('predict', '-h');
    expect(p.stdout).toContain('--model F.json');
    expect(p.stdout).not.toContain('--device');
  }, TIMEOUT_MS);

  const refusals: Array<[string, string[], RegExp]> = [
    ['an unknown flag', ['train', '--learning-rate', '0.1'], /train: unknown flag --learning-rate/],
    ['a flag of another command', ['gradient', '--data', fixture('good.csv'), '--target', 'y', '--weights', '1,1', '--bias', '0', '--epochs', '3'], /gradient: --epochs does not apply to gradient \(it is a flag of train;/],
    ['a flag given twice', ['train', '--epochs', '3', '--epochs', '4'], /--epochs: given more than once/],
    ['a flag that does not apply to the model', ['train', '--data', fixture('good.csv'), '--target', 'y', '--model', 'linear', '--classes', 'a,b'], /--classes: applies to classifiers/],
    ['--save into a missing folder, before any training', ['train', '--data', fixture('good.csv'), '--target', 'y', '--save', 'test/no-such-folder/m.json'],
      /--save: cannot write "test\/no-such-folder\/m\.json": the folder "test\/no-such-folder" does not exist/],
    ['convert OUT into a missing folder', ['convert', fixture('good.csv'), 'test/no-such-folder/x.f32', '--target', 'y'], /convert OUT: cannot write .*does not exist/],
    ['convert OUT that is a folder', ['convert', fixture('good.csv'), 'test/fixtures/folder.f32', '--target', 'y'], /convert OUT: cannot write "test\/fixtures\/folder\.f32": it is a folder/],
    // Nothing can be written in /proc, not even by root, whom a permission check would let through.
    ['--save into a folder nothing can be written to, before any training', ['train', '--data', fixture('good.csv'), '--target', 'y', '--save', '/proc/m.json'],
      /--save: cannot write "\/proc\/m\.json": the folder "\/proc" is not writable \(E[A-Z]+\)/],
    ['convert OUT into a folder nothing can be written to', ['convert', fixture('good.csv'), '/proc/x.f32', '--target', 'y'], /convert OUT: cannot write "\/proc\/x\.f32": the folder "\/proc" is not writable/],
  ];
  beforeAll(() => mkdirSync(`${ROOT}/test/fixtures/folder.f32`, { recursive: true }));
  afterAll(() => rmSync(`${ROOT}/test/fixtures/folder.f32`, { recursive: true, force: true }));
  for (const [name, args, pattern] of refusals) {
    it(`${name}: exit 2, one line naming it, nothing on stdout`, async () => {
      const run = await nabla(...args, ...(args[0] === 'convert' ? [] : ['--device', 'cpu']));
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(pattern);
      expect(run.stderr.trim().split('\n')).toHaveLength(1); // no progress: refused before any work
    }, TIMEOUT_MS);
  }
});

describe('--chunk-mb where --device auto runs on the CPU', () => {
  afterEach(() => vi.unstubAllEnvs());
  const noGpuRefusal = /^nabla: --chunk-mb: no GPU was found \(no hardware WebGPU adapter\), so --device auto runs on the CPU, where --chunk-mb does not apply/m;

  it('train and gradient without a GPU: exit 2 naming the flag, nothing on stdout', async () => {
    // A Chromium that cannot start: --device auto finds no adapter, as on a machine without a GPU.
    vi.stubEnv('NABLA_CHROMIUM', '/nonexistent/chromium');
    const train = await runMain(['train', '--data', fixture('good.csv'), '--target', 'y', '--epochs', '3', '--chunk-mb', '0.01']);
    expect(train.code, train.err).toBe(2);
    expect(train.out).toBe('');
    expect(train.err).toMatch(noGpuRefusal);
    expect(train.err).toMatch(/add --stream to size a stream's chunks$/);
    const gradient = await runMain(['gradient', '--data', fixture('good.csv'), '--target', 'y', '--weights', '3,-2', '--bias', '1', '--chunk-mb', '0.01']);
    expect(gradient.code, gradient.err).toBe(2);
    expect(gradient.out).toBe('');
    expect(gradient.err).toMatch(noGpuRefusal);
    // With --stream the flag sizes the stream's chunks, on the CPU too.
    const streamed = await runMain(['train', '--data', fixture('good.csv'), '--target', 'y', '--epochs', '3', '--chunk-mb', '0.01', '--stream', '--json']);
    expect(streamed.code, streamed.err).toBe(0);
  }, TIMEOUT_MS);

  it('the decision: refused only for GPU chunks on auto that ran on the CPU (a software adapter included)', () => {
    const train = (...flags: string[]) => parseCli(['train', '--data', 'd.csv', '--target', 'y', ...flags]) as TrainArgs;
    expect(gpuChunksOnCpuError(train('--chunk-mb', '1'), 'cpu')?.message).toMatch(/^--chunk-mb: no GPU was found/);
    expect(gpuChunksOnCpuError(train('--chunk-mb', '1'), 'gpu')).toBeNull();
    expect(gpuChunksOnCpuError(train('--chunk-mb', '1', '--stream'), 'cpu')).toBeNull();
    expect(gpuChunksOnCpuError(train('--chunk-mb', '1', '--device', 'gpu'), 'cpu')).toBeNull();
    expect(gpuChunksOnCpuError(train(), 'cpu')).toBeNull();
    const gradient = parseCli(['gradient', '--data', 'd.csv', '--target', 'y', '--weights', '1', '--bias', '0', '--chunk-mb', '1']) as GradientArgs;
    expect(gpuChunksOnCpuError(gradient, 'cpu')?.message).toMatch(/where --chunk-mb does not apply: it sizes GPU chunks; drop --chunk-mb$/);
  });
});

describe('no stack trace reaches a user', () => {
  it('--device gpu without a browser: exit 1, one line saying what is missing', async () => {
    const run = await new Promise<Run>((resolve) => {
      execFile(process.execPath, ['bin/nabla.mjs', 'train', '--device', 'gpu', '--epochs', '2'],
        { cwd: ROOT, timeout: TIMEOUT_MS - 5_000, env: { ...process.env, NABLA_CHROMIUM: '/nonexistent/chromium', NABLA_DEBUG: '' } },
        (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr }));
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^nabla: --device gpu: no WebGPU adapter: could not start Chromium at \/nonexistent\/chromium/)]);
    expect(run.stderr).not.toMatch(/internal error|^\s+at /m);
  }, TIMEOUT_MS);
});
