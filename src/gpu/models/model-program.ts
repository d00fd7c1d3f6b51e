// The model engine's side of the one training loop (src/train/loop.ts): chains of updates on the GPU.
// A chain is recorded into one submit: per update the gradient chain (mlp-passes.ts) over its batch, the
// history record (and the tolerance stop) and the fused optimizer update; where pass 1's partial rows allow,
// the gradient's fold, the record and the update are one dispatch (fold-step-pass.ts); the submit reads back only
// (J, |grad J|) per update and the stop flag. Each submit first copies the parameters and moments aside on the
// GPU, alternating between two buffers, so that the last good state after a divergence never needs a read-back
// before it is asked for; the state comes back only for a snapshot, a divergence or the end of training.
import type { BatchRange } from '../../models/batches.ts';
import type { ModelRules } from '../../models/rules.ts';
import { stateSlots, type OptimizerConfig } from '../../optim/config.ts';
import type { ChainPlan, ChainRecord, ProgramState, TrainingProgram } from '../../train/program.ts';
import { ChainStarts } from '../../train/chain-starts.ts';
import type { GpuContext } from '../device.ts';
import type { DeviceIo } from '../device-io.ts';
import { createBuffersChecked } from '../resources.ts';
import { historySpan } from '../history-ring.ts';
import { MlpHistoryPass } from './mlp-passes.ts';
import { CONTROL_BYTES, CONTROL_CONVERGED, NO_TOLERANCE, OptimUpdatePass } from './optim-update-pass.ts';
import { FoldStepPass, foldStepApplies } from './fold-step-pass.ts';

const kLabel = 'nabla.model.train';

/**
 * The gradient of a batch as recorded work (MlpGradientPasses, FormulaGradientPasses): each chained update
 * reads its batch from its own uniform slot, and the chain writes grad_loss = (dJ/dθ, J) for it.
 */
export interface GradientPasses {
  readonly slots: number;
  writeSlots(batches: readonly BatchRange[]): void;
  record(pass: GPUComputePassEncoder, slot: number): void;
  /** Where the gradient's second level is a plain fold of partial rows (FormulaGradientPasses): its pass 1 alone. */
  readonly partialRows?: PartialRowsSource;
}

/**
 * Pass 1 of a gradient whose partial rows (one per workgroup, P + 1 sums each) a step of few parameters folds
 * itself, with its history record and update, in one dispatch (FoldStepPass) instead of three.
 */
export interface PartialRowsSource {
  readonly partials: GPUBuffer;
  /** Most partial rows the batch of any slot writes. */
  readonly maxChunks: number;
  /** Partial rows the batch written to `slot` writes. */
  chunks(slot: number): number;
  recordPartials(pass: GPUComputePassEncoder, slot: number): void;
}

/** What the program borrows from its engine (GpuModelEngine, GpuFormulaEngine), which owns the data and the gradient passes. */
export interface ModelProgramContext {
  gpu: GpuContext;
  io: DeviceIo;
  /** The model's starting parameters, parameter checks and weight-decay mask. */
  rules: ModelRules;
  n: number;
  /** rows: the largest batch one evaluation covers; params: P; workgroupSize: of the history and optimizer passes. */
  plan: { rows: number; params: number; workgroupSize: number };
  /** theta (P values) and grad_loss (P + 1: the gradient, then J). */
  buffers: { theta: GPUBuffer; gradLoss: GPUBuffer };
  passes: GradientPasses;
  /** false: history and update as their own passes even where the step could fold (tests compare the two). */
  foldStep?: boolean;
  submitAndRead(encoder: GPUCommandEncoder, readback: GPUBuffer, bytes: number, what: string): Promise<ArrayBuffer>;
  evaluate(theta: ArrayLike<number>): Promise<{ loss: number; grad: Float64Array }>;
}

export interface RunResources {
  optim: OptimUpdatePass;
  history: MlpHistoryPass;
  /** The fold, history and update in one dispatch, where the gradient's partial rows allow it. */
  fold: FoldStepPass | null;
  historyBuffer: GPUBuffer;
  readback: GPUBuffer;
  stateReadback: GPUBuffer;
  /** theta and the moments as the last two submits found them (alternating). */
  starts: [GPUBuffer, GPUBuffer];
}

export class GpuModelProgram implements TrainingProgram {
  readonly maxChain: number;
  private res: RunResources | null = null;
  private moments = 0;
  /** Updates applied so far (what the device holds). */
  private t = 0;
  /** Which start buffer holds which chain's start (the last good state after a divergence). */
  private readonly chainStarts = new ChainStarts();

  constructor(protected readonly ctx: ModelProgramContext) {
    this.maxChain = ctx.passes.slots;
  }

  get n(): number {
    return this.ctx.n;
  }

  initialParameters(seed: number): Float64Array {
    return this.ctx.rules.initialParameters(seed);
  }

  check(setup: { batchSize: number }): void {
    if (setup.batchSize > this.ctx.plan.rows) {
      throw new RangeError(`batch size: ${setup.batchSize} samples exceed the ${this.ctx.plan.rows} this engine holds per evaluation (maxBatchRows)`);
    }
  }

  private get stateBytes(): number {
    return (1 + this.moments) * this.ctx.plan.params * 4; // theta, then the moments
  }

  async start(state: ProgramState, setup: { optimizer: OptimizerConfig }): Promise<void> {
    const { gpu, plan, buffers, rules } = this.ctx;
    const optimizer = setup.optimizer;
    rules.validateTheta(state.theta);
    const device = this.ctx.io.live();
    const slots = this.maxChain;
    this.moments = stateSlots(optimizer.kind);
    const made: Array<{ destroy(): void }> = [];
    const buffer = (label: string, bytes: number, usage: number): GPUBufferDescriptor => ({ label: `${kLabel}.${label}`, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
    try {
      const optim = await OptimUpdatePass.create(device, {
        config: optimizer, params: plan.params, workgroupSize: plan.workgroupSize, maxWorkgroupsPerDimension: gpu.shape.maxWorkgroupsPerDimension,
        maxSlots: slots, grad: buffers.gradLoss, theta: buffers.theta, decayMask: rules.decayMask && Float32Array.from(rules.decayMask),
      });
      made.push({ destroy: () => optim.dispose() });
      const read = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
      const copy = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
      const [historyBuffer, readback, stateReadback, start0, start1] = await createBuffersChecked(device, [
        buffer('history', slots * 8, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC),
        buffer('readback', slots * 8 + 16 + this.stateBytes, read),
        buffer('stateReadback', this.stateBytes, read),
        buffer('start0', this.stateBytes, copy),
        buffer('start1', this.stateBytes, copy),
      ]);
      made.push(historyBuffer, readback, stateReadback, start0, start1);
      const starts: [GPUBuffer, GPUBuffer] = [start0, start1];
      const history = await MlpHistoryPass.create(device, plan.workgroupSize, Array.from({ length: slots }, (_, s) => optim.slotBinding(s)), buffers.gradLoss, historyBuffer, optim.control);
      const rows = this.ctx.passes.partialRows;
      const fold = rows && this.ctx.foldStep !== false && foldStepApplies(plan.params, rows.maxChunks)
        ? await FoldStepPass.create(device, { optim, workgroupSize: plan.workgroupSize, gradLoss: buffers.gradLoss, theta: buffers.theta, partials: rows.partials, history: historyBuffer })
        : null;
      if (fold) made.push({ destroy: () => fold.dispose() });
      this.res = { optim, history, fold, historyBuffer, readback, stateReadback, starts };
    } catch (e) {
      for (const b of made) b.destroy();
      throw e;
    }
    device.queue.writeBuffer(buffers.theta, 0, Float32Array.from(state.theta));
    this.res.optim.writeState(state.optim);
    this.t = state.optim.t;
    this.chainStarts.reset();
  }

  protected live(): RunResources {
    if (!this.res) throw new Error('GpuModelProgram: run() before start()');
    return this.res;
  }

  async run(plan: ChainPlan): Promise<ChainRecord> {
    const k = plan.batches.length;
    const start = this.beginChain(plan);
    this.ctx.passes.writeSlots(plan.batches);
    plan.batches.forEach((batch, s) => this.foldSlot(s, batch.rows));
    const encoder = this.ctx.io.live().createCommandEncoder({ label: `${kLabel}.encoder` });
    this.saveStart(encoder, start);
    const pass = encoder.beginComputePass({ label: `${kLabel}.pass` });
    for (let s = 0; s < k; s++) this.recordStep(pass, s);
    pass.end();
    // The state comes back in the same submit as the history, so that a snapshot needs no device after the
    // callbacks (which may lose it).
    const bytes = this.copyOut(encoder, plan);
    return this.endChain(plan, start, await this.ctx.submitAndRead(encoder, this.live().readback, bytes, 'train'));
  }

  /** After the gradient's slot s was pointed at a batch of `rows`: the fold step's slot too. */
  protected foldSlot(s: number, rows: number): void {
    const { fold } = this.live();
    if (fold) fold.writeSlot(s, this.ctx.passes.partialRows!.chunks(s), rows);
  }

  /** Records update s: its gradient, history record and update (as one fold step after pass 1 where it can). */
  protected recordStep(pass: GPUComputePassEncoder, s: number): void {
    const { optim, history, fold } = this.live();
    const { passes } = this.ctx;
    if (fold) {
      passes.partialRows!.recordPartials(pass, s);
      fold.run(pass, s);
      return;
    }
    passes.record(pass, s);
    history.run(pass, s);
    optim.run(pass, s);
  }

  /** Checks the chain and writes its steps (learning rates, tolerance); returns the start buffer it keeps. */
  protected beginChain(plan: ChainPlan): number {
    const { optim } = this.live();
    const k = plan.batches.length;
    if (k > this.maxChain) throw new RangeError(`GpuModelProgram: a chain of ${k} updates exceeds the ${this.maxChain} slots`);
    optim.writeSteps(plan.from, plan.lrs, plan.tol ?? NO_TOLERANCE);
    return this.chainStarts.next;
  }

  /** Records copies of theta and the moments into start buffer `start` (the chain's first submit). */
  protected saveStart(encoder: GPUCommandEncoder, start: number): void {
    const { optim, starts } = this.live();
    const P = this.ctx.plan.params;
    encoder.copyBufferToBuffer(this.ctx.buffers.theta, 0, starts[start], 0, P * 4);
    optim.copyState(encoder, starts[start], P * 4);
  }

  /** Records the chain's read-back (history ring, stop flag, the state when asked for); returns its bytes. */
  protected copyOut(encoder: GPUCommandEncoder, plan: ChainPlan): number {
    const { optim, historyBuffer, readback } = this.live();
    const P = this.ctx.plan.params;
    const historyBytes = this.maxChain * 8;
    const stateAt = historyBytes + 16;
    encoder.copyBufferToBuffer(historyBuffer, 0, readback, 0, historyBytes);
    encoder.copyBufferToBuffer(optim.control, 0, readback, historyBytes, CONTROL_BYTES);
    if (!plan.readState) return historyBytes + CONTROL_BYTES;
    encoder.copyBufferToBuffer(this.ctx.buffers.theta, 0, readback, stateAt, P * 4);
    optim.copyState(encoder, readback, stateAt + P * 4);
    return stateAt + this.stateBytes;
  }

  /** The chain's record from its read-back (copyOut's layout). */
  protected endChain(plan: ChainPlan, start: number, raw: ArrayBuffer): ChainRecord {
    const slots = this.maxChain;
    const k = plan.batches.length;
    const historyBytes = slots * 8;
    this.chainStarts.ran(plan.from);
    const [status, stoppedAt] = new Uint32Array(raw, historyBytes, 2);
    const converged = status === CONTROL_CONVERGED;
    // Converged: the update that met the tolerance recorded its history, and no update ran after it.
    const recorded = converged ? stoppedAt - plan.from + 1 : k;
    this.t = converged ? stoppedAt : plan.from + k;
    const { losses, gradNorms } = historySpan(new Float32Array(raw, 0, slots * 2), plan.from, recorded);
    const record: ChainRecord = { losses, gradNorms, stop: converged ? 'converged' : null };
    if (plan.readState) record.state = this.stateFrom(raw, historyBytes + 16, this.t);
    return record;
  }

  private stateFrom(raw: ArrayBuffer, offset: number, t: number): ProgramState {
    const P = this.ctx.plan.params;
    const m = this.moments;
    const s = new Float32Array(raw, offset, (1 + m) * P);
    return {
      theta: Float64Array.from(s.subarray(0, P)),
      optim: { m: Float64Array.from(m >= 1 ? s.subarray(P, 2 * P) : []), v: Float64Array.from(m === 2 ? s.subarray(2 * P, 3 * P) : []), t },
    };
  }

  private async readFrom(source: 'live' | GPUBuffer, t: number): Promise<ProgramState> {
    const { optim, stateReadback } = this.live();
    const P = this.ctx.plan.params;
    const encoder = this.ctx.io.live().createCommandEncoder({ label: `${kLabel}.state.encoder` });
    if (source === 'live') {
      encoder.copyBufferToBuffer(this.ctx.buffers.theta, 0, stateReadback, 0, P * 4);
      optim.copyState(encoder, stateReadback, P * 4);
    } else {
      encoder.copyBufferToBuffer(source, 0, stateReadback, 0, this.stateBytes);
    }
    return this.stateFrom(await this.ctx.submitAndRead(encoder, stateReadback, this.stateBytes, 'state'), 0, t);
  }

  read(): Promise<ProgramState> {
    return this.readFrom('live', this.t);
  }

  lastGood(failedAt: number): Promise<ProgramState> {
    const { index, t } = this.chainStarts.before(failedAt, 'GpuModelProgram');
    return this.readFrom(this.live().starts[index], t);
  }

  evaluate(theta: Float64Array): Promise<{ loss: number; grad: Float64Array }> {
    return this.ctx.evaluate(theta);
  }

  finish(): void {
    const res = this.res;
    if (!res) return;
    this.res = null;
    res.optim.dispose();
    res.fold?.dispose();
    res.historyBuffer.destroy();
    res.readback.destroy();
    res.stateReadback.destroy();
    for (const b of res.starts) b.destroy();
  }
}
