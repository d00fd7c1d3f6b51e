// The CPU side of the one training loop (src/train/loop.ts): a TrainingProgram over any function that
// gives the mean loss and gradient of a range of rows at theta (the float64 twins, the fast path), with the
// optimizer's float64 update (optim_update.ts). A chain is one update: the loop sees every loss before the
// next update runs, the program stops before updating on a divergence, and the state before the last update
// is the exact last good one.
import type { BatchRange } from '../models/batches.ts';
import { norm2 } from '../models/model-engine.ts';
import { explodes } from '../models/linear.ts';
import type { ModelRules } from '../models/rules.ts';
import type { OptimizerConfig } from '../optim/config.ts';
import type { ChainPlan, ChainRecord, ProgramState, TrainingProgram } from '../train/program.ts';
import type { ModelGradient } from './mlp_gradient.ts';
import { optimUpdate } from './optim_update.ts';

export type { ModelRules };

/** A model's rules (models/rules.ts) with its data: the rows and their gradient. */
export interface CpuGradientSource extends ModelRules {
  readonly n: number;
  /** The rows come from a RowStream (TrainingProgram.fromStream). */
  readonly fromStream?: boolean;
  /** Mean loss and gradient over rows range.start..range.start+range.rows at theta. */
  gradient(theta: Float64Array, range: BatchRange): ModelGradient | Promise<ModelGradient>;
}

export class CpuProgram implements TrainingProgram {
  readonly maxChain = 1;
  private state: ProgramState | null = null;
  /** The state before the last update (allocated once per run, overwritten each update); valid once hasPrev. */
  private prev: ProgramState | null = null;
  private hasPrev = false;
  private optimizer: OptimizerConfig | null = null;

  constructor(private readonly source: CpuGradientSource) {}

  get n(): number {
    return this.source.n;
  }

  get fromStream(): boolean {
    return this.source.fromStream === true;
  }

  initialParameters(seed: number): Float64Array {
    return this.source.initialParameters(seed);
  }

  check(setup: { optimizer: OptimizerConfig; constantLr: boolean; batchSize: number }): void {
    this.source.check?.(setup);
  }

  async start(state: ProgramState, setup: { optimizer: OptimizerConfig }): Promise<void> {
    this.source.validateTheta(state.theta);
    this.state = copy(state);
    this.prev = copy(state);
    this.hasPrev = false;
    this.optimizer = setup.optimizer;
  }

  private live(): ProgramState {
    if (!this.state) throw new Error('CpuProgram: run() before start()');
    return this.state;
  }

  async run(plan: ChainPlan): Promise<ChainRecord> {
    const state = this.live();
    const losses: number[] = [];
    const gradNorms: number[] = [];
    for (let s = 0; s < plan.batches.length; s++) {
      const g = await this.source.gradient(state.theta, plan.batches[s]);
      const gradNorm = norm2(g.grad);
      losses.push(g.loss);
      gradNorms.push(gradNorm);
      // The loop's divergence rule, applied before the update so that the state before it stays the last good one.
      if (!Number.isFinite(g.loss) || !Number.isFinite(gradNorm) || explodes(g.loss, plan.bestLoss, plan.explodeFactor)) {
        return { losses, gradNorms, stop: 'diverged' };
      }
      if (plan.tol !== null && gradNorm <= plan.tol) return { losses, gradNorms, stop: 'converged', ...(plan.readState && { state: copy(state) }) };
      copyInto(this.prev!, state);
      this.hasPrev = true;
      optimUpdate(this.optimizer!, state.optim, state.theta, g.grad, plan.lrs[s], this.source.decayMask);
    }
    return { losses, gradNorms, stop: null, ...(plan.readState && { state: copy(state) }) };
  }

  async read(): Promise<ProgramState> {
    return copy(this.live());
  }

  async lastGood(failedAt: number): Promise<ProgramState> {
    const state = this.live();
    if (failedAt !== state.optim.t || !this.hasPrev) throw new Error(`CpuProgram: no state kept before update ${failedAt}`);
    return copy(this.prev!);
  }

  async evaluate(theta: Float64Array): Promise<{ loss: number; grad: Float64Array }> {
    return this.source.gradient(theta, { start: 0, rows: this.source.n });
  }

  finish(): void {
    this.state = null;
    this.prev = null;
  }
}

function copyInto(to: ProgramState, from: ProgramState): void {
  to.theta.set(from.theta);
  to.optim.m.set(from.optim.m);
  to.optim.v.set(from.optim.v);
  to.optim.t = from.optim.t;
}

function copy(s: ProgramState): ProgramState {
  return { theta: s.theta.slice(), optim: { m: s.optim.m.slice(), v: s.optim.v.slice(), t: s.optim.t } };
}
