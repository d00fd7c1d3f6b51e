// The WGSL engine of formula models (src/formula/): the rows, parameters and optimizer state live on the GPU;
// the gradient is the generated pass-1 kernel and the fixed-order reduce (formula-passes.ts), its grid tuned
// per adapter and program (formula-tuning.ts) and checked against the float64 twin before first use.
// Training is the one loop (src/train/loop.ts) over the model engine's program (GpuModelProgram), which
// chains up to `slots` updates per submit, each on its own batch, with the fused optimizer update, the
// history ring, the on-device tolerance stop and the last good state after a divergence.
import { describe as describeModel, type FormulaModel } from '../../formula/model.ts';
import { gradientProgram, type SampleProgram } from '../../formula/program.ts';
import type { ModelTrainOptions, ModelTrainResult } from '../../models/model-engine.ts';
import { formulaRules, validateFormulaData, validateFormulaTheta, type FormulaData, type FormulaEngine } from '../../models/formula.ts';
import { runTraining } from '../../train/loop.ts';
import type { GpuContext } from '../device.ts';
import { DeviceIo } from '../device-io.ts';
import { chooseWorkgroupSize } from '../dispatch.ts';
import { createBufferChecked, createUploadedBuffer } from '../resources.ts';
import { GpuModelProgram } from '../models/model-program.ts';
import { formulaReference } from './formula-check.ts';
import { FORMULA_CHECK_ROWS, type FormulaKernelConfig } from './formula-grid.ts';
import { FormulaNormalEquationsPass } from './formula-normal-pass.ts';
import { FormulaGradientPasses, type FormulaBuffers } from './formula-passes.ts';
import { chooseFormulaKernel, judge, runGradient, type FormulaKernelChoice, type FormulaTuningOptions } from './formula-tuning.ts';

const kLabel = 'nabla.formula';
const DEFAULT_SLOTS = 64;

export interface GpuFormulaEngineOptions extends FormulaTuningOptions {
  /** Most steps chained per submit (uniform slots, history ring). */
  maxReportEvery?: number;
  /** Replacement pass-1 WGSL (tests inject a faulty kernel with it; the creation check must catch it). */
  code?: string;
  /** The same for the normal-equations pass (its check at first use must catch it). */
  normalCode?: string;
}

/** The generated kernel disagrees with the float64 twin: a wrong kernel is an error, never a silent fallback. */
export class FormulaKernelError extends Error {
  constructor(readonly model: string, readonly config: FormulaKernelConfig, detail: string) {
    super(`GPU kernel for ${model} (workgroups of ${config.workgroupSize} x ${config.groups}) disagrees with the float64 twin: ${detail}`);
    this.name = 'FormulaKernelError';
  }
}

export class GpuFormulaEngine implements FormulaEngine {
  readonly device = 'gpu' as const;
  readonly adapter: string;
  readonly n: number;
  private disposed = false;
  /** Built, tuned and checked at the first normalEquations() call. */
  private normal: Promise<FormulaNormalEquationsPass> | null = null;

  private constructor(
    private readonly gpu: GpuContext,
    private readonly io: DeviceIo,
    readonly model: FormulaModel,
    private readonly start: Float64Array,
    n: number,
    private readonly buffers: FormulaBuffers,
    private readonly passes: FormulaGradientPasses,
    /** The grid pass 1 runs and where it came from (explicit, table, tuned, default). */
    readonly kernel: FormulaKernelChoice,
    private readonly readback: GPUBuffer,
    private readonly owned: GPUBuffer[],
    /** The rows on the host: what the normal-equations pass is tuned on and checked against at first use. */
    private readonly data: FormulaData,
    private readonly options: GpuFormulaEngineOptions,
  ) {
    this.adapter = gpu.summary.name;
    this.n = n;
  }

  /** start: the parameters a run begins from without init (startingParameters); also where the kernel is checked. */
  static async create(gpu: GpuContext, model: FormulaModel, data: FormulaData, start: Float64Array, options: GpuFormulaEngineOptions = {}): Promise<GpuFormulaEngine> {
    validateFormulaData(model, data);
    validateFormulaTheta(model, start);
    const program = gradientProgram(model);
    const xBytes = data.n * Math.max(1, data.d) * 4;
    if (xBytes > gpu.maxBindingBytes) {
      throw new RangeError(`dataset: ${data.n} rows x ${data.d} columns take ${xBytes} bytes, more than one storage binding (${gpu.maxBindingBytes})`);
    }
    const { device } = gpu;
    const io = new DeviceIo(device, kLabel);
    const S = program.outputs.length;
    const owned: GPUBuffer[] = [];
    const round = (bytes: number) => Math.max(16, Math.ceil(bytes / 16) * 16);
    const make = async (label: string, bytes: number, usage: number) => {
      const b = await createBufferChecked(device, { label: `${kLabel}.${label}`, size: round(bytes), usage });
      owned.push(b);
      return b;
    };
    const ST = GPUBufferUsage.STORAGE;
    let passes: FormulaGradientPasses | null = null;
    try {
      // The emitted kernel reads at least one column per row: a model of no columns reads zeros.
      const x = await createUploadedBuffer(device, `${kLabel}.x`, data.d === 0 ? new Float32Array(data.n) : data.x, round(xBytes), ST);
      owned.push(x);
      const y = await createUploadedBuffer(device, `${kLabel}.y`, data.y, round(data.n * 4), ST);
      owned.push(y);
      const kernel = await chooseFormulaKernel(gpu, io, model, program, data, { x, y }, start, options);
      const buffers: FormulaBuffers = {
        x, y,
        theta: await make('theta', model.params.length * 4, ST | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC),
        partials: await make('partials', kernel.config.groups * S * 4, ST | GPUBufferUsage.COPY_DST),
        gradLoss: await make('gradLoss', S * 4, ST | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST),
      };
      const readback = await make('readback', S * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      const slots = Math.max(1, options.maxReportEvery ?? DEFAULT_SLOTS);
      passes = await FormulaGradientPasses.create(device, program, kernel.config, gpu.shape.maxWorkgroupsPerDimension, buffers, slots, options.code);
      const engine = new GpuFormulaEngine(gpu, io, model, Float64Array.from(start), data.n, buffers, passes, kernel, readback, owned, data, options);
      await engine.checkKernel(program, data);
      return engine;
    } catch (e) {
      passes?.dispose();
      for (const b of owned) b.destroy();
      throw e;
    }
  }

  /** The engine's own passes over the first rows at the starting parameters against the float64 twin. */
  private async checkKernel(program: SampleProgram, data: FormulaData): Promise<void> {
    const range = { start: 0, rows: Math.min(data.n, FORMULA_CHECK_ROWS) };
    const reference = formulaReference(this.model, this.start, data, range);
    this.live().queue.writeBuffer(this.buffers.theta, 0, Float32Array.from(this.start));
    this.passes.writeSlot(0, range);
    const got = await runGradient(this.io, this.passes, 0, this.buffers.gradLoss, this.readback, program.outputs.length);
    const wrong = judge(this.model, got, reference);
    if (wrong !== null) throw new FormulaKernelError(describeModel(this.model), this.kernel.config, wrong);
  }

  private live(): GPUDevice {
    if (this.disposed) throw new Error('GpuFormulaEngine: used after dispose()');
    return this.io.live();
  }

  /** Fills the partials and gradient buffers with a value (tests poison them with NaN). */
  fillOutputs(value: number): void {
    const q = this.live().queue;
    for (const b of [this.buffers.partials, this.buffers.gradLoss]) q.writeBuffer(b, 0, new Float32Array(b.size / 4).fill(value));
  }

  /** J = (1/N) Σ w_i ℓ_i and dJ/dθ over all rows, in one evaluation. */
  async lossAndGradient(theta: ArrayLike<number>): Promise<{ loss: number; grad: Float64Array }> {
    validateFormulaTheta(this.model, theta);
    this.live().queue.writeBuffer(this.buffers.theta, 0, Float32Array.from(theta));
    this.passes.writeSlot(0, { start: 0, rows: this.n });
    const P = this.model.params.length;
    const encoder = this.live().createCommandEncoder({ label: `${kLabel}.gradient.encoder` });
    const pass = encoder.beginComputePass({ label: `${kLabel}.gradient.pass` });
    this.passes.record(pass, 0);
    pass.end();
    encoder.copyBufferToBuffer(this.buffers.gradLoss, 0, this.readback, 0, (P + 1) * 4);
    await this.io.submitChecked(encoder, 'gradient');
    const out = new Float32Array(await this.io.readBack(this.readback, (P + 1) * 4));
    return { loss: out[P], grad: Float64Array.from(out.subarray(0, P)) };
  }

  /**
   * Gauss-Newton's sums over every row at theta, not divided by N (FormulaEngine.normalEquations). The first
   * call builds the pass (its own tuned grid) and checks it against the float64 twin at that theta.
   */
  async normalEquations(theta: ArrayLike<number>): Promise<Float64Array> {
    validateFormulaTheta(this.model, theta);
    this.live();
    if (!this.normal) {
      const { tuning, kernel, normalCode } = this.options;
      this.normal = FormulaNormalEquationsPass.create(this.gpu, this.io, this.model, this.data, this.buffers, Float64Array.from(theta), { tuning, kernel, code: normalCode });
      this.normal.catch(() => (this.normal = null)); // a failed build is reported to this call; the next one tries again
    }
    const pass = await this.normal;
    return pass.run(theta, { start: 0, rows: this.n });
  }

  /** The one training loop over GpuModelProgram: every optimizer, schedule, mini-batch, tolerance and divergence rule. */
  train(o: ModelTrainOptions): Promise<ModelTrainResult> {
    this.live();
    const P = this.model.params.length;
    return runTraining(new GpuModelProgram({
      gpu: this.gpu, io: this.io, rules: formulaRules(this.model, this.start), n: this.n,
      plan: { rows: this.n, params: P, workgroupSize: chooseWorkgroupSize(this.gpu.shape, 256) },
      buffers: this.buffers, passes: this.passes,
      submitAndRead: async (encoder, readback, bytes, what) => {
        await this.io.submitChecked(encoder, what);
        return this.io.readBack(readback, bytes);
      },
      evaluate: (theta) => this.lossAndGradient(theta),
    }), o);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.passes.dispose();
    this.normal?.then((p) => p.dispose(), () => undefined);
    for (const b of this.owned) b.destroy();
  }
}
