// The train report's and evaluate's metrics of a formula model: accuracy where yhat is a class score (the
// logistic and cross-entropy losses), MSE and R² for every other loss. Unweighted, whatever the row weights.
import type { FormulaModel } from '../formula/model.ts';

/** Losses whose yhat is a class score: accuracy instead of MSE and R². */
export const CLASS_OF: Readonly<Partial<Record<string, (yhat: number) => number>>> = {
  logistic: (z) => (z > 0 ? 1 : 0),
  'cross-entropy': (p) => (p > 0.5 ? 1 : 0),
};

/** Accuracy (logistic, cross-entropy: yhat a logit or a probability, y a 0/1 label) or MSE and R² (every other loss). */
export function formulaMetrics(m: FormulaModel, yhat: ArrayLike<number>, y: ArrayLike<number>): Record<string, number | null> {
  const n = y.length;
  const classOf = CLASS_OF[m.loss.name];
  if (classOf) {
    let right = 0;
    for (let i = 0; i < n; i++) if (classOf(yhat[i]) === (y[i] >= 0.5 ? 1 : 0)) right++;
    return { accuracy: right / n };
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i] / n;
  let sse = 0;
  let sst = 0;
  for (let i = 0; i < n; i++) {
    sse += (yhat[i] - y[i]) ** 2;
    sst += (y[i] - mean) ** 2;
  }
  return { mse: sse / n, r2: sst > 0 ? 1 - sse / sst : null };
}
