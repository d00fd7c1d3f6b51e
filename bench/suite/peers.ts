// What a peer library (TF.js, jax-js) runs for the linear suite, and how its outcome is reported. Every
// peer is validated against float64 first (a failure is reported and not timed) and timed like nabla:
// wall clock from the call to the result on the host, median of `reps` after warm-up.
import type { GradientResult, LinearData, LinearParams } from '../../src/models/linear.ts';
import { summarize } from './gpu-timer.ts';

export interface PeerOutcome {
  /** Median ms from the call to the result on the host; null when not timed. */
  ms: number | null;
  msMin: number | null;
  msMax: number | null;
  /** Timed calls behind ms (fewer than asked when a time budget ran out). */
  samples: number;
  /** Relative error against float64 (gradient and loss, or the final parameters). */
  rel: number | null;
  /** 'passed', 'failed: ...' (not timed), 'skipped: ...' (cannot run this size) or 'not run'. */
  validation: string;
  notes: string[];
}

/** How many timed calls: `reps`, or fewer (at least MIN_SAMPLES) once they have taken `budgetMs`. */
export interface Sampling {
  reps: number;
  /** Absent or null: always `reps`. */
  budgetMs?: number | null;
}

/** Timed calls a time budget never cuts below. */
export const MIN_SAMPLES = 3;

export interface LinearPeer {
  /** Column prefix and display name, e.g. 'jax' / 'jax-js 0.1.25 (webgpu)'. */
  readonly label: string;
  /** ∇J (and J) at `at`, checked against `want` (GRADIENT tolerance of the peer). */
  gradient(data: LinearData, at: LinearParams, want: GradientResult, options: Sampling): Promise<PeerOutcome>;
  /** `steps` of full-batch gradient descent from `at` with `lr`, final parameters checked against `want`. */
  gd(data: LinearData, at: LinearParams, want: LinearParams, options: Sampling & { steps: number; lr: number }): Promise<PeerOutcome>;
}

export function notTimed(validation: string, rel: number | null = null, notes: string[] = []): PeerOutcome {
  return { ms: null, msMin: null, msMax: null, samples: 0, rel, validation, notes };
}

export function timed(samples: readonly number[], rel: number, notes: string[] = []): PeerOutcome {
  const s = summarize(samples);
  return { ms: s.median, msMin: s.min, msMax: s.max, samples: samples.length, rel, validation: 'passed', notes };
}

/** Untimed calls: at least `calls` of them and at least `ms` of them (compilation, uploads, clocks). */
export async function warmCalls(fn: () => Promise<unknown>, calls: number, ms: number): Promise<void> {
  const t0 = performance.now();
  for (let i = 0; i < calls || performance.now() - t0 < ms; i++) await fn();
}

/** Wall-clock samples of fn, each from the call to its resolution: `reps` of them, or fewer under a budget. */
export async function wallSamples(fn: () => Promise<unknown>, sampling: Sampling): Promise<number[]> {
  const samples: number[] = [];
  let spent = 0;
  for (let i = 0; i < sampling.reps; i++) {
    const budget = sampling.budgetMs ?? null;
    if (budget !== null && samples.length >= MIN_SAMPLES && spent >= budget) break;
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
    spent += samples[samples.length - 1];
  }
  return samples;
}

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];
