// The training state behind the page: parameters in the space being optimized, the loss history, the
// (w_k, b) path and the loss surface. Training runs in chunks of epochs (chunk.ts: the formula engine's
// train from the current parameters, the one training loop on either backend), each followed by
// engine.lossAndGradient at the new point for the arrows; every engine call goes through one queue, so
// Train, Pause, Step and Reset can be pressed at any time.
import type { StopReason } from '../models/linear.ts';
import type { FormulaData } from '../models/formula.ts';
import { norm2 } from '../models/model-engine.ts';
import { engineChunk, EXPLODE, TOL, type ChunkResult } from './chunk.ts';
import { leastSquares } from '../cpu/least-squares.ts';
import { surfaceMinimum, type SurfaceGridSpec, type SurfaceMoments } from '../cpu/loss_surface.ts';
import type { Standardizer } from '../models/standardize.ts';
import { CHUNK_CAP, type Engines } from './linear-engines.ts';
import type { DemoDataset } from './data.ts';
import { chunkEpochs } from './sample.ts';
import { followPoint, gridSpec, windowAround, type Point, type Window } from './surface.ts';
import { yieldTask } from './tasks.ts';

export { EXPLODE, TOL };
const GRID = 96;

export interface TrainSpace {
  dataset: DemoDataset;
  data: FormulaData; // what the engine trains on (standardized or not)
  standardizer: Standardizer | null;
  k: number; // the feature on the contour map
}

export type RunState = 'ready' | 'running' | 'paused' | 'done' | 'converged' | 'diverged' | 'error';

export interface Surface {
  grid: ArrayLike<number>;
  spec: SurfaceGridSpec;
  moments: SurfaceMoments;
}

export class Trainer {
  readonly d: number;
  readonly theta: Float64Array;
  readonly grad: Float64Array;
  loss = NaN;
  gradNorm = NaN;
  epoch = 0;
  readonly lossEpochs: number[] = [];
  readonly lossValues: number[] = [];
  /** (w_k, b) pairs, one per chunk. */
  readonly path: number[] = [];
  surface: Surface | null = null;
  window: Window = { w0: -1, w1: 1, b0: -1, b1: 1 };
  optimum: Point | null = null;
  samplesPerSec = NaN;
  chunk = 0;
  state: RunState = 'ready';
  message = '';
  /** Bumped on every change; the renderer compares it. */
  version = 0;
  surfaceVersion = 0;
  lr: number;
  private target = 0;
  private run = 0;
  private abort: AbortController | null = null;
  /** Samples per step; null for full batch. Read at each chunk, like lr. */
  batchSize: number | null = null;
  private bestLoss = Infinity;
  private lastChunk = { k: 0, ms: NaN };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly engines: Engines, readonly space: TrainSpace, lr: number, private readonly cpu: boolean) {
    this.d = space.data.d;
    this.theta = new Float64Array(this.d + 1);
    this.grad = new Float64Array(this.d + 1);
    this.lr = lr;
  }

  get point(): Point {
    return { w: this.theta[this.space.k], b: this.theta[this.d] };
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private fail(e: unknown): void {
    this.state = 'error';
    this.message = (e as Error).message ?? String(e);
    console.info(`nabla demo: ${this.message}`);
    this.version++;
  }

  /** The loss and gradient at the starting point, the optimum and the contour map. */
  init(): Promise<void> {
    return this.exclusive(async () => {
      this.path.push(this.point.w, this.point.b);
      await this.evaluateHere();
      await this.breathe();
      const { moments } = await this.engines.surface.evaluate(this.params(), this.space.k, gridSpec(this.window, 2, 2));
      this.optimum = this.findOptimum(moments);
      const first = { w: this.point.w - this.lr * this.grad[this.space.k], b: this.point.b - this.lr * this.grad[this.d] };
      this.window = windowAround([this.point, first, ...(this.optimum ? [this.optimum] : [])], 0.15);
      await this.refreshSurface();
    }).catch((e) => this.fail(e));
  }

  private findOptimum(m: SurfaceMoments): Point | null {
    if (this.d > 1) {
      try {
        const o = leastSquares(this.space.data);
        return { w: o.w[this.space.k], b: o.b };
      } catch { /* collinear features: fall back to the slice's minimum */ }
    }
    const s = surfaceMinimum(m);
    return s ? { w: this.point.w + s.dw, b: this.point.b + s.db } : null;
  }

  /** θ as the loss surface reads it. */
  private params() {
    return { w: this.theta.slice(0, this.d), b: this.theta[this.d] };
  }

  /** The CPU engine computes synchronously: give the page a task boundary before each pass. */
  private async breathe(): Promise<void> {
    if (this.cpu) await yieldTask();
  }

  private async evaluateHere(): Promise<void> {
    await this.breathe();
    const g = await this.engines.engine.lossAndGradient(this.theta);
    this.loss = g.loss;
    this.grad.set(g.grad);
    this.gradNorm = norm2(this.grad);
    if (this.lossEpochs.length === 0) {
      this.lossEpochs.push(0);
      this.lossValues.push(g.loss);
      this.bestLoss = g.loss;
    }
    this.version++;
  }

  private async refreshSurface(): Promise<void> {
    const spec = gridSpec(this.window, GRID, GRID);
    await this.breathe();
    const { grid, moments } = await this.engines.surface.evaluate(this.params(), this.space.k, spec);
    this.surface = { grid, spec, moments };
    this.surfaceVersion++;
    this.version++;
  }

  train(epochs: number): void {
    if (this.state === 'running' || this.state === 'error') return;
    this.target = this.epoch + epochs;
    this.state = 'running';
    this.message = '';
    this.version++;
    this.abort = new AbortController();
    void this.loop(++this.run);
  }

  pause(): void {
    if (this.state !== 'running') return;
    this.abort?.abort(); // a long mini-batch chunk stops at its next read-back
    this.state = 'paused';
    this.version++;
  }

  /** One epoch, then paused. */
  step(): Promise<void> {
    if (this.state === 'running' || this.state === 'error') return Promise.resolve();
    this.state = 'paused';
    this.abort = new AbortController();
    return this.exclusive(() => this.advance(1)).catch((e) => this.fail(e));
  }

  reset(): Promise<void> {
    this.abort?.abort();
    this.state = 'ready';
    return this.exclusive(async () => {
      this.state = 'ready';
      this.theta.fill(0);
      this.epoch = 0;
      this.lossEpochs.length = this.lossValues.length = this.path.length = 0;
      this.samplesPerSec = NaN;
      this.message = '';
      this.path.push(this.point.w, this.point.b);
      await this.evaluateHere();
      if (this.d > 1) await this.refreshSurface();
    }).catch((e) => this.fail(e));
  }

  /** Waits for the engine to be idle, then frees it. */
  async dispose(): Promise<void> {
    this.abort?.abort();
    this.state = 'paused';
    await this.queue;
    this.engines.engine.dispose();
    this.engines.surface.dispose();
  }

  /** `id`: a Pause then Train while a chunk is in flight must not leave two loops running. */
  private async loop(id: number): Promise<void> {
    while (this.state === 'running' && id === this.run) {
      const k = chunkEpochs({
        epoch: this.epoch, remaining: this.target - this.epoch, lastK: this.lastChunk.k, lastMs: this.lastChunk.ms,
        targetMs: this.cpu ? 25 : 40, cap: CHUNK_CAP,
      });
      try {
        await this.exclusive(() => this.advance(k));
      } catch (e) {
        this.fail(e);
      }
      if (this.cpu) await yieldTask();
    }
  }

  private async advance(k: number): Promise<void> {
    const base = this.epoch;
    const t0 = performance.now();
    let r: ChunkResult;
    try {
      r = await engineChunk(this.engines.engine, {
        lr: this.lr, epochs: k, init: this.theta.slice(), batchSize: this.batchSize, seed: base, signal: this.abort?.signal,
        onLoss: (offset, loss) => {
          this.lossEpochs.push(base + offset);
          this.lossValues.push(loss);
        },
      });
    } catch (e) {
      this.finish('diverged', `${(e as Error).message}: try a smaller learning rate, then Reset.`);
      this.version++;
      return;
    }
    this.samplesPerSec = r.samplesPerSec;
    this.theta.set(r.theta);
    this.epoch = base + r.epochs;
    await this.evaluateHere();
    await this.afterChunk(k, t0, r.stop, base + r.failedAt);
  }

  /** The path, the map and the run state after a chunk. */
  private async afterChunk(k: number, t0: number, stop: StopReason, failedAt: number): Promise<void> {
    this.chunk = k;
    this.path.push(this.point.w, this.point.b);
    if (this.d > 1) {
      await this.refreshSurface();
    } else {
      const wider = followPoint(this.window, this.point);
      if (wider) {
        this.window = wider;
        await this.refreshSurface();
      }
    }
    this.lastChunk = { k, ms: performance.now() - t0 };
    this.bestLoss = Math.min(this.bestLoss, this.loss);
    if (stop === 'tolerance') this.finish('converged', `Converged: ‖∇J‖ fell below ${TOL.toExponential(0)} after ${this.epoch} epochs.`);
    else if (stop === 'diverged') {
      this.finish('diverged', `Diverged: the loss grew past ${EXPLODE}× its best at epoch ${failedAt}; the last good parameters are kept. Try a smaller learning rate, then Reset.`);
    } else if (!(this.loss <= EXPLODE * this.bestLoss)) {
      this.finish('diverged', `Diverged: the loss grew past ${EXPLODE}× its best by epoch ${this.epoch}. Try a smaller learning rate, then Reset.`);
    } else if (this.state === 'running' && this.epoch >= this.target) this.finish('done', `Ran ${this.epoch} epochs.`);
    this.version++;
  }

  private finish(state: RunState, message: string): void {
    this.state = state;
    this.message = message;
  }
}
