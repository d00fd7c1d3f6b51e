// Softmax regression over K classes: logits z = W x + b, J_i = logsumexp(z) - z_{y_i}, with the max
// subtracted before exp so that no exp overflows; dJ_i/dz_k = softmax(z)_k - [k = y_i], derived by the
// formula compiler (src/formula/head-loss.ts, formulaSoftmaxHead).
import type { NetworkConfig } from './network.ts';

export function softmaxModel(inputs: number, classes: number): NetworkConfig {
  return { kind: 'softmax', inputs, hidden: [], activation: 'tanh', head: 'ce', outputs: classes };
}
