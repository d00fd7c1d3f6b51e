// Logistic regression: p = sigmoid(w.x + b), trained on binary cross-entropy from the logit z: the bce head,
// which is the formula loss `logistic` (softplus(z) - z y, src/formula/losses.ts; headLossText in network.ts),
// spelled stably there (softplus(z) = max(z, 0) + log1p(exp(-|z|)), never exp of a large positive number).
import type { NetworkConfig } from './network.ts';

export function logisticModel(inputs: number): NetworkConfig {
  return { kind: 'logistic', inputs, hidden: [], activation: 'tanh', head: 'bce', outputs: 1 };
}
