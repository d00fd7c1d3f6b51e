/**
 * Autotuning of GPU kernel configurations, per adapter, for any kernel family.
 *
 * API (src/gpu/tuning/autotune.ts, with the table in ./cache.ts and the clock in ./timer.ts):
 *
 *   const key = tuningKey(gpu, 'mlp.gemm', { m: 4096, k: 256, n: 256 });   // adapter identity + limits + family + shape
 *   const { config } = await tuneCached(gpu, defaultTuningCache, key, isGemmConfig, {
 *     family: 'mlp.gemm',
 *     candidates,                          // C[]: plain JSON objects, the same list on every adapter
 *     ladderOf: (c) => `wg${c.wg}`,        // optional: see below
 *     prepare: async (c) => ({             // build pipelines and bind groups for one candidate
 *       record(pass) { ... },              // records one unit of the work (dispatches only), timed many times
 *       async validate() { ... },          // runs it once, compares with a reference: null when right, else why not
 *       dispose() { ... },
 *     }),
 *   });
 *
 * autotune() builds each candidate, runs it once and VALIDATES the result (a candidate that fails to build, throws
 * or returns a wrong result is rejected with its reason), then times it (./timer.ts: timestamp-query when the
 * device has it, else submit-to-onSubmittedWorkDone), and returns the fastest validated one. It throws
 * AutotuneError when none validates. Candidates of one ladder (same ladderOf) are walked in the order given,
 * typically a growing grid, the ladders one after the other or in turns (ladderWalk); a ladder stops after
 * `patience` candidates in a row slower than stopFactor x its best so far (on a software adapter the time
 * rises past a few workgroups, on a GPU it falls until the machine is full; one noisy sample on a shared
 * machine does not end a ladder), and no new candidate starts once budgetMs of validating and timing (building
 * excluded) has passed and one has validated. The few fastest are then timed again in turns (finalists, finalRounds) and the lowest median
 * over all their samples wins. tuneCached() adds the table: a hit whose config `accept` takes is used as is;
 * a miss is tuned and stored.
 */
import { timeWork, type WorkTiming } from './timer.ts';
import type { TuningCache, TuningEntry, TuningKey } from './cache.ts';

export interface TuningTrial {
  /** Records one unit of the work into a compute pass (no submits, no reads). */
  record(pass: GPUComputePassEncoder): void;
  /** Runs the unit once and checks its output: null when it is right, else what is wrong. */
  validate(): Promise<string | null>;
  dispose?(): void;
}

export interface AutotuneSpec<C> {
  /** For messages: the kernel family, e.g. 'linear.partials.quad'. */
  family: string;
  candidates: readonly C[];
  prepare(config: C): Promise<TuningTrial>;
  ladderOf?(config: C): string;
  /**
   * 'turns': the ladders advance in turns, one candidate each, so a spent budget cuts every ladder's far end
   * (for ladders of equal standing, e.g. two kernels' grids). 'in order' (default): each ladder to its end
   * before the next, for a list ordered by priority (the budget then cuts its end).
   */
  ladderWalk?: 'turns' | 'in order';
  /** A ladder stops after `patience` (default 2) candidates in a row slower than this times its best (default 1.5). */
  stopFactor?: number;
  patience?: number;
  /** No new candidate starts after this many ms of validating and timing (building excluded) once one has validated (default 3000). */
  budgetMs?: number;
  /** Shortest timed sample in ms (default 2); see timeWork. */
  minSampleMs?: number;
  /** Timed samples per candidate (default 3). */
  samples?: number;
  /**
   * The fastest few (default 3) are timed again, in turns, `finalRounds` times (default 2), and the one with the
   * lowest median over all its samples wins: on a shared machine one lucky sample must not pick the grid.
   */
  finalists?: number;
  finalRounds?: number;
}

export interface TrialReport<C> {
  config: C;
  /** Median ms per unit, when timed. */
  ms?: number;
  /** Why the candidate was not timed or not kept: a build error, a wrong result, the budget. */
  rejected?: string;
  abandoned?: boolean;
}

export interface AutotuneResult<C> {
  best: C;
  timing: WorkTiming;
  trials: TrialReport<C>[];
  elapsedMs: number;
}

/** The configuration an engine runs and where it came from. */
export interface KernelChoice<C> {
  config: C;
  source: 'explicit' | 'table' | 'tuned' | 'default';
  /** Set when tuned now: every candidate with its time or the reason it was rejected. */
  result?: AutotuneResult<C>;
  /** Tuned now or read from the table: the winner's time per pass while tuning, and how it was measured. */
  timing?: { ms: number; method: 'timestamp-query' | 'wall-clock' };
}

export class AutotuneError extends Error {
  constructor(family: string, readonly trials: TrialReport<unknown>[]) {
    const reasons = trials.filter((t) => t.rejected).slice(0, 3).map((t) => `${JSON.stringify(t.config)}: ${t.rejected}`);
    super(`autotune ${family}: no candidate produced a valid result (${reasons.join('; ') || 'no candidates'})`);
    this.name = 'AutotuneError';
  }
}

const reason = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

export async function autotune<C>(gpu: { device: GPUDevice; hasTimestamps: boolean }, spec: AutotuneSpec<C>): Promise<AutotuneResult<C>> {
  const { stopFactor = 1.5, patience = 2, budgetMs = 3000, minSampleMs = 2, samples = 3 } = spec;
  const t0 = performance.now();
  const ladders = new Map<string, C[]>();
  for (const c of spec.candidates) {
    const name = spec.ladderOf?.(c) ?? '';
    ladders.set(name, [...(ladders.get(name) ?? []), c]);
  }
  const trials: TrialReport<C>[] = [];
  let best: { config: C; timing: WorkTiming } | null = null;
  // In turns, the budget cuts every ladder's far end, never a whole ladder (a slow adapter once spent it all
  // on one kernel's ladders before the other's first candidate).
  const walks = [...ladders.values()].map((queue) => ({ queue, next: 0, best: Infinity, slowInARow: 0 }));
  const turns = spec.ladderWalk === 'turns';
  // The budget is for timing candidates, not for building them: a pipeline is compiled once per distinct
  // shader (a workgroup size, say) and then shared by every grid, and on a software adapter one compile of a
  // generated kernel can take most of a second, which once spent the whole budget on each ladder's first grid.
  let preparingMs = 0;
  const spent = () => performance.now() - t0 - preparingMs;
  for (let live = walks; live.length > 0; live = live.filter((w) => w.next < w.queue.length)) {
    for (const walk of turns ? live : live.slice(0, 1)) {
      const config = walk.queue[walk.next++];
      if (best && spent() > budgetMs) {
        trials.push({ config, rejected: `skipped: tuning budget of ${budgetMs} ms spent` });
        continue;
      }
      const report: TrialReport<C> = { config };
      trials.push(report);
      let trial: TuningTrial | null = null;
      try {
        const preparing = performance.now();
        trial = await spec.prepare(config);
        preparingMs += performance.now() - preparing;
        const wrong = await trial.validate();
        if (wrong !== null) {
          report.rejected = `invalid result: ${wrong}`;
          continue;
        }
        const timing = await timeWork(gpu, (pass) => trial!.record(pass), {
          minMs: minSampleMs, samples, giveUpAboveMs: stopFactor * walk.best,
        });
        report.ms = timing.ms;
        report.abandoned = timing.abandoned;
        if (!best || timing.ms < best.timing.ms) best = { config, timing };
        walk.slowInARow = timing.ms > stopFactor * walk.best ? walk.slowInARow + 1 : 0;
        if (walk.slowInARow >= patience) walk.next = walk.queue.length; // the ladder ends here
        walk.best = Math.min(walk.best, timing.ms);
      } catch (e) {
        report.rejected = `failed: ${reason(e)}`;
      } finally {
        trial?.dispose?.();
      }
    }
  }
  if (!best) throw new AutotuneError(spec.family, trials);
  const final = await finalRound(gpu, spec, trials, minSampleMs, samples);
  if (final) best = final;
  return { best: best.config, timing: best.timing, trials, elapsedMs: performance.now() - t0 };
}

/** Times the fastest few again, in turns; the lowest median over all of each one's samples wins (null: nothing to compare). */
async function finalRound<C>(
  gpu: { device: GPUDevice; hasTimestamps: boolean }, spec: AutotuneSpec<C>, trials: TrialReport<C>[], minMs: number, samples: number,
): Promise<{ config: C; timing: WorkTiming } | null> {
  const count = spec.finalists ?? 3;
  const rounds = spec.finalRounds ?? 2;
  // Abandoned ones too: they were only compared with a best that may have been lucky.
  const finalists = trials.filter((t) => t.ms !== undefined).sort((a, b) => a.ms! - b.ms!).slice(0, count);
  if (finalists.length < 2 || rounds < 1) return null;
  const prepared: Array<{ report: TrialReport<C>; trial: TuningTrial; all: number[]; last: WorkTiming | null }> = [];
  try {
    for (const report of finalists) prepared.push({ report, trial: await spec.prepare(report.config), all: [report.ms!], last: null });
    for (let r = 0; r < rounds; r++) {
      for (const p of prepared) {
        const timing = await timeWork(gpu, (pass) => p.trial.record(pass), { minMs, samples });
        p.all.push(...timing.samples);
        p.last = timing;
      }
    }
  } catch {
    return null; // a finalist that built and validated once and now fails: keep the first round's choice
  } finally {
    for (const p of prepared) p.trial.dispose?.();
  }
  const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  for (const p of prepared) p.report.ms = med(p.all);
  const win = prepared.reduce((a, b) => (b.report.ms! < a.report.ms! ? b : a));
  return { config: win.report.config, timing: { ...win.last!, ms: win.report.ms! } };
}

/** The cached configuration for a key, or a fresh autotune() stored under it. */
export async function tuneCached<C>(
  gpu: { device: GPUDevice; hasTimestamps: boolean }, cache: TuningCache, key: TuningKey,
  accept: (config: unknown) => config is C, spec: AutotuneSpec<C>,
): Promise<{ config: C; entry: TuningEntry<C>; result: AutotuneResult<C> | null }> {
  const hit = cache.get(key, accept);
  if (hit) return { config: hit.config, entry: hit, result: null };
  const result = await autotune(gpu, spec);
  const entry: TuningEntry<C> = {
    config: result.best, ms: result.timing.ms, method: result.timing.method,
    validated: result.trials.filter((t) => t.ms !== undefined).length, tried: result.trials.filter((t) => !t.rejected?.startsWith('skipped')).length,
    tunedAt: new Date().toISOString(),
  };
  cache.set(key, entry);
  return { config: result.best, entry, result };
}
