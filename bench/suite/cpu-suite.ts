// The CPU bench's rows (bench/cpu.ts): nabla's fast CPU path (src/cpu-fast) against a plain
// single-threaded JS loop doing the same work (cpu-plain.ts), jax-js on its WebAssembly backend, and the
// float64 twin. Validate first (against float64), then time; a row that fails validation is not timed.
// Fast and plain samples are interleaved so a load change on a shared machine hits both alike. The linear
// rows run the linear model as the compiler does (FastCpuFormulaEngine over linearFormulaModel(d)), its
// pick (the WebAssembly linear kernel) beside its generic choice (the generated row sums).
import type { LinearData, LinearParams } from '../../src/models/linear.ts';
import type { ModelData, NetworkConfig } from '../../src/models/network.ts';
import { linearGradient } from '../../src/cpu/linear_partials.ts';
import { modelLossAndGradient } from '../../src/cpu/mlp_gradient.ts';
import { CpuModelEngine } from '../../src/cpu/cpu-model-engine.ts';
import { FastCpuModelEngine } from '../../src/cpu-fast/fast-engines.ts';
import { FastCpuFormulaEngine, type FormulaKernel } from '../../src/cpu-fast/formula-engine.ts';
import { CpuFormulaEngine } from '../../src/cpu/formula-engine.ts';
import { compileFormula } from '../../src/formula/model.ts';
import type { FormulaData } from '../../src/models/formula.ts';
import { seededUniform } from '../../src/data/shuffle.ts';
import { linearFormulaModel, linearGradient as asLinearGradient, linearTheta } from '../../src/models/linear-formula.ts';
import type { ShardPool } from '../../src/cpu-fast/pool.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { checkGradient, evaluationPoint, makeBenchData } from './data.ts';
import { summarize } from './gpu-timer.ts';
import { checkModelGradient, dataRows, epochMsFromStamps, initialTheta, MLP_GRAD_REL_TOL } from './mlp-data.ts';
import type { MlpTask, PeerMlpRunner } from './mlp-step.ts';
import type { LinearPeer } from './peers.ts';
import { PlainMlp, plainSum } from './cpu-plain.ts';

/** Fast vs float64 linear gradient: the same float64 loop per shard, 16 shard sums added in order. */
const FAST_LINEAR_REL_TOL = 1e-10;
/**
 * Generated row sums vs float64 linearGradient: float64 both, but each row's terms are formed and added in
 * another order, so the sums differ by rounding: at most about N·2^-53 of Σ|terms| (4.7e-10 at N = 2^22),
 * and at the evaluation point (features with non-zero means) |Σ terms| is within a small factor of Σ|terms|.
 * Measured 3e-15 to 1.3e-14 at N = 2^12 to 2^16 (d = 1, 16); a wrong kernel is off by O(1).
 */
const FAST_GENERATED_REL_TOL = 1e-8;
/** Fast vs float64 MLP gradient: float32 storage, float64 sums (test/node/cpu-fast.test.ts: GRAD_REL_TOL). */
const FAST_MLP_REL_TOL = 1e-6;

export interface CpuLinearRow {
  n: number;
  d: number;
  /** Median ms per full gradient. */
  fastMs: number | null;
  fastGbps: number | null;
  samplesPerSec: number | null;
  plainMs: number;
  plainGbps: number;
  /** plainMs / fastMs: above 1 = faster than one thread reading the same bytes. */
  vsPlain: number | null;
  float64Ms: number;
  jaxMs: number | null;
  vsJax: number | null;
  /** The kernel FastCpuFormulaEngine picked for the linear model: 'linear-wasm' (SIMD) or 'linear-js'. */
  kernel: FormulaKernel;
  /** The same engine forced to the generated row sums (kernel: 'generated'), timed interleaved with the pick. */
  generatedMs: number | null;
  /** generatedMs / fastMs: above 1 = the pick is faster. */
  vsGenerated: number | null;
  generatedValidation: string;
  validation: string;
  jaxValidation: string;
}

export interface CpuMlpRow {
  job: string;
  n: number;
  batch: number;
  kernels: string | null;
  hidden: number[];
  activation: string;
  epochs: number;
  plainEpochs: number;
  fastEpochMs: number | null;
  samplesPerSec: number | null;
  plainEpochMs: number | null;
  vsPlain: number | null;
  jaxEpochMs: number | null;
  vsJax: number | null;
  float64EpochMs: number | null;
  fastLoss: number | null;
  /** Mean batch loss of the last timed epoch (the plain loop's after plainEpochs). */
  plainLoss: number | null;
  jaxLoss: number | null;
  validation: string;
  plainValidation: string;
  jaxValidation: string;
}

function median(samples: number[]): number {
  return summarize(samples).median;
}

export let sink = 0;

export async function linearRow(pool: ShardPool, n: number, d: number, reps: number, jax: LinearPeer | null): Promise<CpuLinearRow> {
  // Each engine copies the data once (the SIMD kernel into its shared WebAssembly memory); not timed.
  const data: LinearData = makeBenchData(n, d);
  const { x, y } = data;
  const at: LinearParams = evaluationPoint(d);
  const theta = linearTheta(at);
  const bytes = (n * d + n) * 4;
  const t64 = performance.now();
  const want = linearGradient(data, at);
  const float64Ms = performance.now() - t64;
  const model = linearFormulaModel(d);
  const engine = new FastCpuFormulaEngine(model, data, theta, { pool });
  const generated = new FastCpuFormulaEngine(model, data, theta, { pool, kernel: 'generated' });
  const gradientOf = async (e: FastCpuFormulaEngine) => asLinearGradient(await e.lossAndGradient(theta));
  const check = checkGradient(await gradientOf(engine), want, FAST_LINEAR_REL_TOL);
  const generatedCheck = checkGradient(await gradientOf(generated), want, FAST_GENERATED_REL_TOL);
  const fast: number[] = [];
  const gen: number[] = [];
  const plain: number[] = [];
  for (let r = 0; r < reps + 1; r++) {
    let t0 = performance.now();
    if (check.ok) sink += (await engine.lossAndGradient(theta)).loss;
    const tf = performance.now() - t0;
    t0 = performance.now();
    if (generatedCheck.ok) sink += (await generated.lossAndGradient(theta)).loss;
    const tg = performance.now() - t0;
    t0 = performance.now();
    sink += plainSum(x) + plainSum(y);
    const tp = performance.now() - t0;
    if (r > 0) { // the first triple warms up
      fast.push(tf);
      gen.push(tg);
      plain.push(tp);
    }
  }
  const kernel = engine.kernel;
  engine.dispose();
  generated.dispose();
  const fastMs = check.ok ? median(fast) : null;
  const generatedMs = generatedCheck.ok ? median(gen) : null;
  const plainMs = median(plain);
  const jaxOut = jax ? await jax.gradient(data, at, want, { reps: Math.max(3, Math.floor(reps / 2)) }) : null;
  return {
    n, d, fastMs,
    fastGbps: fastMs && bytes / fastMs / 1e6,
    samplesPerSec: fastMs && (n / fastMs) * 1e3,
    plainMs, plainGbps: bytes / plainMs / 1e6,
    vsPlain: fastMs && plainMs / fastMs,
    float64Ms,
    jaxMs: jaxOut?.ms ?? null,
    vsJax: fastMs && jaxOut?.ms ? jaxOut.ms / fastMs : null,
    kernel,
    generatedMs,
    vsGenerated: fastMs && generatedMs ? generatedMs / fastMs : null,
    generatedValidation: generatedCheck.verdict,
    validation: check.verdict,
    jaxValidation: jaxOut?.validation ?? 'not run',
  };
}

/**
 * Fast path vs float64 twin on a wide generalised linear model: float64 both, each row's η summed in another
 * order (the predictor's loop in column order, or the generated tree), a few ulps of Σ|θ_c·x_c| a row;
 * measured below 1e-13 (test/node/formula-cpu-predictor.test.ts); a wrong kernel is off by O(1).
 */
const FAST_WIDE_REL_TOL = 1e-9;

export interface CpuWideRow {
  n: number;
  d: number;
  formula: string;
  loss: string;
  /** The kernel FastCpuFormulaEngine picks ('auto'): 'linear-predictor' from CPU_PREDICTOR_WIDTH columns, else 'generated'. */
  kernel: FormulaKernel;
  /** Median ms per full gradient of the pick (the one of the two below it is). */
  fastMs: number | null;
  fastGbps: number | null;
  /** The engine forced to the generated row sums, and to the linear predictor's, timed interleaved. */
  generatedMs: number | null;
  predictorMs: number | null;
  /** generatedMs / predictorMs: above 1 = the predictor's loops are faster. */
  predictorVsGenerated: number | null;
  /** One gradient of the float64 twin (the generated row sums on the calling thread): the reference. */
  float64Ms: number;
  generatedValidation: string;
  predictorValidation: string;
}

/** max |got − want| / max |want| over the loss and every partial, as a verdict. */
function wideVerdict(got: { loss: number; grad: ArrayLike<number> }, want: { loss: number; grad: ArrayLike<number> }): string {
  const a = [got.loss, ...Array.from(got.grad)];
  const b = [want.loss, ...Array.from(want.grad)];
  const scale = Math.max(...b.map(Math.abs));
  const err = Math.max(...a.map((v, k) => Math.abs(v - b[k]))) / scale;
  return err <= FAST_WIDE_REL_TOL ? `ok (${err.toExponential(1)} of the largest value)` : `failed: ${err.toExponential(2)} of the largest value, over ${FAST_WIDE_REL_TOL}`;
}

/**
 * y ~ linear(x1..xd) with the logistic loss over n rows of d features U[-1, 1) and labels drawn from the
 * model at a fixed θ: the fast path forced to its generated row sums and to the linear predictor's (which
 * of them 'auto' picks), each validated against the float64 twin, then timed.
 */
export async function wideRow(pool: ShardPool, n: number, d: number, reps: number): Promise<CpuWideRow> {
  const columns = Array.from({ length: d }, (_, k) => `x${k + 1}`);
  const model = compileFormula({ formula: 'y ~ linear()', loss: 'logistic' }, { columns: [...columns, 'y'] });
  const u = seededUniform(17);
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  const truth = Float64Array.from({ length: d }, (_, k) => ((k % 7) - 3) * 0.5 / Math.sqrt(d));
  for (let i = 0; i < n; i++) {
    let eta = 0.2;
    for (let k = 0; k < d; k++) {
      x[i * d + k] = 2 * u() - 1;
      eta += truth[k] * x[i * d + k];
    }
    y[i] = u() < 1 / (1 + Math.exp(-eta)) ? 1 : 0;
  }
  const data: FormulaData = { x, y, n, d };
  const theta = Float64Array.from(model.params, (_, j) => ((j % 5) - 2) * 0.02);
  const twin = new CpuFormulaEngine(model, data, theta);
  const t64 = performance.now();
  const want = await twin.lossAndGradient(theta);
  const float64Ms = performance.now() - t64;
  twin.dispose();
  const pick = new FastCpuFormulaEngine(model, data, theta, { pool });
  const kernel = pick.kernel;
  pick.dispose();
  const engines = (['generated', 'linear-predictor'] as const).map((k) => new FastCpuFormulaEngine(model, data, theta, { pool, kernel: k }));
  const verdicts = await Promise.all(engines.map(async (e) => wideVerdict(await e.lossAndGradient(theta), want)));
  const samples: number[][] = [[], []];
  for (let r = 0; r < reps + 1; r++) {
    for (const [k, e] of engines.entries()) {
      const t0 = performance.now();
      if (verdicts[k].startsWith('ok')) sink += (await e.lossAndGradient(theta)).loss;
      if (r > 0) samples[k].push(performance.now() - t0); // the first round warms up
    }
  }
  engines.forEach((e) => e.dispose());
  const [generatedMs, predictorMs] = samples.map((t, k) => (verdicts[k].startsWith('ok') ? median(t) : null));
  const fastMs = kernel === 'linear-predictor' ? predictorMs : generatedMs;
  return {
    n, d, formula: 'y ~ linear()', loss: 'logistic', kernel, fastMs, fastGbps: fastMs && ((n * d + n) * 4) / fastMs / 1e6,
    generatedMs, predictorMs, predictorVsGenerated: generatedMs && predictorMs ? generatedMs / predictorMs : null, float64Ms,
    generatedValidation: verdicts[0], predictorValidation: verdicts[1],
  };
}

export interface MlpJob {
  job: string;
  config: NetworkConfig;
  data: ModelData;
  batch: number;
  lr: number;
  seed: number;
  epochs: number;
  /** Timed epochs of the plain loop (it is 10-40x slower; a few seconds of it are enough). */
  plainEpochs: number;
  /** Epochs of the float64 twin to time (0: leave it out; it is ~50x slower). */
  float64Epochs: number;
}

/** Wall clock between train()'s onEpoch calls: 1 + epochs epochs, the first one the warm-up. */
async function timeEngine(engine: { train: CpuModelEngine['train'] }, task: MlpTask, epochs: number): Promise<{ epochMs: number | null; loss: number | null }> {
  const stamps: number[] = [];
  let loss: number | null = null;
  await engine.train({
    // The seed orders mini-batches only: the start is given, and a full batch has no order (train refuses it there).
    lr: task.lr, maxEpochs: 1 + epochs, batchSize: task.batch, ...(task.batch < task.data.n && { seed: task.seed }), init: task.theta0, optimizer: task.optimizer,
    onEpoch: (info) => {
      stamps.push(performance.now());
      loss = info.loss;
    },
  });
  return { epochMs: epochMsFromStamps(stamps), loss };
}

export async function mlpRow(pool: ShardPool, job: MlpJob, jax: PeerMlpRunner | null): Promise<CpuMlpRow> {
  const { config: c, data, batch, epochs } = job;
  const theta0 = initialTheta(c, job.seed);
  const first = dataRows(data, 0, Math.min(batch, data.n));
  const want = modelLossAndGradient(c, theta0, first);
  const task: MlpTask = { config: c, data, batch, epochs, theta0, seed: job.seed, lr: job.lr, optimizer: optimizerConfig({ kind: 'adam' }), want };
  const row: CpuMlpRow = {
    job: job.job, n: data.n, batch, kernels: null, hidden: c.hidden, activation: c.activation, epochs, plainEpochs: job.plainEpochs,
    fastEpochMs: null, samplesPerSec: null, plainEpochMs: null, vsPlain: null, jaxEpochMs: null, vsJax: null, float64EpochMs: null,
    fastLoss: null, plainLoss: null, jaxLoss: null, validation: 'not run', plainValidation: 'not run', jaxValidation: 'not run',
  };
  const probe = new FastCpuModelEngine(c, first, { pool });
  row.kernels = probe.kernels;
  const fastCheck = checkModelGradient(await probe.lossAndGradient(theta0), want, FAST_MLP_REL_TOL);
  probe.dispose();
  row.validation = fastCheck.verdict;
  const plain = new PlainMlp(c, theta0);
  const plainLoss = plain.lossAndGradient(first, 0, first.n);
  const plainCheck = checkModelGradient({ loss: plainLoss, grad: plain.gradient() }, want, MLP_GRAD_REL_TOL);
  row.plainValidation = plainCheck.verdict;
  if (fastCheck.ok) {
    const engine = new FastCpuModelEngine(c, data, { pool });
    const t = await timeEngine(engine, task, epochs);
    engine.dispose();
    row.fastEpochMs = t.epochMs;
    row.fastLoss = t.loss;
    row.samplesPerSec = t.epochMs && (data.n / t.epochMs) * 1e3;
  }
  if (plainCheck.ok) {
    const p = new PlainMlp(c, theta0).train(data, batch, job.seed, job.plainEpochs, task.optimizer, job.lr);
    row.plainEpochMs = p.epochMs;
    row.plainLoss = p.lastLoss;
    row.vsPlain = row.fastEpochMs && p.epochMs / row.fastEpochMs;
  }
  if (jax) {
    const j = await jax.run(task);
    row.jaxValidation = j.validation;
    row.jaxEpochMs = j.epochMs;
    row.jaxLoss = j.lastLoss;
    row.vsJax = row.fastEpochMs && j.epochMs ? j.epochMs / row.fastEpochMs : null;
  }
  if (job.float64Epochs > 0) row.float64EpochMs = (await timeEngine(new CpuModelEngine(c, data), task, job.float64Epochs)).epochMs;
  return row;
}

/** Two interleaved spirals in 2-D (classes 0 and 1), 1.5 turns, radius up to 1, a little noise. */
export function makeSpiralData(n: number, seed = 11): ModelData {
  let s = Math.imul(seed, 0x9e3779b1) | 1;
  const rand = () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const x = new Float32Array(2 * n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 2;
    const r = (Math.floor(i / 2) + 1) / Math.ceil(n / 2);
    const angle = 3 * Math.PI * r + k * Math.PI;
    x[2 * i] = r * Math.cos(angle) + 0.02 * (rand() - 0.5);
    x[2 * i + 1] = r * Math.sin(angle) + 0.02 * (rand() - 0.5);
    y[i] = k;
  }
  return { x, y, n, d: 2 };
}
