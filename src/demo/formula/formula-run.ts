// The formula mode's run: a FormulaEngine trained in chunks of epochs, each resuming from the previous
// chunk's snapshot (so Adam's moments carry on), with the chunk sized to keep the page responsive. It keeps
// the loss history, the parameters' path and, on request, J over two parameters around the current point.
import type { FormulaModel } from '../../formula/model.ts';
import type { FormulaEngine } from '../../models/formula.ts';
import type { ModelSnapshot } from '../../models/model-engine.ts';
import type { OptimizerConfig } from '../../optim/config.ts';
import { gridSpec } from '../surface.ts';
import { nextFrame, yieldTask } from '../tasks.ts';
import type { FormulaDataset } from './formula-data.ts';
import { formulaSurface, paramWindow, surfaceRows } from './formula-surface.ts';
import type { SurfaceGridSpec } from '../../core/loss-surface.ts';
import type { Window } from '../surface.ts';

const TARGET_MS = 100;
const MAX_CHUNK = 1024;
const MIN_CHUNK = 8;
const GRID = 48;
/** The map is recomputed after a chunk at most this often while training (and always when a run stops). */
const SURFACE_EVERY_MS = 500;

export type FormulaState = 'ready' | 'running' | 'paused' | 'done' | 'diverged' | 'error';

export interface FormulaSurfaceView {
  grid: Float64Array;
  spec: SurfaceGridSpec;
  window: Window;
  axes: [number, number];
  sampled: boolean;
}

export class FormulaRun {
  state: FormulaState = 'ready';
  message = '';
  theta: Float64Array;
  grad: Float64Array;
  epoch = 0;
  loss = NaN;
  readonly lossEpochs: number[] = [];
  readonly lossValues: number[] = [];
  /** theta after each chunk, from the start. */
  readonly path: Float64Array[] = [];
  surface: FormulaSurfaceView | null = null;
  /** The two parameters on the map (indices into model.params). */
  axes: [number, number] = [0, 1];
  version = 0;
  lr = 0.05;
  private chunk = 32;
  private snapshot: ModelSnapshot | null = null;
  private abort: AbortController | null = null;
  private loop: Promise<void> = Promise.resolve();
  private surfaceAt = 0;
  private readonly gridRows: ReturnType<typeof surfaceRows>;

  constructor(readonly engine: FormulaEngine, readonly model: FormulaModel, readonly dataset: FormulaDataset, readonly start: Float64Array, public optimizer: OptimizerConfig) {
    this.theta = Float64Array.from(start);
    this.grad = new Float64Array(start.length);
    this.path.push(this.theta.slice());
    this.gridRows = surfaceRows(dataset.data);
    if (model.params.length < 2) this.axes = [0, 0];
  }

  /** J and ∇J at the start, and the map. */
  async init(): Promise<void> {
    await this.evaluate();
    this.lossEpochs.push(0);
    this.lossValues.push(this.loss);
    await this.refreshSurface();
  }

  private async evaluate(): Promise<void> {
    const g = await this.engine.lossAndGradient(this.theta);
    this.loss = g.loss;
    this.grad = Float64Array.from(g.grad);
    this.version++;
  }

  /** Recomputes J over the chosen pair of parameters around the path (needs two parameters). */
  async refreshSurface(): Promise<void> {
    const [ia, ib] = this.axes;
    if (this.model.params.length < 2 || ia === ib) {
      this.surface = null;
      this.version++;
      return;
    }
    await yieldTask();
    const points = this.path.map((t) => [t[ia], t[ib]] as const);
    const truth = this.dataset.truth;
    if (truth) points.push([truth[ia], truth[ib]]);
    const window = paramWindow(points);
    const spec = gridSpec(window, GRID, GRID);
    const grid = formulaSurface(this.model, this.gridRows.data, this.theta, ia, ib, spec);
    this.surface = { grid, spec, window, axes: [ia, ib], sampled: this.gridRows.sampled };
    this.surfaceAt = performance.now();
    this.version++;
  }

  async setAxes(a: number, b: number): Promise<void> {
    this.axes = [a, b];
    if (this.state !== 'running') await this.refreshSurface();
  }

  async pause(): Promise<void> {
    this.abort?.abort();
    await this.loop;
  }

  /** Back to the starting values with a fresh optimizer state; `why` is the message shown until Train. */
  async reset(why = ''): Promise<void> {
    await this.pause();
    this.theta = Float64Array.from(this.start);
    this.snapshot = null;
    this.epoch = 0;
    this.lossEpochs.length = this.lossValues.length = this.path.length = 0;
    this.path.push(this.theta.slice());
    this.state = 'ready';
    this.message = why;
    await this.init();
  }

  /** Trains `epochs` more epochs from where the run stands. */
  train(epochs: number): void {
    if (this.state === 'running' || this.state === 'error') return;
    const ac = new AbortController();
    this.abort = ac;
    this.state = 'running';
    this.message = '';
    this.version++;
    this.loop = this.run(this.epoch + epochs, ac.signal);
  }

  private async run(target: number, signal: AbortSignal): Promise<void> {
    try {
      while (this.epoch < target && !signal.aborted) {
        const k = Math.min(this.chunk, target - this.epoch);
        const t0 = performance.now();
        const last = this.lossEpochs[this.lossEpochs.length - 1] ?? -1;
        const r = await this.engine.train({
          lr: this.lr, maxEpochs: this.epoch + k, optimizer: this.optimizer, explodeFactor: 1e6,
          reportEvery: Math.min(k, 64), signal,
          // A resumed chunk starts at its snapshot's parameters (this.theta, the previous chunk's end).
          ...(this.snapshot ? { resumeFrom: this.snapshot } : { init: this.theta }),
          onEpoch: (e) => {
            // A resumed chunk reports again the loss its predecessor ended with.
            if (e.epoch <= last) return;
            this.lossEpochs.push(e.epoch);
            this.lossValues.push(e.loss);
          },
        });
        const ms = performance.now() - t0;
        this.snapshot = r.snapshot;
        this.theta = Float64Array.from(r.theta);
        this.epoch = r.epochs;
        this.path.push(this.theta.slice());
        await this.evaluate();
        if (r.stopReason === 'diverged') {
          this.state = 'diverged';
          this.message = `Diverged at epoch ${r.divergedAtEpoch}: the loss blew up; the last good parameters are kept. Lower the learning rate or change the starting values, then Reset.`;
          return;
        }
        if (performance.now() - this.surfaceAt > SURFACE_EVERY_MS) await this.refreshSurface();
        if (ms < TARGET_MS && k === this.chunk) this.chunk = Math.min(MAX_CHUNK, this.chunk * 2);
        else if (ms > 4 * TARGET_MS) this.chunk = Math.max(MIN_CHUNK, Math.floor(this.chunk / 2));
        await nextFrame();
      }
      this.state = this.epoch >= target ? 'done' : 'paused';
      this.message = this.state === 'done' ? `Ran ${this.epoch} epochs.` : '';
    } catch (e) {
      this.state = 'error';
      this.message = `Training failed: ${(e as Error).message}`;
    } finally {
      await this.refreshSurface().catch(() => undefined);
      this.version++;
    }
  }

  async dispose(): Promise<void> {
    await this.pause();
    this.engine.dispose();
  }
}
