// A formula model's shard kernel: the generated row-sum function (src/formula/emit-js.ts) over float32 rows,
// float64 sums. The task carries the function's source, not the function: a string crosses to Node workers
// and Web Workers by structured clone, and each thread compiles it once when the task is registered. Every
// thread then runs the same source on the same rows, so a shard's sums do not depend on which thread ran it.
import type { RowSums } from '../formula/emit-js.ts';

/**
 * theta: the P parameters; partials: shards x outputs, the program's sums: (Σ w ∂ℓ/∂θ_0 .. Σ w ∂ℓ/∂θ_{P-1},
 * Σ w ℓ) for the gradient, or Gauss-Newton's sums for a curve fit (normalEquationsProgram).
 */
export interface FormulaTaskSpec {
  kind: 'formula';
  /** jsRowSumsSource(gradientProgram(model)): a function body returning rowSums. */
  source: string;
  params: number;
  /** Sums per shard: the program's outputs. */
  outputs: number;
  /** Values per row of x: the features, then the weight when the model has one. */
  rowWidth: number;
  x: Float32Array;
  y: Float32Array;
  theta: Float64Array;
  partials: Float64Array;
}

/** Adds the sums of rows begin..end into out (the program's outputs). */
export type FormulaShardSums = (begin: number, end: number, out: Float64Array) => void;

export function formulaShardSums(spec: FormulaTaskSpec): FormulaShardSums {
  let rowSums: RowSums;
  try {
    rowSums = new Function(spec.source)() as RowSums;
  } catch (e) {
    // A page whose Content-Security-Policy forbids 'unsafe-eval' refuses generated code here.
    throw new Error(`fast CPU formula task: the generated row sums did not compile (${(e as Error).message})`, { cause: e });
  }
  const { theta, x, y } = spec;
  return (begin, end, out) => rowSums(theta, x, y, begin, end, out);
}
