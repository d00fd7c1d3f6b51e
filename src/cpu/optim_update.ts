// CPU twin of shaders/shared/optim_rule.wgsl (run by optim_update.wgsl and fold_step.wgsl) in float64: one
// update of every parameter from its gradient, with the optimizer's state (velocity, or Adam's first and
// second moments). Keep the formulas and their order identical to the shader; tests compare the two step by
// step.
import { biasCorrections, stateSlots, validateOptimizer, type OptimizerConfig } from '../optim/config.ts';
import { createOptimState, type OptimState } from '../optim/state.ts';

export { createOptimState, type OptimState };

/**
 * theta <- update(theta, grad) with learning rate lr (already scheduled for this step). decayMask[k] = 1
 * where weight decay applies (weights), 0 where it does not (biases); omitted: everywhere.
 */
export function optimUpdate(
  c: OptimizerConfig,
  state: OptimState,
  theta: Float64Array,
  grad: ArrayLike<number>,
  lr: number,
  decayMask?: ArrayLike<number>,
): void {
  validateOptimizer(c);
  const P = theta.length;
  if (grad.length < P) throw new RangeError(`grad: expected ${P} values, got ${grad.length}`);
  if (!(Number.isFinite(lr) && lr >= 0)) throw new RangeError(`lr: expected a non-negative number, got ${lr}`);
  const slots = stateSlots(c.kind);
  if (state.m.length !== (slots >= 1 ? P : 0) || state.v.length !== (slots === 2 ? P : 0)) {
    throw new RangeError(`optimizer state: sized for another model or optimizer (${state.m.length}/${state.v.length} for ${P} parameters, ${c.kind})`);
  }
  const t = state.t + 1;
  const { bc1, bc2 } = biasCorrections(c, t);
  const { m, v } = state;
  for (let k = 0; k < P; k++) {
    const th = theta[k];
    const decay = c.weightDecay * (decayMask ? decayMask[k] : 1);
    let g = grad[k];
    if (c.kind !== 'adamw') g += decay * th;
    switch (c.kind) {
      case 'sgd':
        theta[k] = th - lr * g;
        break;
      case 'momentum':
        m[k] = c.momentum * m[k] + g;
        theta[k] = th - lr * m[k];
        break;
      case 'nesterov':
        // Look-ahead form (as in PyTorch): step along g + mu * v_new.
        m[k] = c.momentum * m[k] + g;
        theta[k] = th - lr * (g + c.momentum * m[k]);
        break;
      case 'adam':
      case 'adamw': {
        m[k] = c.beta1 * m[k] + (1 - c.beta1) * g;
        v[k] = c.beta2 * v[k] + (1 - c.beta2) * g * g;
        let step = (m[k] / bc1) / (Math.sqrt(v[k] / bc2) + c.eps);
        if (c.kind === 'adamw') step += decay * th; // decoupled: not seen by the moments
        theta[k] = th - lr * step;
        break;
      }
    }
  }
  state.t = t;
}
