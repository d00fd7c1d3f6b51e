// The classifier mode's run: a model engine (GPU, or the CPU twin) on a generated dataset, trained in
// chunks of epochs that resume from the previous chunk's snapshot, one chunk per animation frame, with
// the chunk sized to keep a frame's work short. After each chunk the accuracy and the decision grid are
// recomputed on the CPU from the current parameters.
import { FastCpuModelEngine } from '../../cpu-fast/fast-engines.ts';
import { GpuModelEngine } from '../../gpu/models/gpu-model-engine.ts';
import type { ModelEngine, ModelSnapshot } from '../../models/model-engine.ts';
import { initParameters, type NetworkConfig } from '../../models/network.ts';
import type { OptimizerConfig } from '../../optim/config.ts';
import type { Backend } from '../backend.ts';
import { nextFrame } from '../tasks.ts';
import type { ClassifierDataset } from './datasets.ts';
import { dataExtent, gridClasses, gridPoints, trainingAccuracy, type Extent } from './grid.ts';

export const GRID_RES = 96;
export const SEED = 1;
// GPU chunks wait on the device without blocking the page, and the CPU engine yields every 50 ms, so a
// chunk may take a few frames: it grows while it takes under TARGET_MS (amortizing each call's setup).
const TARGET_MS = 120;
const MAX_CHUNK = 512;
const MIN_CHUNK = 4;

export type ClsState = 'loading' | 'ready' | 'running' | 'paused' | 'done' | 'diverged' | 'error';

export async function createModelEngine(backend: Backend, config: NetworkConfig, ds: ClassifierDataset): Promise<ModelEngine> {
  return backend.kind === 'gpu' ? GpuModelEngine.create(backend.gpu, config, ds.data) : new FastCpuModelEngine(config, ds.data, { pool: backend.threads.pool });
}

export class ClassifierRun {
  state: ClsState = 'ready';
  message = '';
  theta: Float64Array;
  epoch = 0;
  loss = NaN;
  accuracy = 0;
  cells: Uint8Array = new Uint8Array(0);
  readonly extent: Extent;
  readonly lossEpochs: number[] = [];
  readonly lossValues: number[] = [];
  /** Bumped whenever something shown changes. */
  version = 0;
  lr = 0.03;
  chunk = 16;
  private snapshot: ModelSnapshot | null = null;
  private abort: AbortController | null = null;
  private loop: Promise<void> = Promise.resolve();
  private readonly points: Float32Array;

  constructor(
    readonly engine: ModelEngine,
    readonly config: NetworkConfig,
    readonly dataset: ClassifierDataset,
    public optimizer: OptimizerConfig,
  ) {
    this.extent = dataExtent(dataset.data);
    this.points = gridPoints(this.extent, GRID_RES);
    this.theta = initParameters(config, SEED);
    this.refresh();
  }

  private refresh(): void {
    this.accuracy = trainingAccuracy(this.config, this.theta, this.dataset.data);
    this.cells = gridClasses(this.config, this.theta, this.points);
    this.version++;
  }

  /** Back to the initial parameters with a fresh optimizer state (also after an optimizer change). */
  async reset(): Promise<void> {
    await this.pause();
    this.theta = initParameters(this.config, SEED);
    this.snapshot = null;
    this.epoch = 0;
    this.loss = NaN;
    this.lossEpochs.length = 0;
    this.lossValues.length = 0;
    this.state = 'ready';
    this.message = '';
    this.refresh();
  }

  async pause(): Promise<void> {
    this.abort?.abort();
    await this.loop;
  }

  /** Trains `epochs` more epochs from where the run stands. */
  train(epochs: number): void {
    if (this.state === 'running') return;
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
        const r = await this.engine.train({
          lr: this.lr, maxEpochs: this.epoch + k, optimizer: this.optimizer, explodeFactor: 100,
          reportEvery: Math.min(k, 64), signal,
          // A resumed chunk starts at its snapshot's parameters (this.theta, the previous chunk's end).
          ...(this.snapshot ? { resumeFrom: this.snapshot } : { init: this.theta }),
          onEpoch: (e) => {
            this.lossEpochs.push(e.epoch);
            this.lossValues.push(e.loss);
          },
        });
        const ms = performance.now() - t0;
        this.snapshot = r.snapshot;
        this.theta = r.theta;
        this.epoch = r.epochs;
        this.loss = r.loss;
        this.refresh();
        if (r.stopReason === 'diverged') {
          this.state = 'diverged';
          this.message = `Diverged at epoch ${r.divergedAtEpoch}: the loss blew up. Lower the learning rate and press Reset.`;
          return;
        }
        if (ms < TARGET_MS && k === this.chunk) this.chunk = Math.min(MAX_CHUNK, this.chunk * 2);
        else if (ms > 4 * TARGET_MS) this.chunk = Math.max(MIN_CHUNK, Math.floor(this.chunk / 2));
        await nextFrame();
      }
      this.state = this.epoch >= target ? 'done' : 'paused';
    } catch (e) {
      this.state = 'error';
      this.message = `Training failed: ${(e as Error).message}`;
    } finally {
      this.version++;
    }
  }

  async dispose(): Promise<void> {
    await this.pause();
    this.engine.dispose();
  }
}
