// Formula models on the CPU: rows/s of one gradient evaluation (loss and ∂J/∂θ over all rows) on the fast path
// (generated JS over float32 rows, 16 shards, 1 and N worker threads) against the float64 twin (the same
// generated code, one running sum on the calling thread). Each configuration is validated against the twin
// before it is timed (1e-9 of the largest value; the test holds it to the summation-order bound); it prints
// the median and the fastest of the repeats. Prints a table; writes nothing.
//
//   npx tsx bench/cpu-formula.ts [--log2n 20] [--threads 2] [--repeats 7]
import { availableParallelism, cpus, loadavg } from 'node:os';
import { compileFormula, startingParameters, type FormulaModel } from '../src/formula/model.ts';
import { formulaColumns, type FormulaData, type FormulaEngine } from '../src/models/formula.ts';
import { CpuFormulaEngine } from '../src/cpu/formula-engine.ts';
import { FastCpuFormulaEngine } from '../src/cpu-fast/formula-engine.ts';
import { NodeWorkerPool } from '../src/cpu-fast/node-pool.ts';
import { seededUniform } from '../src/data/shuffle.ts';

interface Job { name: string; formula: string; loss: string; columns: string[]; row: (u: () => number) => number[]; at: Record<string, number> }

const F16 = Array.from({ length: 16 }, (_, k) => `f${k + 1}`);
const JOBS: Job[] = [
  {
    name: 'y ~ b1*(1-exp(-b2*x)), mse', formula: 'y ~ b1*(1-exp(-b2*x))', loss: 'mse', columns: ['x', 'y'],
    row: (u) => { const x = 10 * u(); return [x, 4 * (1 - Math.exp(-0.3 * x)) + 0.1 * (u() - 0.5)]; },
    at: { b1: 3, b2: 0.5 },
  },
  {
    name: '16-feature linear(), huber:1.5', formula: 'y ~ linear()', loss: 'huber:1.5', columns: [...F16, 'y'],
    row: (u) => { const f = F16.map(() => u() - 0.5); return [...f, f.reduce((s, v, k) => s + (k - 8) * 0.3 * v, 0.2) + (u() - 0.5)]; },
    at: { b: 0.1, ...Object.fromEntries(F16.map((f, k) => [`w_${f}`, 0.01 * k])) },
  },
];

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

function dataFor(job: Job, n: number): { model: FormulaModel; data: FormulaData; at: Float64Array } {
  const model = compileFormula({ formula: job.formula, loss: job.loss }, { columns: job.columns });
  const layout = formulaColumns(model).map((c) => job.columns.indexOf(c));
  const target = job.columns.indexOf(model.target);
  const d = layout.length;
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  const u = seededUniform(5);
  for (let i = 0; i < n; i++) {
    const r = job.row(u);
    for (let k = 0; k < d; k++) x[i * d + k] = r[layout[k]];
    y[i] = r[target];
  }
  return { model, data: { x, y, n, d }, at: Float64Array.from(model.params, (p) => job.at[p]) };
}

/** Median and fastest of the repeats: on a machine shared with other work the fastest is the closer to the engine's own speed. */
async function timesMs(engine: FormulaEngine, at: Float64Array, repeats: number): Promise<{ median: number; min: number }> {
  await engine.lossAndGradient(at); // warm-up: V8 optimizes the generated function
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await engine.lossAndGradient(at);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0] };
}

async function main(): Promise<void> {
  const n = 2 ** option('log2n', 20);
  const threads = option('threads', Math.min(2, availableParallelism()));
  const repeats = option('repeats', 7);
  console.log(`# formula gradient, N = ${n}; ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, load ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  console.log('| job | engine | median ms | rows/s | vs twin | fastest ms | rows/s | vs twin | max |fast − twin| / max |twin value| |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  const pool = threads > 1 ? await NodeWorkerPool.create(threads) : null;
  try {
    for (const job of JOBS) {
      const { model, data, at } = dataFor(job, n);
      const start = startingParameters(model, job.at);
      const twin = new CpuFormulaEngine(model, data, start);
      const want = await twin.lossAndGradient(at);
      const twinMs = await timesMs(twin, at, repeats);
      const cells = (ms: number, base: number) => `${ms.toFixed(1)} | ${(n / (ms / 1000)).toExponential(2)} | ${(base / ms).toFixed(2)}×`;
      const row = (engine: string, t: { median: number; min: number }, diff: string) =>
        console.log(`| ${job.name} | ${engine} | ${cells(t.median, twinMs.median)} | ${cells(t.min, twinMs.min)} | ${diff} |`);
      row('float64 twin', twinMs, '—');
      for (const options of [{}, ...(pool ? [{ pool }] : [])]) {
        const fast = new FastCpuFormulaEngine(model, data, start, options);
        const got = await fast.lossAndGradient(at);
        const diffs = [...Array.from(got.grad, (g, j) => Math.abs(g - want.grad[j])), Math.abs(got.loss - want.loss)];
        // A sanity check before timing, not the test's bound (that one needs Σ|term| per output, a second pass).
        const scale = Math.max(...Array.from(want.grad, Math.abs), Math.abs(want.loss));
        const rel = Math.max(...diffs) / scale;
        if (!(rel <= 1e-9)) throw new Error(`${job.name}: fast path differs from the twin by ${rel} relative; not timed`);
        row(`fast, ${fast.threads} thread${fast.threads > 1 ? 's' : ''}`, await timesMs(fast, at, repeats), rel.toExponential(1));
        fast.dispose();
      }
      twin.dispose();
    }
  } finally {
    pool?.dispose();
  }
}

await main();
