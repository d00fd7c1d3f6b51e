// The one training loop: every model on every backend trains here. A backend brings a TrainingProgram
// (program.ts) that runs chains of updates; this loop decides which batches and learning rates each chain
// takes, watches the losses it reports (divergence: a loss that is not finite or exceeds explodeFactor x
// the best so far; then the last good parameters are kept), reports epochs, takes snapshots, honours the
// AbortSignal (an abort mid-epoch returns the state at the last whole epoch, which a resume can continue; the
// updates of the unfinished epoch are dropped) and evaluates the result. An update = the gradient of J over
// one batch at theta_t, then one optimizer step with lr(t); t counts updates, so a run resumed from a snapshot
// at t continues with the same batches, learning rates and bias corrections as an uninterrupted one.
import { DEFAULT_EXPLODE_FACTOR, explodes, type EpochInfo } from '../models/linear.ts';
import { DEFAULT_SEED, EpochMeans, StartDivergenceError, batchingOf, norm2, validateBatching, validateModelTrainOptions, type ModelSnapshot, type ModelTrainOptions, type ModelTrainResult, type SnapshotBatching } from '../models/model-engine.ts';
import { BatchSchedule } from '../models/batches.ts';
import { scheduledRate } from '../optim/schedule.ts';
import { createOptimState } from '../optim/state.ts';
import type { ChainPlan, ProgramState, TrainingProgram } from './program.ts';

/** Epochs per read-back (and between snapshots) unless reportEvery says otherwise. */
export const DEFAULT_REPORT_EVERY = 32;
/** A CPU program never holds the event loop longer than this (progress output, abort signals, the page). */
const YIELD_MS = 50;

export async function runTraining(program: TrainingProgram, o: ModelTrainOptions): Promise<ModelTrainResult> {
  validateModelTrainOptions(o);
  const n = program.n;
  const seed = o.seed ?? DEFAULT_SEED;
  const batches = new BatchSchedule(n, o.batchSize, seed, o.chunkRows);
  const perEpoch = batches.perEpoch;
  const batching = batchingOf(n, batches.size, o.chunkRows);
  validateBatching(o, perEpoch, batching);
  if (o.seed !== undefined && perEpoch === 1 && o.init !== undefined) {
    throw new RangeError(`seed: it orders mini-batches and draws initial parameters, and this run has neither: full batches of all ${n} samples, starting from init; drop seed, or give a batchSize below ${n}`);
  }
  const schedule = o.schedule ?? { kind: 'constant' as const };
  program.check({ optimizer: o.optimizer, constantLr: schedule.kind === 'constant', batchSize: batches.size });
  const resume = o.resumeFrom;
  const theta = Float64Array.from(resume?.theta ?? o.init ?? program.initialParameters(seed));
  const optim = resume
    ? { m: Float64Array.from(resume.optim.m), v: Float64Array.from(resume.optim.v), t: resume.optim.t }
    : createOptimState(o.optimizer.kind, theta.length);
  const explode = o.explodeFactor ?? DEFAULT_EXPLODE_FACTOR;
  await program.start({ theta, optim }, { optimizer: o.optimizer, batchSize: batches.size });
  try {
    const every = o.reportEvery ?? DEFAULT_REPORT_EVERY;
    const chain = Math.max(1, Math.min(program.maxChain, every * perEpoch));
    const total = o.maxEpochs * perEpoch;
    const means = new EpochMeans(n, perEpoch);
    const startedAt = optim.t;
    let t = optim.t;
    let bestLoss = resume?.bestLoss ?? Infinity;
    let state: ProgramState | null = { theta, optim }; // null once the program has moved past what the host holds
    // Chains of a whole number of epochs end on epoch ends, where an abort then stops; longer epochs span several
    // chains, and the state at each epoch end is read so that an abort between them can return to it.
    const epochSpansChains = perEpoch > 1 && perEpoch > chain;
    let wholeEpoch: ProgramState = { theta: theta.slice(), optim: { m: optim.m.slice(), v: optim.v.slice(), t: optim.t } };
    let stopReason: ModelTrainResult['stopReason'] = 'max-epochs';
    let divergedAtEpoch: number | undefined;
    let final: { loss: number; gradNorm: number } | null = null;
    let lastEpoch: EpochInfo | null = null;
    let snapshotEpoch = t / perEpoch;
    let lastYield = performance.now();
    /** The state after update `to`, from an earlier one: the updates between run again, the same batches and rates. */
    const replay = async (from: ProgramState, to: number): Promise<ProgramState> => {
      const t0 = from.optim.t;
      const steps = to - t0;
      program.finish();
      await program.start(from, { optimizer: o.optimizer, batchSize: batches.size });
      const run = await program.run({
        from: t0, batches: Array.from({ length: steps }, (_, s) => batches.at(t0 + s)), lrs: Array.from({ length: steps }, (_, s) => scheduledRate(o.lr, schedule, t0 + s)),
        tol: null, explodeFactor: Infinity, bestLoss: Infinity, evaluateAfter: false, readState: true,
      });
      const state = run.state ?? await program.read();
      if (run.losses.length !== steps || state.optim.t !== to) throw new Error(`training: replaying updates ${t0}..${to - 1} stopped after ${run.losses.length}`);
      return state;
    };
    /**
     * The last good state before the evaluation of update failedAt went wrong, and the parameters it went wrong
     * at (for the report: where a formula is not finite). Where the program kept only a chain's start (the GPU
     * programs), the updates from there run again, so every backend stops at the same parameters.
     */
    const recover = async (failedAt: number): Promise<{ good: ProgramState; failed: Float64Array }> => {
      const live = await program.read();
      const good = await program.lastGood(failedAt);
      if (good.optim.t === failedAt - 1 && live.optim.t === failedAt) return { good, failed: live.theta };
      const failed = live.optim.t === failedAt ? live.theta : (await replay(good, failedAt)).theta;
      return { good: good.optim.t === failedAt - 1 ? good : await replay(good, failedAt - 1), failed };
    };
    let divergedTheta: Float64Array | undefined;
    const fails = (loss: number, gradNorm: number) => !Number.isFinite(loss) || !Number.isFinite(gradNorm) || explodes(loss, bestLoss, explode);
    while (t < total) {
      if (o.signal?.aborted) {
        stopReason = 'aborted';
        if (t % perEpoch !== 0) {
          // The program goes back too, so that the final evaluation and a divergence found there see this state.
          program.finish();
          await program.start(wholeEpoch, { optimizer: o.optimizer, batchSize: batches.size });
          state = wholeEpoch;
          t = state.optim.t;
          final = null;
        }
        break;
      }
      const k = stepsPerSubmit(chain, perEpoch, t, total);
      const endsEpoch = (t + k) % perEpoch === 0;
      const plan: ChainPlan = {
        from: t,
        batches: Array.from({ length: k }, (_, s) => batches.at(t + s)),
        lrs: Array.from({ length: k }, (_, s) => scheduledRate(o.lr, schedule, t + s)),
        tol: o.tol ?? null,
        explodeFactor: explode,
        bestLoss,
        evaluateAfter: perEpoch === 1 && t + k === total,
        readState: endsEpoch && (epochSpansChains || (o.onSnapshot !== undefined && (t + k) / perEpoch - snapshotEpoch >= every)),
      };
      const record = await program.run(plan);
      state = record.state ?? null;
      const evaluated = record.losses.length;
      let failedAt = -1;
      for (let s = 0; s < evaluated; s++) {
        const loss = record.losses[s];
        const gradNorm = record.gradNorms[s];
        const deviceSaw = record.stop === 'diverged' && s === evaluated - 1;
        if (deviceSaw || fails(loss, gradNorm)) {
          failedAt = t + s;
          break;
        }
        const info = means.add(t + s, plan.batches[s].rows, loss, gradNorm);
        if (info) {
          bestLoss = Math.min(bestLoss, info.loss);
          lastEpoch = info;
          o.onEpoch?.(info);
        }
      }
      if (failedAt >= 0) {
        if (failedAt === startedAt) throw new StartDivergenceError(startedAt, record.losses[failedAt - t], record.gradNorms[failedAt - t]);
        ({ good: state, failed: divergedTheta } = await recover(failedAt));
        t = state.optim.t;
        stopReason = 'diverged';
        divergedAtEpoch = Math.floor(failedAt / perEpoch);
        break;
      }
      if (record.stop === 'converged') {
        // The evaluation that met the tolerance was at the parameters the run ends with: no update followed.
        t += evaluated - 1;
        final = { loss: record.losses[evaluated - 1], gradNorm: record.gradNorms[evaluated - 1] };
        stopReason = 'tolerance';
        break;
      }
      if (evaluated !== k) throw new Error(`training: the program evaluated ${evaluated} of ${k} updates without a reason`);
      t += k;
      if (record.after) final = record.after;
      if (endsEpoch && state) wholeEpoch = state;
      if (plan.readState && state && o.onSnapshot && t / perEpoch - snapshotEpoch >= every) {
        o.onSnapshot(snapshotOf(state, bestLoss, batching));
        snapshotEpoch = t / perEpoch;
      }
      if (performance.now() - lastYield > YIELD_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = performance.now();
      }
    }
    state ??= await program.read();
    if (state.optim.t !== t) throw new Error(`training: the program holds update ${state.optim.t}, the loop counted ${t}`);
    // Stopped by the user: a streamed run ends now rather than read its rows once more to evaluate the result.
    const unevaluated = !final && stopReason === 'aborted' && program.fromStream === true;
    if (unevaluated) final = lastEpoch ?? { loss: NaN, gradNorm: NaN };
    if (!final || stopReason === 'diverged') {
      const g = await program.evaluate(state.theta);
      final = { loss: g.loss, gradNorm: norm2(g.grad) };
    }
    if (stopReason !== 'diverged' && stopReason !== 'tolerance' && !unevaluated && t > startedAt && fails(final.loss, final.gradNorm)) {
      // The last update's result is judged like every other: no evaluation followed it inside the run.
      ({ good: state, failed: divergedTheta } = await recover(t));
      divergedAtEpoch = Math.floor(t / perEpoch);
      t = state.optim.t;
      stopReason = 'diverged';
      const g = await program.evaluate(state.theta);
      final = { loss: g.loss, gradNorm: norm2(g.grad) };
    }
    // Full batch: the history ends with the evaluation at the returned parameters.
    if (perEpoch === 1 && stopReason === 'max-epochs') o.onEpoch?.({ epoch: t, ...final } satisfies EpochInfo);
    const result: ModelTrainResult = {
      theta: state.theta, loss: final.loss, gradNorm: final.gradNorm, epochs: Math.floor(t / perEpoch), updates: t, stopReason,
      snapshot: snapshotOf(state, bestLoss, batching),
    };
    if (divergedAtEpoch !== undefined) result.divergedAtEpoch = divergedAtEpoch;
    if (unevaluated) result.lossOf = 'last-epoch';
    if (divergedTheta !== undefined) result.divergedTheta = divergedTheta;
    return result;
  } finally {
    program.finish();
  }
}

function snapshotOf(s: ProgramState, bestLoss: number, batching: SnapshotBatching): ModelSnapshot {
  return { theta: s.theta.slice(), optim: { m: s.optim.m.slice(), v: s.optim.v.slice(), t: s.optim.t }, bestLoss, batching: { ...batching } };
}

/**
 * Updates chained in the next chain: as many as `chain` allows, ending on an epoch boundary whenever an
 * epoch has several batches (snapshots, and so resumes, fall on epoch ends).
 */
export function stepsPerSubmit(chain: number, perEpoch: number, t: number, total: number): number {
  const left = total - t;
  if (perEpoch === 1) return Math.min(chain, left);
  if (perEpoch <= chain) return Math.min(left, Math.floor(chain / perEpoch) * perEpoch - (t % perEpoch));
  return Math.min(chain, left, perEpoch - (t % perEpoch));
}
