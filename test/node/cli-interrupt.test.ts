// Ctrl-C during `nabla train`, as a user sends it: `node bin/nabla.mjs` in a child process, SIGINT once epoch
// lines show it is mid-run. The first stops at the last whole epoch, reports, saves and exits 130, and the saved
// file resumed to the same total ends where an unbroken run ends; a second exits at once, writing nothing.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { suiteTempDir } from '../temp-dir.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TIMEOUT_MS = 120_000;
const INTERRUPTED = 130;

interface Stopped { code: number | null; stdout: string; stderr: string; msToExit: number }

/**
 * Runs nabla and sends `signals` SIGINTs: the first once stderr matches `when`, each further one once the CLI
 * has said it is stopping (a signal sent before the first is handled could merge with it).
 */
function interrupted(args: string[], when: RegExp, signals = 1): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/nabla.mjs', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    let sent = 0;
    let firstAt = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS - 10_000);
    child.stdout.on('data', (b: Buffer) => { stdout += b; });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b;
      const due = sent === 0 ? when.test(stderr) : sent < signals && /interrupted: stopping/.test(stderr);
      if (!due) return;
      if (sent++ === 0) firstAt = performance.now();
      child.kill('SIGINT');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (sent === 0) reject(new Error(`nabla ${args.join(' ')} ended before it was interrupted (exit ${code}):\n${stderr}`));
      else resolve({ code, stdout, stderr, msToExit: performance.now() - firstAt });
    });
  });
}

function nabla(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/nabla.mjs', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b; });
    child.stderr.on('data', (b: Buffer) => { stderr += b; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Rows of y = 3 x1 - 2 x2 + 1 + noise from a seeded generator: the same file on every run. */
function writeRows(file: string, rows: number): string {
  let s = 12345;
  const u = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = ['x1,x2,y'];
  for (let i = 0; i < rows; i++) {
    const x1 = u();
    const x2 = u();
    lines.push(`${x1.toFixed(5)},${x2.toFixed(5)},${(3 * x1 - 2 * x2 + 1 + (u() - 0.5) * 0.2).toFixed(5)}`);
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const saved = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as { parameters: number[]; training: { state: { t: number } } };

/**
 * The interrupted run's report and file, then its resume to a few epochs past where it stopped against an
 * unbroken run to that total: the parameters are compared exactly (every path here is deterministic).
 */
async function checkStopAndResume(train: string[], save: string, rowsPerEpoch: number, when = /^epoch /m) {
  const stopped = await interrupted([...train, '--epochs', '1000000', '--save', save], when);
  expect(stopped.code, stopped.stderr).toBe(INTERRUPTED);
  expect(stopped.stderr).toMatch(/nabla: interrupted: stopping at the last whole epoch \(Ctrl-C again quits at once/);
  const report = stopped.stdout.match(/: aborted after (\d+) epochs/);
  expect(report, stopped.stdout).not.toBeNull();
  const epochs = Number(report![1]);
  expect(epochs).toBeGreaterThan(0);
  expect(stopped.stderr).toContain(`stopped by the user after ${epochs} whole epoch`);
  expect(stopped.stdout).toContain(`saved to ${save}`);
  // The file holds a whole epoch: a resume continues with the same batches.
  expect(saved(save).training.state.t).toBe(epochs * rowsPerEpoch);
  const total = String(epochs + 3);
  const resumed = await nabla(['train', '--resume', save, ...train.filter((a, i) => !isModelFlag(train, i)), '--epochs', total, '--save', `${save}.resumed`]);
  expect(resumed.code, resumed.stderr).toBe(0);
  const unbroken = await nabla([...train, '--epochs', total, '--save', `${save}.unbroken`]);
  expect(unbroken.code, unbroken.stderr).toBe(0);
  expect(saved(`${save}.resumed`).parameters).toEqual(saved(`${save}.unbroken`).parameters);
  return stopped;
}

/** Flags that a resume takes from its file (and refuses): the model, its formula and start. */
function isModelFlag(argv: string[], i: number): boolean {
  const flags = ['--model', '--formula', '--start', '--hidden', '--loss', '--optimizer', '--lr', '--seed'];
  return argv[i] === 'train' || flags.includes(argv[i]) || flags.includes(argv[i - 1]);
}

describe('Ctrl-C during nabla train', () => {
  const dir = suiteTempDir('interrupt');
  const rows = writeRows(join(dir, 'rows.csv'), 20_000);

  it('cpu64, an mlp by mini-batches in memory: stops at a whole epoch, saves, exits 130, and the resume is bit-exact', async () => {
    const train = ['train', '--device', 'cpu64', '--model', 'mlp', '--hidden', '6', '--loss', 'mse', '--target', 'y', '--data', rows, '--batch-size', '500', '--optimizer', 'adam', '--seed', '3'];
    const stopped = await checkStopAndResume(train, join(dir, 'mlp.json'), 20_000 / 500);
    expect(stopped.stdout).toMatch(/J = \S+, \|grad J\| = \S+\n/); // an evaluation at the saved parameters
    expect(stopped.stdout).toContain('mse = ');
  }, TIMEOUT_MS);

  it('--stream on the fast CPU path, a formula by mini-batches: the loss is said to be the last whole epoch\'s, and the resume is exact', async () => {
    const train = ['train', '--device', 'cpu', '--stream', '--formula', 'y ~ a*x1 + b*x2 + c', '--start', 'a=0,b=0,c=0', '--data', rows, '--batch-size', '1000', '--lr', '0.05'];
    const stopped = await checkStopAndResume(train, join(dir, 'stream.json'), 20_000 / 1000);
    expect(stopped.stdout).toContain("(the last whole epoch's mean over its batches: a stopped stream is not read again)");
    expect(stopped.stdout).not.toContain('mse = '); // no metrics: they would read the stream again
  }, TIMEOUT_MS);

  // Headless Chromium on SwiftShader (as formula-cli-gpu.test.ts): the stop reaches the page's job (abortGpuJob).
  it('--device gpu, a formula by mini-batches: the page stops at a whole epoch, and the resume ends where an unbroken run ends', async () => {
    const train = ['train', '--device', 'gpu', '--formula', 'y ~ a*x1 + b*x2 + c', '--start', 'a=0,b=0,c=0', '--data', rows, '--batch-size', '1000', '--lr', '0.05'];
    const stopped = await checkStopAndResume(train, join(dir, 'gpu.json'), 20_000 / 1000);
    expect(stopped.stdout).toMatch(/on gpu \(google swiftshader\): aborted/);
  }, TIMEOUT_MS);

  it('--device gpu, an mlp over a stream: stops, reports the last whole epoch\'s loss, exits 130', async () => {
    const save = join(dir, 'gpu-stream.json');
    const stopped = await interrupted(['train', '--device', 'gpu', '--stream', '--model', 'mlp', '--hidden', '4', '--loss', 'mse', '--target', 'y', '--data', rows,
      '--batch-size', '500', '--epochs', '1000000', '--save', save], /^epoch /m);
    expect(stopped.code, stopped.stderr).toBe(INTERRUPTED);
    expect(stopped.stdout).toMatch(/on gpu \(google swiftshader\): aborted after \d+ epochs/);
    expect(stopped.stdout).toContain("the last whole epoch's mean");
    expect(saved(save).training.state.t % (20_000 / 500)).toBe(0);
  }, TIMEOUT_MS);

  it('a second Ctrl-C quits at once with 130, reporting and writing nothing', async () => {
    // A fit over a long stream: the first Ctrl-C waits for the trial pass under way (seconds), the second does not.
    const many = writeRows(join(dir, 'many.csv'), 600_000);
    const save = join(dir, 'never.json');
    const stopped = await interrupted(['train', '--device', 'cpu64', '--stream', '--formula', 'y ~ a*exp(b*x1) + c*x2', '--start', 'a=1,b=0.1,c=0', '--data', many,
      '--optimizer', 'lm', '--save', save], /^iteration /m, 2);
    expect(stopped.code, stopped.stderr).toBe(INTERRUPTED);
    expect(stopped.stdout).toBe('');
    expect(stopped.stderr).not.toContain('stopped by the user');
    expect(readdirSync(dir).filter((f) => f.startsWith('never.json'))).toEqual([]);
  }, TIMEOUT_MS);

  it('--optimizer lm: stops at the last accepted step, reports "stopped by the user", exits 130', async () => {
    const many = writeRows(join(dir, 'fit.csv'), 300_000);
    const stopped = await interrupted(['train', '--device', 'cpu64', '--stream', '--formula', 'y ~ a*exp(b*x1) + c*x2', '--start', 'a=1,b=0.1,c=0', '--data', many, '--optimizer', 'lm'], /^iteration /m);
    expect(stopped.code, stopped.stderr).toBe(INTERRUPTED);
    expect(stopped.stdout).toMatch(/by Levenberg-Marquardt .*: aborted after \d+ iterations/);
    expect(stopped.stderr).toMatch(/the fit was stopped by the user after \d+ iterations/);
  }, TIMEOUT_MS);
});
