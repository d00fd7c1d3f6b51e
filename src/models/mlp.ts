// Multi-layer perceptron: hidden dense layers with one activation, then the chosen head. The chain rule is
// spelled out in src/cpu/mlp_gradient.ts (float64) and the shaders/mlp_*.wgsl stages (GPU).
import { requireHiddenArray, validateNetwork, type Activation, type Head, type NetworkConfig } from './network.ts';
import { logisticModel } from './logistic.ts';
import { softmaxModel } from './softmax.ts';

/**
 * classes: the ce head's class count K (its outputs). A one-output head (mse, bce) models one number or two
 * classes as 0/1, so there it may only be 1 or 2 (the default); more classes need the ce head.
 */
export function mlpModel(inputs: number, hidden: number[], activation: Activation, head: Head, classes = 2): NetworkConfig {
  requireHiddenArray(hidden);
  if (head !== 'ce' && classes !== 1 && classes !== 2) {
    throw new RangeError(`classes: the ${head} head has one output, which cannot model ${classes} classes; use the ce head`);
  }
  const c: NetworkConfig = { kind: 'mlp', inputs, hidden: [...hidden], activation, head, outputs: head === 'ce' ? classes : 1 };
  validateNetwork(c);
  return c;
}

export function linearModel(inputs: number): NetworkConfig {
  return { kind: 'linear', inputs, hidden: [], activation: 'tanh', head: 'mse', outputs: 1 };
}

export { logisticModel, softmaxModel };

/** act(z), and act'(z) expressed through a = act(z) (what the backward pass keeps). */
export function activate(kind: Activation, z: number): number {
  switch (kind) {
    case 'relu': return z > 0 ? z : 0;
    case 'tanh': return Math.tanh(z);
    case 'sigmoid': return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
  }
}

export function activationSlope(kind: Activation, a: number): number {
  switch (kind) {
    case 'relu': return a > 0 ? 1 : 0;
    case 'tanh': return 1 - a * a;
    case 'sigmoid': return a * (1 - a);
  }
}
