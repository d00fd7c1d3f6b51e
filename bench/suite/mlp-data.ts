// The MLP benchmark's data, model, starting point and checks (pure: no GPU, no TF.js). Data are made
// where they are used (page or Deno) from a seed, like the linear suite's (data.ts).
import { mlpModel } from '../../src/models/mlp.ts';
import { initParameters, layerShapes, parameterCount, type ModelData, type NetworkConfig } from '../../src/models/network.ts';

/** The issue's network: d = 64 inputs, two hidden ReLU layers of 256, a 10-class cross-entropy head. */
export const MLP_D = 64;
export const MLP_HIDDEN = [256, 256];
export const MLP_CLASSES = 10;
export const MLP_LR = 1e-3;
export const MLP_SEED = 7;

export function benchMlpModel(): NetworkConfig {
  return mlpModel(MLP_D, MLP_HIDDEN, 'relu', 'ce', MLP_CLASSES);
}

/**
 * GPU vs float64 on one batch, norm-wise over all 85 002 partials, and the loss. Tighter is not
 * available here: test/gpu/models-gradient.test.ts holds 1e-5 for fan-ins of at most 96, but this
 * network's forward dot products run over 64 and 256 float32 terms, the backward ones over 256, and each
 * weight partial sums a chunk of up to 256 samples before the reduce: ~(256 + 256 + 7) eps ~ 3e-5 of
 * sum |terms| in the worst case, ~sqrt of that typically (measured 1.0e-7). 1e-4 keeps that headroom; a
 * wrong index, slope or label (the injected fault) is off by O(1e-1) or more.
 */
export const MLP_GRAD_REL_TOL = 1e-4;
/** TF.js vs float64: the same float32 bound (its matMul and reductions are float32 as well). */
export const TFJS_MLP_REL_TOL = 1e-4;

/** xorshift32 with its state in a local (see makeBenchData): fast enough for millions of values. */
function xorshift(seed: number): () => number {
  let s = Math.imul(seed, 0x9e3779b1) | 1;
  return () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/**
 * K Gaussian blobs in d dimensions: class centres with N(0, spread^2) coordinates, unit noise, labels
 * (class indices 0..K-1, the 'ce' head's y layout) drawn at random so every batch of consecutive rows
 * holds every class. With spread 0.3 the centres lie ~3.4 noise std apart: learnable, not at once.
 */
export function makeMlpData(n: number, d = MLP_D, K = MLP_CLASSES, seed = MLP_SEED, spread = 0.3): ModelData {
  const rand = xorshift(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const centres = Float64Array.from({ length: K * d }, () => spread * gauss());
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const k = Math.min(K - 1, Math.floor(rand() * K));
    y[i] = k;
    for (let j = 0; j < d; j++) x[i * d + j] = centres[k * d + j] + gauss();
  }
  return { x, y, n, d };
}

/** Rows start..start+rows as views (no copy). */
export function dataRows(data: ModelData, start: number, rows: number): ModelData {
  const { d } = data;
  return { x: data.x.subarray(start * d, (start + rows) * d), y: data.y.subarray(start, start + rows), n: rows, d };
}

/**
 * The seeded He initialisation rounded to float32: the GPU engine, TF.js and the float64 reference then
 * all start from exactly the same numbers.
 */
export function initialTheta(c: NetworkConfig, seed = MLP_SEED): Float64Array {
  return initParameters(c, seed).map(Math.fround);
}

/** The injected fault: every label moved to the next class, so the GPU differentiates another loss. */
export function shiftLabels(data: ModelData, K = MLP_CLASSES): ModelData {
  return { ...data, y: data.y.map((v) => (v + 1) % K) };
}

export interface GradCheck {
  ok: boolean;
  /** max(norm-wise gradient error, loss error), both relative. */
  rel: number;
  verdict: string;
}

/** Norm-wise relative error of the gradient and of the loss; on failure the three worst partials. */
export function checkModelGradient(
  got: { loss: number; grad: ArrayLike<number> }, want: { loss: number; grad: ArrayLike<number> }, tol: number,
): GradCheck {
  let num = 0;
  let den = 0;
  for (let k = 0; k < want.grad.length; k++) {
    num += (got.grad[k] - want.grad[k]) ** 2;
    den += want.grad[k] ** 2;
  }
  const gradRel = got.grad.length === want.grad.length ? Math.sqrt(num / den) : Infinity;
  const lossRel = Math.abs(got.loss - want.loss) / Math.abs(want.loss);
  const rel = Math.max(Number.isNaN(gradRel) ? Infinity : gradRel, Number.isNaN(lossRel) ? Infinity : lossRel);
  if (rel <= tol) return { ok: true, rel, verdict: 'passed' };
  const worst = Array.from({ length: want.grad.length }, (_, k) => k)
    .sort((a, b) => Math.abs(got.grad[b] - want.grad[b]) - Math.abs(got.grad[a] - want.grad[a]))
    .slice(0, 3)
    .map((k) => `grad[${k}] got ${Number(got.grad[k]).toPrecision(6)} want ${want.grad[k].toPrecision(6)}`);
  return {
    ok: false, rel,
    verdict: `failed: relative error ${rel.toExponential(2)} > ${tol} (${[...worst, `loss got ${got.loss.toPrecision(6)} want ${want.loss.toPrecision(6)}`].join('; ')})`,
  };
}

/** Mean interval between consecutive epoch ends (wall-clock stamps); null with fewer than two. */
export function epochMsFromStamps(stamps: readonly number[]): number | null {
  if (stamps.length < 2) return null;
  const ms = (stamps[stamps.length - 1] - stamps[0]) / (stamps.length - 1);
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

/** A rows x cols row-major block of src (from offset), transposed: W_l (fan_out x fan_in) -> fan_in x fan_out. */
export function transposed(src: ArrayLike<number>, offset: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[offset + r * cols + c];
  return out;
}

/** Per-layer [W_l as fan_in x fan_out, b_l] (TF.js's dense layout) back into nabla's theta layout. */
export function thetaLayout(c: NetworkConfig, parts: readonly ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(parameterCount(c));
  layerShapes(c).forEach((s, l) => {
    out.set(transposed(parts[2 * l], 0, s.fanIn, s.fanOut), s.wOffset);
    out.set(Array.from(parts[2 * l + 1]), s.wOffset + s.fanOut * s.fanIn);
  });
  return out;
}
