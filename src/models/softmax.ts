// Softmax regression over K classes: logits z = W x + b, J_i = logsumexp(z) - z_{y_i}, with the max
// subtracted before exp so that no exp overflows; dJ_i/dz_k = softmax(z)_k - [k = y_i].
import type { NetworkConfig } from './network.ts';

export function softmaxModel(inputs: number, classes: number): NetworkConfig {
  return { kind: 'softmax', inputs, hidden: [], activation: 'tanh', head: 'ce', outputs: classes };
}

/** log sum_k exp(z[off + k]) for k < K. */
export function logSumExp(z: ArrayLike<number>, off: number, K: number): number {
  let max = -Infinity;
  for (let k = 0; k < K; k++) max = Math.max(max, z[off + k]);
  let s = 0;
  for (let k = 0; k < K; k++) s += Math.exp(z[off + k] - max);
  return max + Math.log(s);
}
