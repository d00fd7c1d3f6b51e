// Metrics for `evaluate` and the train report: MSE and R^2 for regression; accuracy, the mean loss and a
// confusion matrix (rows: true class, columns: predicted) for classifiers. The loss is named after what it is:
// logLoss for the model's own cross-entropy, else `loss` beside the formula loss it was trained under.
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
    const fit = { mse: sse / data.n, r2: sst > 0 ? 1 - sse / sst : null };
    // A --loss formula is what the model was fitted to: its mean is reported beside MSE and R², as a formula model's is.
    return c.loss === undefined ? fit : { loss: modelLoss(c, theta, data), lossFunction: c.loss, ...fit };
  }
  const K = classes.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  let right = 0;
  for (let i = 0; i < data.n; i++) {
    confusion[data.y[i]][pred[i]]++;
    if (pred[i] === data.y[i]) right++;
  }
  return { accuracy: right / data.n, ...classifierLoss(c, modelLoss(c, theta, data)), classes, confusion };
}

/** A classifier's mean loss under its name: logLoss (its own cross-entropy) or loss and lossFunction (a --loss formula). */
export function classifierLoss(c: NetworkConfig, mean: number): Record<string, number | string> {
  return c.loss === undefined ? { logLoss: mean } : { loss: mean, lossFunction: c.loss };
}

/** The streamed metrics (model-stream.ts) call every classifier's loss logLoss: renamed as evaluationReport names it. */
export function withClassifierLossNamed(c: NetworkConfig, m: Record<string, unknown>): Record<string, unknown> {
  if (!('logLoss' in m)) return m;
  const { accuracy, logLoss, ...rest } = m;
  return { accuracy, ...classifierLoss(c, logLoss as number), ...rest };
}

/**
 * A one-output model without hidden layers (linear, logistic, either under a --loss) as the weights and bias of
 * its linear predictor in the data's units, as the linear model's default path reports them: the engines train
 * on standardized features z = (x − mean)/std, so w·z + b is (w/std)·x + (b − Σ w·mean/std). Null for the others.
 */
export function weightsInDataUnits(c: NetworkConfig, theta: ArrayLike<number>, features: readonly string[], scaling: { mean: number[]; std: number[] } | null):
  { weights: Record<string, number>; bias: number } | null {
  if (c.hidden.length > 0 || c.outputs !== 1) return null;
  const d = c.inputs;
  const weights: Record<string, number> = {};
  let bias = theta[d];
  for (let j = 0; j < d; j++) {
    const w = scaling ? theta[j] / scaling.std[j] : theta[j];
    weights[features[j]] = w;
    if (scaling) bias -= w * scaling.mean[j];
  }
  return { weights, bias };
}
