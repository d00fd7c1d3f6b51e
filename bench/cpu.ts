// The CPU bench: nabla's fast CPU path (src/cpu-fast, every core) against a plain single-threaded JS loop
// over the same work, jax-js on its WebAssembly (CPU) backend, and the float64 twin. Rows: the linear
// gradient at N = 2^22, d = 1 and 16 (FastCpuFormulaEngine over linearFormulaModel(d): its WebAssembly linear
// kernel, and its generated row sums beside it); the spirals MLP (2000 points, 64-64 tanh, Adam lr 0.01, full
// batch); the bench MLP (64-256-256-10 ReLU, Adam lr 1e-3, batches of 4096); wide logistic regressions,
// y ~ linear(x1..xd) at d = 128 to 2048 over 2^23 row elements (the generated row sums and the linear
// predictor's, and which 'auto' picks; the float64 twin). jax-js runs in this Node
// process on one thread (its worker pool needs a global Worker, which Node 20 lacks), through
// suite/jax-mlp.ts (backend 'wasm') for both MLP rows (it waits for each epoch; see there). Writes
// bench/results/<date>-cpu.json with the commit, the machine and the command.
//
//   npm run bench:cpu [-- --quick] [--threads N] [--no-jax] [--no-linear] [--no-mlp] [--no-wide] [--out FILE]
import { commandLine, gitState } from './provenance.ts';
import { mkdirSync } from 'node:fs';
import { BenchUsageError } from './args.ts';
import { isMain, writeResultFile } from './node-cli.ts';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { NodeWorkerPool } from '../src/cpu-fast/node-pool.ts';
import { mlpModel } from '../src/models/mlp.ts';
import { benchMlpModel, makeMlpData, MLP_LR, MLP_SEED } from './suite/mlp-data.ts';
import { jaxMlpPeer } from './suite/jax-mlp.ts';
import { linearRow, makeSpiralData, mlpRow, wideRow, type CpuLinearRow, type CpuMlpRow, type CpuWideRow } from './suite/cpu-suite.ts';

interface Options { quick: boolean; threads: number; jax: boolean; linear: boolean; mlp: boolean; wide: boolean; out: string | null }

/** The wide rows' widths, over WIDE_ELEMENTS row elements each: both sides of CPU_PREDICTOR_WIDTH and past V8's limit. */
const WIDE_DS = [128, 256, 384, 512, 640, 1024, 2048];
const WIDE_ELEMENTS = 2 ** 23;

export function parseCpuArgs(argv: readonly string[]): Options {
  const o: Options = { quick: false, threads: availableParallelism(), jax: true, linear: true, mlp: true, wide: true, out: null };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if ((a === '--threads' || a === '--out') && given.has(a)) throw new BenchUsageError(`${a} given twice`);
    given.add(a);
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new BenchUsageError(`${a}: needs a value`);
      // `--out --quick` would write to a file named --quick and run the full rows.
      if (v.startsWith('--')) throw new BenchUsageError(`${a}: needs a value, got the flag "${v}"`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--no-jax') o.jax = false;
    else if (a === '--no-linear') o.linear = false;
    else if (a === '--no-mlp') o.mlp = false;
    else if (a === '--no-wide') o.wide = false;
    else if (a === '--out') o.out = value();
    else if (a === '--threads') {
      const v = value();
      o.threads = Number(v);
      if (!(Number.isInteger(o.threads) && o.threads >= 1 && o.threads <= 256)) throw new BenchUsageError(`--threads: expected an integer in 1..256, got "${v}"`);
    } else throw new BenchUsageError(`unknown flag "${a}" (flags: --quick --threads N --no-jax --no-linear --no-mlp --no-wide --out FILE)`);
  }
  if (!o.linear && !o.mlp && !o.wide) throw new BenchUsageError('--no-linear, --no-mlp and --no-wide: nothing left to run');
  // jax-js runs in the MLP rows only (its linear peer misses the check over 2^22 rows, see main).
  if (!o.jax && !o.mlp) throw new BenchUsageError('--no-jax given with --no-mlp: jax-js runs in the MLP rows only');
  return o;
}

const fmt = (v: number | null, digits = 3) => (v === null || !Number.isFinite(v) ? '—' : Number(v.toPrecision(digits)).toString());
const ratio = (v: number | null) => (v === null ? '—' : `${v.toFixed(2)}×`);

function linearTable(rows: CpuLinearRow[]): string {
  const head = '| size | ms | GB/s | samples/s | vs plain loop | plain loop ms (GB/s) | generated kernel ms | vs generated | float64 twin ms | validation |';
  const lines = rows.map((r) => `| linear ∇J N=2^${Math.log2(r.n)} d=${r.d} (${r.kernel}) | ${fmt(r.fastMs)} | ${fmt(r.fastGbps)} | ${fmt(r.samplesPerSec)} | ${ratio(r.vsPlain)} | ${fmt(r.plainMs)} (${fmt(r.plainGbps)}) | ${fmt(r.generatedMs)} | ${ratio(r.vsGenerated)} | ${fmt(r.float64Ms)} | ${r.validation}; generated ${r.generatedValidation} |`);
  return [head, head.replace(/[^|]+/g, '---'), ...lines].join('\n');
}

function wideTable(rows: CpuWideRow[]): string {
  const head = '| size | auto picks | ms | GB/s | generated ms | linear predictor ms | predictor vs generated | float64 twin ms | validation |';
  const lines = rows.map((r) => `| ${r.formula}, ${r.loss}, N=${r.n} d=${r.d} | ${r.kernel} | ${fmt(r.fastMs)} | ${fmt(r.fastGbps)} | ${fmt(r.generatedMs)} | ${fmt(r.predictorMs)} | ${ratio(r.predictorVsGenerated)} | ${fmt(r.float64Ms)} | generated ${r.generatedValidation}; predictor ${r.predictorValidation} |`);
  return [head, head.replace(/[^|]+/g, '---'), ...lines].join('\n');
}

function mlpTable(rows: CpuMlpRow[]): string {
  const head = '| size | ms/epoch | samples/s | vs plain loop | plain loop ms | jax-js wasm ms | vs jax-js | float64 twin ms | last-epoch loss fast / plain / jax | validation |';
  const lines = rows.map((r) => `| ${r.job}: n=${r.n} batch=${r.batch} ${r.hidden.join('-')} ${r.activation}, ${r.epochs} epochs (${r.kernels}; plain loop ${r.plainEpochs}) | ${fmt(r.fastEpochMs)} | ${fmt(r.samplesPerSec)} | ${ratio(r.vsPlain)} | ${fmt(r.plainEpochMs)} | ${fmt(r.jaxEpochMs)} | ${ratio(r.vsJax)} | ${fmt(r.float64EpochMs)} | ${fmt(r.fastLoss, 4)} / ${fmt(r.plainLoss, 4)} / ${fmt(r.jaxLoss, 4)} | fast ${r.validation}; plain ${r.plainValidation}; jax ${r.jaxValidation} |`);
  return [head, head.replace(/[^|]+/g, '---'), ...lines].join('\n');
}

async function main(): Promise<number> {
  let o: Options;
  try {
    o = parseCpuArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof BenchUsageError)) throw e;
    process.stderr.write(`bench:cpu: ${(e as Error).message}\n`);
    return 2;
  }
  const { commit, dirty } = gitState();
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` };
  const command = commandLine(process.argv.slice(2), 'bench:cpu');
  // Other work on the machine slows the threaded path more than a one-thread loop: say how busy it was.
  const loadBefore = loadavg()[0];
  process.stdout.write(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}; fast path on ${o.threads} threads; commit ${commit?.slice(0, 12) ?? 'unknown'}${dirty ? ' + uncommitted changes' : ''}\n`);
  const pool = await NodeWorkerPool.create(o.threads);
  const linear: CpuLinearRow[] = [];
  const mlp: CpuMlpRow[] = [];
  const wide: CpuWideRow[] = [];
  try {
    if (o.mlp) {
      mlp.push(await mlpRow(pool, {
        job: 'spirals', config: mlpModel(2, [64, 64], 'tanh', 'bce'), data: makeSpiralData(2000), batch: 2000, lr: 0.01, seed: 1,
        epochs: o.quick ? 100 : 300, plainEpochs: o.quick ? 30 : 100, float64Epochs: o.quick ? 5 : 10,
      }, o.jax ? jaxMlpPeer('wasm') : null));
      mlp.push(await mlpRow(pool, {
        job: 'mlp-256', config: benchMlpModel(), data: makeMlpData(8192), batch: 4096, lr: MLP_LR, seed: MLP_SEED,
        epochs: o.quick ? 2 : 5, plainEpochs: 1, float64Epochs: 0,
      }, o.jax ? jaxMlpPeer('wasm') : null));
      process.stdout.write(`\n${mlpTable(mlp)}\n`);
    }
    // After the MLP rows: jax-js is not asked to hold 2^22 x 16 floats first. Its linear peer is left out:
    // its float32 sums over 2^22 rows miss the 1e-4 check (JAX_REL_TOL) here, so it would not be timed.
    if (o.linear) {
      for (const d of [1, 16]) linear.push(await linearRow(pool, 2 ** 22, d, o.quick ? 5 : 9, null));
      process.stdout.write(`\n${linearTable(linear)}\n`);
    }
    if (o.wide) {
      for (const d of WIDE_DS) wide.push(await wideRow(pool, Math.round(WIDE_ELEMENTS / d), d, o.quick ? 3 : 7));
      process.stdout.write(`\n${wideTable(wide)}\n`);
    }
  } finally {
    pool.dispose();
  }
  const date = new Date().toISOString();
  const file = o.out ?? `bench/results/${date.replace(/[:.]/g, '-')}-cpu.json`;
  mkdirSync(file.replace(/\/[^/]*$/, '') || '.', { recursive: true });
  const load = { before: loadBefore, after: loadavg()[0] };
  writeResultFile(file, { suite: 'cpu', commit, dirty, command, date, machine, load, threads: o.threads, quick: o.quick, linear, mlp, wide });
  process.stdout.write(`\n1-minute load average ${load.before.toFixed(1)} before, ${load.after.toFixed(1)} after (${machine.cores} cores)\nwrote ${file}\n`);
  const failed = [...linear.flatMap((r) => [r.validation, r.generatedValidation]), ...mlp.flatMap((r) => [r.validation, r.plainValidation]), ...wide.flatMap((r) => [r.generatedValidation, r.predictorValidation])]
    .some((v) => v.startsWith('failed'));
  return failed ? 1 : 0;
}

if (isMain(import.meta.url)) process.exitCode = await main();
