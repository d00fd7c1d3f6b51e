// The optimizer's state between updates, shared by the fused WGSL update (src/gpu/models/optim-update-pass.ts
// uploads and reads it) and its float64 twin (src/cpu/optim_update.ts), so neither side imports the other.
import { stateSlots, type OptimizerConfig } from './config.ts';

export interface OptimState {
  /** Velocity (momentum, nesterov) or Adam's first moment m; empty for sgd. */
  m: Float64Array;
  /** Adam's second moment v; empty otherwise. */
  v: Float64Array;
  /** Updates applied so far (Adam's t before the next update). */
  t: number;
}

export function createOptimState(kind: OptimizerConfig['kind'], params: number): OptimState {
  const slots = stateSlots(kind);
  return { m: new Float64Array(slots >= 1 ? params : 0), v: new Float64Array(slots === 2 ? params : 0), t: 0 };
}
