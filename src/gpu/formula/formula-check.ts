// How a generated pass-1 kernel is judged: its (dJ/dθ, J) over rows of the data against the float64 twin's
// (src/formula/emit-js.ts over the same float32 rows and float32-rounded parameters), each component within
// a tolerance of the sum of its terms' magnitudes. Pure (no GPU): the engine checks every kernel it builds
// with it, the tuner every candidate, the tests the engine.
import { FLOAT32_MAX } from '../../core/float32.ts';
import { compileRowSums } from '../../formula/emit-js.ts';
import type { FormulaModel } from '../../formula/model.ts';
import { gradientProgram, type SampleProgram } from '../../formula/program.ts';
import type { BatchRange } from '../../models/batches.ts';
import type { FormulaData } from '../../models/formula.ts';

/**
 * A kernel's component k may differ from float64 by FORMULA_REL_TOL x (1/N) Σ_i |term_ik| (+ F32_ROUNDING_FACTOR x
 * float32's own cost, + F32_UNDERFLOW_ALLOWANCE). Each term is
 * a straight-line float32 program of a few dozen operations (a few eps each, more where exp or log amplify
 * the argument's rounding: ~|arg| eps), summed in blocks of 64 with compensated folds and a segmented
 * workgroup sum (~(64 + 2 sqrt(WG) + groups) eps of Σ|terms|, ~1e-5 at most): 1e-4 leaves an order of magnitude above
 * what those add up to for arguments up to ~100, and a wrong row, column or parameter index misses by O(1).
 */
export const FORMULA_REL_TOL = 1e-4;

/**
 * Beside it, a multiple of what float32 itself costs each component (FormulaReference.rounding): where a term
 * is a small difference of large values (the residual ŷ − y of a fit near its optimum, ŷ ~ 240 and r ~ 0.1),
 * rounding ŷ to float32 alone moves the term by ~1e-4 of itself, whatever the kernel. The estimate rounds every
 * operation once (half an ulp); WGSL allows a few ulps (2.5 for a division, 3 for exp and log), hence 16.
 */
export const F32_ROUNDING_FACTOR = 16;

/**
 * An absolute allowance beside the relative one, 2^-100 (~8e-31). WGSL lets a GPU flush subnormal values to
 * zero, and a factor flushed at float32's underflow edge (exp(-88) ~ 6e-39) is then multiplied by the term's
 * other factors: at y ~ a*exp(-k*x) from k = 1 over x up to 800, d/dk's terms averaged 4e-34 and the GPU's
 * mean was 7e-38 off. Components that small are float32's range, not a kernel's fault; at any scale a
 * formula is fitted at, 2^-100 is far below the relative tolerance.
 */
export const F32_UNDERFLOW_ALLOWANCE = 2 ** -100;

export interface FormulaReference {
  /** (1/N) Σ output_k: the gradient, then J. */
  mean: Float64Array;
  /** (1/N) Σ |output_k|: what the tolerance scales with. */
  magnitude: Float64Array;
  /**
   * (1/N) Σ |output_k − the same computed in float32| (compileRowSums' float32 estimate): how far float32
   * arithmetic alone moves the component. Rows where that estimate is not finite (a value beyond float32's
   * range) are named by `firstOverflowRow`, not counted here.
   */
  rounding: Float64Array;
  /** The first row (0-based) whose outputs are finite in float64 but not in float32, or -1. */
  firstOverflowRow: number;
}

/**
 * The float64 twin's mean outputs of `program` (default: the gradient's) over `range` at theta (rounded to
 * float32, as the GPU holds it), row by row.
 */
export function formulaReference(
  m: FormulaModel, theta: ArrayLike<number>, data: FormulaData, range: BatchRange, program: SampleProgram = gradientProgram(m),
): FormulaReference {
  const sums = compileRowSums(program);
  const sums32 = compileRowSums(program, true);
  const at = Float64Array.from(theta, (v) => Math.fround(v));
  const S = program.outputs.length;
  const one = new Float64Array(S);
  const one32 = new Float64Array(S);
  const mean = new Float64Array(S);
  const magnitude = new Float64Array(S);
  const rounding = new Float64Array(S);
  let firstOverflowRow = -1;
  for (let i = range.start; i < range.start + range.rows; i++) {
    one.fill(0);
    one32.fill(0);
    sums(at, data.x, data.y, i, i + 1, one);
    sums32(at, data.x, data.y, i, i + 1, one32);
    const overflows = one.every(Number.isFinite) && !one32.every(Number.isFinite);
    if (overflows && firstOverflowRow < 0) firstOverflowRow = i;
    for (let k = 0; k < S; k++) {
      mean[k] += one[k];
      magnitude[k] += Math.abs(one[k]);
      if (!overflows) rounding[k] += Math.abs(one[k] - one32[k]);
    }
  }
  for (let k = 0; k < S; k++) {
    mean[k] /= range.rows;
    magnitude[k] /= range.rows;
    rounding[k] /= range.rows;
  }
  return { mean, magnitude, rounding, firstOverflowRow };
}

/**
 * Whether float32 may fail over the reference's rows where float64 does not: a parameter, a row's outputs or
 * their sum beyond float32's range. float32Problem says which and where; this spares its scan of the same
 * rows when the reference already shows none.
 */
export function mayOverflowFloat32(ref: FormulaReference, rows: number, theta: ArrayLike<number>): boolean {
  if (Array.from(theta).some((v) => Math.abs(v) > FLOAT32_MAX) || ref.firstOverflowRow >= 0) return true;
  return ref.mean.some((v) => Number.isFinite(v) && Math.abs(v) * rows > FLOAT32_MAX);
}

/** formulaReference over a range, of one program at one theta on one dataset. */
export type ReferenceOf = (range: BatchRange) => FormulaReference;

/**
 * formulaReference of `program` at theta over `data`, computed once per range: an engine's start-up judges
 * several kernels (the tuner's candidates of two variants, then its own passes) on the same rows.
 */
export function referencesOf(m: FormulaModel, theta: ArrayLike<number>, data: FormulaData, program: SampleProgram = gradientProgram(m)): ReferenceOf {
  const made = new Map<string, FormulaReference>();
  const at = Float64Array.from(theta);
  return (range) => {
    const key = `${range.start}:${range.rows}`;
    let ref = made.get(key);
    if (!ref) {
      ref = formulaReference(m, at, data, range, program);
      made.set(key, ref);
    }
    return ref;
  };
}

/**
 * null when every component of got (means) is within tol of the reference, else the first mismatches (at
 * most three) and the largest error in units of the tolerance. A component the twin finds non-finite must be
 * non-finite on the GPU too. names: one label per output, or the parameters (the gradient program's
 * outputs: d/dθ, then J).
 */
export function checkFormulaResult(got: ArrayLike<number>, ref: FormulaReference, names: readonly string[], tol = FORMULA_REL_TOL): string | null {
  const bad: string[] = [];
  let worst = 0;
  for (let k = 0; k < ref.mean.length; k++) {
    const want = ref.mean[k];
    const name = names.length === ref.mean.length ? names[k] : k < names.length ? `d/d${names[k]}` : 'J';
    if (!Number.isFinite(want)) {
      if (Number.isFinite(got[k])) bad.push(`${name}: got ${got[k]}, the float64 twin ${want}`);
      continue;
    }
    const allowed = tol * ref.magnitude[k] + F32_ROUNDING_FACTOR * ref.rounding[k] + F32_UNDERFLOW_ALLOWANCE;
    const err = Math.abs(got[k] - want) / allowed;
    if (!(err <= 1)) bad.push(`${name}: got ${got[k]}, want ${want} (|error| ${Math.abs(got[k] - want).toExponential(2)}, allowed ${allowed.toExponential(2)})`);
    if (err > worst || Number.isNaN(err)) worst = Number.isNaN(err) ? Infinity : err;
  }
  return bad.length === 0 ? null : `${bad.length} of ${ref.mean.length} components off (worst ${worst.toExponential(2)} x the tolerance): ${bad.slice(0, 3).join('; ')}`;
}

/** Largest |got - want| / (tol-free) magnitude over the components: the measured error, for reports. */
export function formulaError(got: ArrayLike<number>, ref: FormulaReference): number {
  let worst = 0;
  for (let k = 0; k < ref.mean.length; k++) {
    if (!Number.isFinite(ref.mean[k])) continue;
    worst = Math.max(worst, Math.abs(got[k] - ref.mean[k]) / (ref.magnitude[k] + Number.MIN_VALUE));
  }
  return worst;
}

/** Labels of the normal-equations program's outputs (upperIndex order): JᵀWJ[a,b], JᵀWr[a], then RSS. */
export function normalEquationsLabels(params: readonly string[]): string[] {
  const out: string[] = [];
  params.forEach((a, i) => params.slice(i).forEach((b) => out.push(`JtWJ[${a},${b}]`)));
  return [...out, ...params.map((a) => `JtWr[${a}]`), 'RSS'];
}
