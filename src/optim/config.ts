// Optimizer settings shared by the float64 update (src/cpu/optim_update.ts) and the fused WGSL update
// (shaders/shared/optim_rule.wgsl). Every rule reads the gradient g of the data loss; weight decay is either
// coupled (L2: g += lambda * theta, for every kind but adamw) or decoupled (adamw: theta -= lr * lambda * theta).
import { rejectUnknownKeys } from '../core/options.ts';

export const OPTIMIZER_KINDS = ['sgd', 'momentum', 'nesterov', 'adam', 'adamw'] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

export interface OptimizerConfig {
  kind: OptimizerKind;
  /** Momentum coefficient mu (momentum, nesterov). */
  momentum: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** lambda: L2 penalty (coupled) for sgd/momentum/nesterov/adam, decoupled decay for adamw. */
  weightDecay: number;
}

export const DEFAULT_OPTIMIZER: Readonly<OptimizerConfig> = {
  kind: 'sgd', momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0,
};

/** Codes of the `KIND` override in optim_update.wgsl and fold_step.wgsl (their rule: shared/optim_rule.wgsl). */
export const OPTIMIZER_CODES: Record<OptimizerKind, number> = { sgd: 0, momentum: 1, nesterov: 2, adam: 3, adamw: 4 };

const OPTIMIZER_KEYS = Object.keys(DEFAULT_OPTIMIZER);

export function optimizerConfig(partial: Partial<OptimizerConfig> = {}): OptimizerConfig {
  rejectUnknownKeys(partial, OPTIMIZER_KEYS, 'optimizerConfig', { lr: 'the learning rate is a train option' });
  const c = { ...DEFAULT_OPTIMIZER, ...partial };
  validateOptimizer(c);
  return c;
}

export function validateOptimizer(c: OptimizerConfig): void {
  rejectUnknownKeys(c, OPTIMIZER_KEYS, 'optimizer', { lr: 'the learning rate is a train option' });
  if (!(OPTIMIZER_KINDS as readonly string[]).includes(c.kind)) {
    throw new RangeError(`optimizer: expected ${OPTIMIZER_KINDS.join(', ')}, got "${c.kind}"`);
  }
  const inUnit = (name: string, v: number) => {
    if (!(Number.isFinite(v) && v >= 0 && v < 1)) throw new RangeError(`${name}: expected a number in [0, 1), got ${v}`);
  };
  inUnit('momentum', c.momentum);
  inUnit('beta1', c.beta1);
  inUnit('beta2', c.beta2);
  if (!(Number.isFinite(c.eps) && c.eps > 0)) throw new RangeError(`eps: expected a positive number, got ${c.eps}`);
  if (!(Number.isFinite(c.weightDecay) && c.weightDecay >= 0)) {
    throw new RangeError(`weight-decay: expected a non-negative number, got ${c.weightDecay}`);
  }
}

/** Moment buffers a kind keeps per parameter: velocity (momentum, nesterov) or m and v (adam, adamw). */
export function stateSlots(kind: OptimizerKind): 0 | 1 | 2 {
  return kind === 'sgd' ? 0 : kind === 'momentum' || kind === 'nesterov' ? 1 : 2;
}

/**
 * Adam's bias corrections 1 - beta^t for update number t (1-based), in float64 on the host: float32
 * pow() on the GPU would lose digits of 1 - 0.999^t for small t, and both paths must use the same value.
 */
export function biasCorrections(c: OptimizerConfig, t: number): { bc1: number; bc2: number } {
  return { bc1: 1 - Math.pow(c.beta1, t), bc2: 1 - Math.pow(c.beta2, t) };
}
