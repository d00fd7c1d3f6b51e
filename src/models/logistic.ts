// Logistic regression: p = sigmoid(w.x + b), binary cross-entropy from the logit z in the stable form
//   J_i = max(z, 0) - z y + log1p(exp(-|z|))   (never exp of a large positive number; exact for large |z|),
//   dJ_i/dz = sigmoid(z) - y.
import type { NetworkConfig } from './network.ts';

export function logisticModel(inputs: number): NetworkConfig {
  return { kind: 'logistic', inputs, hidden: [], activation: 'tanh', head: 'bce', outputs: 1 };
}

export function bceFromLogit(z: number, y: number): number {
  return Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
}

/** sigmoid without overflow for either sign. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
