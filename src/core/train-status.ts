// Status codes of a training run, shared by the GPU update (shaders/apply_update.wgsl writes them into its
// state buffer), its float64 twin (src/cpu/apply_update.ts) and every engine that reads them back. Kept below
// both twins so neither imports the other; test/node/wgsl-structs.test.ts checks the WGSL constants match.
export const STATUS_RUNNING = 0;
export const STATUS_CONVERGED = 1;
export const STATUS_DIVERGED = 2;
export const STATUS_MAX_EPOCHS = 3;
export type TrainStatus = 0 | 1 | 2 | 3;

export interface TrainState {
  status: TrainStatus;
  step: number; // good evaluations so far
  bestLoss: number;
}
