// Model snapshots as plain arrays: the form that crosses page.evaluate (CLI <-> headless page) and JSON.
import type { ModelSnapshot, SnapshotBatching } from './model-engine.ts';

/** A ModelSnapshot with plain arrays, as it crosses page.evaluate. */
export interface PlainModelSnapshot {
  theta: number[];
  optim: { m: number[]; v: number[]; t: number };
  bestLoss: number;
  batching?: SnapshotBatching;
}

export function toPlainSnapshot(s: ModelSnapshot): PlainModelSnapshot {
  return {
    theta: Array.from(s.theta), optim: { m: Array.from(s.optim.m), v: Array.from(s.optim.v), t: s.optim.t }, bestLoss: s.bestLoss,
    ...(s.batching && { batching: { ...s.batching } }),
  };
}

export function fromPlainSnapshot(s: PlainModelSnapshot): ModelSnapshot {
  return {
    theta: Float64Array.from(s.theta),
    optim: { m: Float64Array.from(s.optim.m), v: Float64Array.from(s.optim.v), t: s.optim.t },
    bestLoss: s.bestLoss,
    ...(s.batching && { batching: { ...s.batching } }),
  };
}

