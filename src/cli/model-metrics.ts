// Metrics for `evaluate` and the train report: MSE and R^2 for regression; accuracy, log-loss (the
// model's own mean cross-entropy) and a confusion matrix (rows: true class, columns: predicted).
import type { ModelData, NetworkConfig } from '../models/network.ts';
import { modelLogits, modelLoss, predictFromLogits } from '../cpu/mlp_gradient.ts';

export function evaluationReport(c: NetworkConfig, theta: ArrayLike<number>, data: ModelData, classes: string[] | null): Record<string, unknown> {
  const pred = predictFromLogits(c, modelLogits(c, theta, data.x, data.n), data.n);
  if (!classes) {
    let mean = 0;
    for (let i = 0; i < data.n; i++) mean += data.y[i] / data.n;
    let sse = 0;
    let sst = 0;
    for (let i = 0; i < data.n; i++) {
      sse += (pred[i] - data.y[i]) ** 2;
      sst += (data.y[i] - mean) ** 2;
    }
    return { mse: sse / data.n, r2: sst > 0 ? 1 - sse / sst : null };
  }
  const K = classes.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  let right = 0;
  for (let i = 0; i < data.n; i++) {
    confusion[data.y[i]][pred[i]]++;
    if (pred[i] === data.y[i]) right++;
  }
  return { accuracy: right / data.n, logLoss: modelLoss(c, theta, data), classes, confusion };
}
