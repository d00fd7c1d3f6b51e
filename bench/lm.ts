// Curve fitting bench (`npm run bench:lm`): y ~ b1*(1-exp(-b2*x)) from the start a user would try
// (b1 = 500, b2 = 1e-4), on generated data at each size, fitted by
//   - nabla's whole CLI run (`nabla train --formula ... --optimizer lm --data FILE.f32`, process start-up and
//     reading the file included), on the fast CPU path, the float64 twin and the GPU (`--device gpu`: headless
//     Chromium's adapter, SwiftShader on a machine without one, whose name the row records);
//   - MINPACK's lmder through scipy.optimize.least_squares(method='lm') with the analytic Jacobian (when
//     python3 with scipy is installed), timing the fit alone (the data already in memory);
//   - ml-levenberg-marquardt, the package JavaScript users install, in this process (the fit alone), at the
//     sizes its time budget allows;
//   - gradient descent (Adam, nabla's fast CPU engine) to the RSS LM reached, for passes and seconds.
// Every answer is compared with the float64 fit of the same float32 data (the twin, tolerance 1e-14).
// Writes bench/results/<date>-lm.json with the command, commit and machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { levenbergMarquardt as mlLm } from 'ml-levenberg-marquardt';
import { encodeRawHeader } from '../src/data/raw-format.ts';
import { compileFormula, startingParameters } from '../src/formula/model.ts';
import { CpuFormulaEngine } from '../src/cpu/formula-engine.ts';
import { FastCpuFormulaEngine } from '../src/cpu-fast/formula-engine.ts';
import { NodeWorkerPool } from '../src/cpu-fast/node-pool.ts';
import { curveFit } from '../src/fit/curve-fit.ts';
import { optimizerConfig } from '../src/optim/config.ts';
import { commandLine, gitState } from './provenance.ts';
import { BenchUsageError } from './args.ts';
import { isMain, runCli, writeResultFile } from './node-cli.ts';

const FORMULA = 'y ~ b1*(1-exp(-b2*x))';
const START = { b1: 500, b2: 1e-4 };
const TRUE = { b1: 238.94, b2: 5.5e-4 };

export interface LmOptions { sizes: number[]; devices: string[]; mlBudget: number; gdN: number; gdEpochs: number; out: string | null }

const LM_DEVICES = ['auto', 'gpu', 'cpu', 'cpu64'];

/** Flags, checked before any data is generated: `--n abc` would otherwise fit empty data and write its result. */
export function parseLmArgs(argv: string[]): LmOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        n: { type: 'string', default: '1e4,1e6,1e7' },
        devices: { type: 'string', default: 'cpu,cpu64,gpu' },
        'ml-budget-s': { type: 'string', default: '120' },
        'gd-n': { type: 'string', default: '1e6' },
        'gd-epochs': { type: 'string', default: '3000' },
        out: { type: 'string' },
      },
    }));
  } catch (e) {
    throw new BenchUsageError((e as Error).message);
  }
  const count = (text: string, flag: string): number => {
    const v = Number(text);
    if (!text.trim() || !Number.isSafeInteger(v) || v < 1) throw new BenchUsageError(`--${flag}: expected a positive integer (1e6 accepted), got '${text}'`);
    return v;
  };
  const devices = values.devices!.split(',');
  const bad = devices.find((d) => !LM_DEVICES.includes(d));
  if (bad !== undefined) throw new BenchUsageError(`--devices: expected a comma list of ${LM_DEVICES.join(', ')}, got '${bad}'`);
  const mlBudget = Number(values['ml-budget-s']);
  if (!values['ml-budget-s']!.trim() || !(Number.isFinite(mlBudget) && mlBudget >= 0)) throw new BenchUsageError(`--ml-budget-s: expected seconds (0 or more), got '${values['ml-budget-s']}'`);
  return {
    sizes: values.n!.split(',').map((t) => count(t, 'n')), devices, mlBudget,
    gdN: count(values['gd-n']!, 'gd-n'), gdEpochs: count(values['gd-epochs']!, 'gd-epochs'), out: values.out ?? null,
  };
}

/** Seeded data: x uniform in [77, 760] (Misra1a's range), y = the curve + N(0, 0.1²) noise, as float32. */
function generate(n: number): { x: Float32Array; y: Float32Array } {
  let s = 12345;
  const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = 77 + 683 * u();
    const noise = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    y[i] = TRUE.b1 * (1 - Math.exp(-TRUE.b2 * x[i])) + 0.1 * noise;
  }
  return { x, y };
}

function writeRaw(path: string, x: Float32Array, y: Float32Array): void {
  const header = encodeRawHeader(['x'], 'y', x.length);
  const records = new Float32Array(2 * x.length);
  for (let i = 0; i < x.length; i++) {
    records[2 * i] = x[i];
    records[2 * i + 1] = y[i];
  }
  const out = new Uint8Array(header.length + records.byteLength);
  out.set(header, 0);
  out.set(new Uint8Array(records.buffer), header.length);
  writeFileSync(path, out);
}

const relErr = (p: Record<string, number>, ref: Record<string, number>) => Math.max(...Object.keys(ref).map((k) => Math.abs(p[k] - ref[k]) / Math.abs(ref[k])));

function cliFit(file: string, device: string) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['bin/nabla.mjs', 'train', '--formula', FORMULA, '--start', 'b1=500,b2=1e-4', '--optimizer', 'lm', '--data', file, '--device', device, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`nabla exited ${r.status}: ${r.stderr}`);
  const fit = JSON.parse(r.stdout);
  return { seconds, params: fit.params as Record<string, number>, rss: fit.rss as number, passes: fit.passes as number, iterations: fit.iterations as number, stopReason: fit.stopReason as string, device: fit.device as string, adapter: fit.adapter as string | null };
}

const SCIPY = `
import sys, time, json, numpy as np
from scipy.optimize import least_squares
d = np.fromfile(sys.argv[1], dtype=np.float32).astype(np.float64).reshape(-1, 2)
x, y = d[:, 0], d[:, 1]
def r(b): return b[0] * (1 - np.exp(-b[1] * x)) - y
def jac(b):
    e = np.exp(-b[1] * x)
    return np.stack([1 - e, b[0] * x * e], axis=1)
t0 = time.perf_counter()
res = least_squares(r, [500.0, 1e-4], jac=jac, method='lm')
t = time.perf_counter() - t0
print(json.dumps({"seconds": t, "b1": res.x[0], "b2": res.x[1], "rss": float(res.fun @ res.fun), "nfev": int(res.nfev), "njev": int(res.njev or 0), "status": int(res.status)}))
`;

function scipyFit(bin: string) {
  try {
    const out = execFileSync('python3', ['-c', SCIPY, bin], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const j = JSON.parse(out);
    return { seconds: j.seconds, params: { b1: j.b1, b2: j.b2 }, rss: j.rss, passes: j.nfev + j.njev, stopReason: `status ${j.status}` };
  } catch (e) {
    return { skipped: `python3 with scipy not available (${(e as Error).message.split('\n')[0]})` };
  }
}

function mlFit(x: Float32Array, y: Float32Array) {
  const t0 = performance.now();
  const r = mlLm({ x: Array.from(x), y: Array.from(y) }, ([b1, b2]: number[]) => (t: number) => b1 * (1 - Math.exp(-b2 * t)), {
    initialValues: [START.b1, START.b2], maxIterations: 1000,
  });
  return { seconds: (performance.now() - t0) / 1000, params: { b1: r.parameterValues[0], b2: r.parameterValues[1] }, iterations: r.iterations, rss: r.parameterError };
}

async function main({ sizes, devices, mlBudget, gdN, gdEpochs, out: outFlag }: LmOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nabla-bench-lm-'));
  const model = compileFormula({ formula: FORMULA }, { columns: ['x', 'y'] });
  const start = startingParameters(model, START);
  const rows: unknown[] = [];
  let mlSecondsPerRow = 0;
  try {
    for (const n of sizes) {
      const { x, y } = generate(n);
      const file = join(dir, `curve-${n}.f32`);
      const bin = join(dir, `curve-${n}.bin`);
      writeRaw(file, x, y);
      const pairs = new Float32Array(2 * n);
      for (let i = 0; i < n; i++) [pairs[2 * i], pairs[2 * i + 1]] = [x[i], y[i]];
      writeFileSync(bin, new Uint8Array(pairs.buffer));
      // The float64 answer for this float32 data: the twin, tight tolerances.
      const twin = new CpuFormulaEngine(model, { x, y, n, d: 1 }, start);
      const reference = await curveFit(model, n, (t) => twin.normalEquations(t), start, { ftol: 1e-14, xtol: 1e-14 });
      const row: Record<string, unknown> = { n, reference: { params: reference.params, rss: reference.rss } };
      for (const device of devices) {
        const r = cliFit(file, device);
        row[`nabla-${device}`] = { ...r, relErr: relErr(r.params, reference.params) };
        console.error(`n=${n} nabla ${device}: ${r.seconds.toFixed(2)} s, ${r.passes} passes, err ${relErr(r.params, reference.params).toExponential(2)}`);
      }
      const s = scipyFit(bin);
      row.minpack = 'params' in s ? { ...s, relErr: relErr(s.params as Record<string, number>, reference.params) } : s;
      if ('seconds' in s) console.error(`n=${n} MINPACK: ${s.seconds.toFixed(2)} s, ${s.passes} evaluations`);
      const estimate = mlSecondsPerRow * n;
      if ((mlSecondsPerRow === 0 && n <= 1e5) || (mlSecondsPerRow > 0 && estimate <= mlBudget)) {
        const t0 = performance.now();
        try {
          const m = mlFit(x, y);
          mlSecondsPerRow = m.seconds / n;
          row['ml-levenberg-marquardt'] = { ...m, relErr: relErr(m.params, reference.params) };
          console.error(`n=${n} ml-levenberg-marquardt: ${m.seconds.toFixed(2)} s, ${m.iterations} iterations`);
        } catch (e) {
          // A failure says nothing about how long a fit takes: the estimate stays with the last completed one.
          const seconds = (performance.now() - t0) / 1000;
          row['ml-levenberg-marquardt'] = { failed: (e as Error).message, seconds };
          console.error(`n=${n} ml-levenberg-marquardt failed after ${seconds.toFixed(2)} s: ${(e as Error).message}`);
        }
      } else {
        row['ml-levenberg-marquardt'] = {
          skipped: mlSecondsPerRow > 0 ? `estimated ${estimate.toFixed(0)} s from the last completed fit's time per row, over the ${mlBudget} s budget` : 'no completed fit at a smaller size to estimate from',
        };
      }
      rows.push(row);
    }
    const gd = await descentToRss(gdN, gdEpochs);
    const result = {
      bench: 'lm', command: commandLine(process.argv.slice(2), 'bench:lm'), ...gitState(), date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, formula: FORMULA, start: START, truth: TRUE, rows, gd,
    };
    const out = outFlag ?? join('bench', 'results', `${result.date.replace(/[:.]/g, '-')}-lm.json`);
    writeResultFile(out, result);
    console.log(`wrote ${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Gradient descent (Adam, the fast engine, in memory) from the same start: passes and seconds to LM's RSS (x 1.001), per learning rate. */
async function descentToRss(n: number, maxEpochs: number) {
  const model = compileFormula({ formula: FORMULA }, { columns: ['x', 'y'] });
  const start = startingParameters(model, START);
  const { x, y } = generate(n);
  const pool = await NodeWorkerPool.create();
  const engine = new FastCpuFormulaEngine(model, { x, y, n, d: 1 }, start, { pool });
  try {
    const t0 = performance.now();
    const lm = await curveFit(model, n, (t) => engine.normalEquations(t), start);
    const lmSeconds = (performance.now() - t0) / 1000;
    const target = (lm.rss / n) * 1.001;
    // Adam moves every parameter by about lr per step whatever its scale, so no one rate suits b1 ~ 10^2 and
    // b2 ~ 10^-4 together: the sweep gives descent its best chance.
    const sweep = [];
    for (const lr of [1, 1e-1, 1e-2, 1e-3, 1e-4]) {
      let reachedAt: number | null = null;
      const controller = new AbortController();
      const t1 = performance.now();
      const run = await engine.train({
        lr, maxEpochs, optimizer: optimizerConfig({ kind: 'adam' }), signal: controller.signal, reportEvery: 1,
        onEpoch: (e) => {
          if (reachedAt === null && e.loss <= target) {
            reachedAt = e.epoch;
            controller.abort();
          }
        },
      });
      sweep.push({ lr, reachedAtPass: reachedAt, passesRun: run.epochs, seconds: (performance.now() - t1) / 1000, finalMse: run.loss, stopReason: run.stopReason });
      console.error(`gd n=${n} adam lr=${lr}: ${reachedAt === null ? `not reached in ${run.epochs} passes (MSE ${run.loss.toPrecision(6)}, target ${target.toPrecision(6)})` : `reached at pass ${reachedAt}`}`);
    }
    return { n, targetMse: target, lm: { passes: lm.passes, seconds: lmSeconds, rss: lm.rss }, adam: sweep };
  } finally {
    engine.dispose();
    pool.dispose();
  }
}

if (isMain(import.meta.url)) await runCli('bench:lm', parseLmArgs, main);
