// The classifier mode's model and optimizer choices as NetworkConfig / OptimizerConfig, and starting
// learning rates that train the generated datasets well.
import { logisticModel, mlpModel, softmaxModel } from '../../models/mlp.ts';
import type { NetworkConfig } from '../../models/network.ts';
import { optimizerConfig, type OptimizerConfig } from '../../optim/config.ts';

export const CLASSIFIER_MODELS = ['logistic', 'softmax', 'mlp'] as const;
export type ClassifierModel = (typeof CLASSIFIER_MODELS)[number];
export const DEMO_OPTIMIZERS = ['sgd', 'momentum', 'adam'] as const;
export type DemoOptimizer = (typeof DEMO_OPTIMIZERS)[number];

export interface ModelChoice {
  model: ClassifierModel;
  hidden: number;
  activation: 'tanh' | 'relu';
}

/** Logistic needs 2 classes; the MLP ends in a sigmoid (bce) head for 2 classes and softmax (ce) above. */
export function networkFor(m: ModelChoice, classes: number): NetworkConfig {
  if (m.model === 'logistic') {
    if (classes !== 2) throw new RangeError('logistic regression separates 2 classes; choose softmax or the MLP');
    return logisticModel(2);
  }
  if (m.model === 'softmax') return softmaxModel(2, classes);
  return classes === 2 ? mlpModel(2, [m.hidden], m.activation, 'bce') : mlpModel(2, [m.hidden], m.activation, 'ce', classes);
}

export function optimizerFor(kind: DemoOptimizer): OptimizerConfig {
  return optimizerConfig({ kind });
}

export const DEFAULT_LR: Record<DemoOptimizer, number> = { sgd: 0.5, momentum: 0.1, adam: 0.03 };
