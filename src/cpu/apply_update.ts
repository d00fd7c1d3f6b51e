// CPU twin of shaders/apply_update.wgsl: the stopping rules and the update, in float64.
// The decision order (divergence, tolerance, max epochs, update) matches the shader.

import { STATUS_CONVERGED, STATUS_DIVERGED, STATUS_MAX_EPOCHS, STATUS_RUNNING, type TrainState, type TrainStatus } from '../core/train-status.ts';

export { STATUS_CONVERGED, STATUS_DIVERGED, STATUS_MAX_EPOCHS, STATUS_RUNNING, type TrainState, type TrainStatus };

export interface UpdateRule {
  lr: number;
  tol: number;
  explodeFactor: number;
  maxUpdates: number;
}

/** theta holds w then b; thetaPrev the last parameters whose loss was good. Mutates all three. */
export function applyUpdate(
  state: TrainState,
  theta: Float64Array,
  thetaPrev: Float64Array,
  grad: ArrayLike<number>,
  loss: number,
  gradNorm: number,
  rule: UpdateRule,
): void {
  if (state.status !== STATUS_RUNNING) return;
  const step = state.step;
  let next: TrainStatus = STATUS_RUNNING;
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm) || (step > 0 && loss > rule.explodeFactor * state.bestLoss)) {
    next = STATUS_DIVERGED;
  } else if (gradNorm <= rule.tol) {
    next = STATUS_CONVERGED;
  } else if (step >= rule.maxUpdates) {
    next = STATUS_MAX_EPOCHS;
  }
  if (next === STATUS_DIVERGED) {
    theta.set(thetaPrev);
  } else if (next === STATUS_RUNNING) {
    thetaPrev.set(theta);
    for (let k = 0; k < theta.length; k++) theta[k] -= rule.lr * grad[k];
  }
  state.status = next;
  if (next !== STATUS_DIVERGED) {
    if (step === 0 || loss < state.bestLoss) state.bestLoss = loss;
    state.step = step + 1;
  }
}
