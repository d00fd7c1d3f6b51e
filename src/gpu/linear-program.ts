// The linear engine's side of the one training loop (src/train/loop.ts): chains of fused steps. A step is
// pass 1 over every slice of its batch, the reduce and apply_update.wgsl, which applies the stopping rules
// on the device (a tolerance met, a loss that is not finite or explodes: then theta goes back to
// theta_prev, the parameters before the last update) so that steps chain without a read-back. One read-back
// per chain brings the device's state, the (J, |grad J|) history and theta. Streamed data: a step is a pass
// over the file, so a chain is one step.
import { checkLinearSetup, thetaGradient, type GradientResult, type LinearParams } from '../models/linear.ts';
import { STATUS_DIVERGED, STATUS_RUNNING } from '../core/train-status.ts';
import type { OptimizerConfig } from '../optim/config.ts';
import type { ChainPlan, ChainRecord, ProgramState, TrainingProgram } from '../train/program.ts';
import { ChainStarts } from '../train/chain-starts.ts';
import type { GpuBatch } from './linear-buffers.ts';
import { packTrainState, packUpdateUniforms, readTrainState, TRAIN_STATE_BYTES } from './uniforms.ts';
import { historyAt, historySpan } from './history-ring.ts';

const kLabel = 'nabla.linear.train';

/** What the program borrows from its engine (GpuLinearEngine), which owns the data, buffers and passes. */
export interface LinearProgramContext {
  device(): GPUDevice;
  n: number;
  d: number;
  historyCap: number;
  streamed: boolean;
  buffers: {
    theta: GPUBuffer; thetaPrev: GPUBuffer; state: GPUBuffer; history: GPUBuffer; updateUniforms: GPUBuffer; readback: GPUBuffer;
    start0: GPUBuffer; start1: GPUBuffer;
  };
  /** The GPU batches of a batch size, in row order (batch i holds rows i * size ...). */
  batches(size: number): GpuBatch[];
  /**
   * An encoder holding `before`'s commands then these evaluations (and updates), or, streamed, an empty one
   * after running them (`before` then submitted first).
   */
  encodeSteps(batches: GpuBatch[], before: (encoder: GPUCommandEncoder) => void): Promise<GPUCommandEncoder>;
  /** Streamed: starts reading the next pass's first chunk while this one finishes. */
  prime(): void;
  submitAndRead(encoder: GPUCommandEncoder, bytes: number, what: string): Promise<ArrayBuffer>;
  gradient(at: LinearParams): Promise<GradientResult>;
}

export class GpuLinearProgram implements TrainingProgram {
  readonly maxChain: number;
  private t = 0;
  private size = 0;
  private diverged = false;
  private readonly starts: [GPUBuffer, GPUBuffer];
  private started = false;
  private readonly chainStarts = new ChainStarts();

  constructor(private readonly ctx: LinearProgramContext) {
    // Room in the history ring for the chain and the evaluation after it.
    this.maxChain = ctx.streamed ? 1 : Math.max(1, ctx.historyCap - 1);
    this.starts = [ctx.buffers.start0, ctx.buffers.start1];
  }

  get n(): number {
    return this.ctx.n;
  }

  initialParameters(): Float64Array {
    return new Float64Array(this.ctx.d + 1);
  }

  check(setup: { optimizer: OptimizerConfig; constantLr: boolean; batchSize: number }): void {
    checkLinearSetup(setup, this.ctx.n);
    if (this.ctx.streamed && setup.batchSize < this.ctx.n) throw new RangeError('batch size: streamed data trains full-batch only (mini-batches need resident data)');
  }

  async start(state: ProgramState, setup: { bestLoss: number; batchSize: number }): Promise<void> {
    this.size = setup.batchSize;
    const { d, buffers } = this.ctx;
    if (state.theta.length !== d + 1) throw new RangeError(`resumeFrom: snapshot has ${state.theta.length - 1} weights, the data ${d}`);
    const device = this.ctx.device();
    const theta = Float32Array.from(state.theta);
    device.queue.writeBuffer(buffers.theta, 0, theta);
    device.queue.writeBuffer(buffers.thetaPrev, 0, theta);
    // The device compares with its best loss after update 0 only: a resumed run's is the snapshot's.
    const bestLoss = Number.isFinite(setup.bestLoss) ? setup.bestLoss : 0;
    device.queue.writeBuffer(buffers.state, 0, packTrainState({ status: STATUS_RUNNING, step: state.optim.t, bestLoss }));
    this.t = state.optim.t;
    this.diverged = false;
    this.chainStarts.reset();
    this.started = true;
    this.ctx.batches(this.size);
  }

  async run(plan: ChainPlan): Promise<ChainRecord> {
    if (!this.started) throw new Error('GpuLinearProgram: run() before start()');
    const { d, historyCap, buffers } = this.ctx;
    const k = plan.batches.length;
    const lr = plan.lrs[0];
    if (plan.lrs.some((v) => v !== lr)) throw new RangeError('GpuLinearProgram: one learning rate per chain (the fused update reads it from its uniforms)');
    const all = this.ctx.batches(this.size);
    const steps = plan.batches.map((b) => {
      const batch = all[b.start / this.size];
      if (!batch || b.rows !== Math.min(this.size, this.ctx.n - b.start)) throw new RangeError(`GpuLinearProgram: no batch of ${this.size} starts at row ${b.start} (batches cut inside chunks need resident batches of their own)`);
      return batch;
    });
    if (plan.evaluateAfter) steps.push(this.ctx.batches(this.ctx.n)[0]);
    const device = this.ctx.device();
    // The device runs updates while step < maxUpdates: this chain's, then (evaluateAfter) one evaluation only.
    device.queue.writeBuffer(buffers.updateUniforms, 0, packUpdateUniforms({
      lr, tol: plan.tol ?? -1, explodeFactor: plan.explodeFactor, maxUpdates: plan.from + k, params: d + 1, historyCap,
    }));
    device.queue.writeBuffer(buffers.state, 0, Uint32Array.of(STATUS_RUNNING));
    const start = this.chainStarts.next;
    const thetaBytes = (d + 1) * 4;
    // The chain's start state, copied aside in the chain's own submit (the last good state, should it diverge).
    const encoder = await this.ctx.encodeSteps(steps, (e) => e.copyBufferToBuffer(buffers.theta, 0, this.starts[start], 0, thetaBytes));
    if (!plan.evaluateAfter) this.ctx.prime();
    const historyBytes = historyCap * 8;
    encoder.copyBufferToBuffer(buffers.state, 0, buffers.readback, 0, TRAIN_STATE_BYTES);
    encoder.copyBufferToBuffer(buffers.history, 0, buffers.readback, TRAIN_STATE_BYTES, historyBytes);
    encoder.copyBufferToBuffer(buffers.theta, 0, buffers.readback, TRAIN_STATE_BYTES + historyBytes, thetaBytes);
    const raw = await this.ctx.submitAndRead(encoder, TRAIN_STATE_BYTES + historyBytes + thetaBytes, 'train');
    this.chainStarts.ran(plan.from);
    const state = readTrainState(raw);
    const history = new Float32Array(raw, TRAIN_STATE_BYTES, historyCap * 2);
    // state.step counts good evaluations; a divergence records its evaluation at state.step without counting it.
    this.diverged = state.status === STATUS_DIVERGED;
    const good = state.step - plan.from;
    const seen = this.diverged ? good + 1 : Math.min(good, k);
    const { losses, gradNorms } = historySpan(history, plan.from, seen);
    // The evaluation after the chain stops the device (at the epoch limit, or the tolerance, checked first):
    // for the loop it is only the final evaluation.
    const converged = !this.diverged && state.status !== STATUS_RUNNING && good <= k;
    const record: ChainRecord = { losses, gradNorms, stop: this.diverged ? 'diverged' : converged ? 'converged' : null };
    if (plan.evaluateAfter && good === k + 1) record.after = historyAt(history, plan.from + k);
    // Converged: the evaluation that met the tolerance counted as a step, but no update followed it.
    this.t = this.diverged ? state.step - 1 : converged ? state.step - 1 : plan.from + k;
    if (!this.diverged) record.state = { theta: Float64Array.from(new Float32Array(raw, TRAIN_STATE_BYTES + historyBytes, d + 1)), optim: emptyOptim(this.t) };
    return record;
  }

  private async readTheta(source: GPUBuffer, t: number): Promise<ProgramState> {
    const bytes = (this.ctx.d + 1) * 4;
    const encoder = this.ctx.device().createCommandEncoder({ label: `${kLabel}.theta.encoder` });
    encoder.copyBufferToBuffer(source, 0, this.ctx.buffers.readback, 0, bytes);
    const theta = new Float32Array(await this.ctx.submitAndRead(encoder, bytes, 'theta'));
    return { theta: Float64Array.from(theta), optim: emptyOptim(t) };
  }

  read(): Promise<ProgramState> {
    return this.readTheta(this.ctx.buffers.theta, this.t);
  }

  lastGood(failedAt: number): Promise<ProgramState> {
    // The device put theta back to the parameters before the failing evaluation's update: exactly the last good.
    if (this.diverged) return this.readTheta(this.ctx.buffers.theta, failedAt - 1);
    // The host saw an explosion the device's float32 comparison did not: the start of a chain that evaluated well.
    const { index, t } = this.chainStarts.before(failedAt, 'GpuLinearProgram');
    return this.readTheta(this.starts[index], t);
  }

  async evaluate(theta: Float64Array): Promise<{ loss: number; grad: Float64Array }> {
    const d = this.ctx.d;
    const g = await this.ctx.gradient({ w: theta.subarray(0, d), b: theta[d] });
    return { loss: g.loss, grad: thetaGradient(g) };
  }

  finish(): void {
    this.started = false;
  }
}

function emptyOptim(t: number): ProgramState['optim'] {
  return { m: new Float64Array(0), v: new Float64Array(0), t };
}
