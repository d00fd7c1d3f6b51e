// Gauss-Newton's sums of a formula model on the GPU, what Levenberg-Marquardt (src/fit/) asks for per trial
// point: the generated pass-1 kernel over normalEquationsProgram(model) (JᵀWJ's upper triangle, JᵀWr, Σ w r²;
// S = p(p+1)/2 + p + 1 outputs) and the fixed-order reduce, with the gradient's skeleton
// (formula-passes.ts). Its grid is tuned under its own key (the hash of this program's WGSL) and the pass is
// checked against the float64 twin when it is built; the reduce writes plain sums (scale 'sum': no 1/N), so
// the host only widens the S floats it reads back to float64.
import { describe as describeModel, type FormulaModel } from '../../formula/model.ts';
import { normalEquationsProgram, type SampleProgram } from '../../formula/program.ts';
import type { BatchRange } from '../../models/batches.ts';
import type { FormulaData } from '../../models/formula.ts';
import type { GpuContext } from '../device.ts';
import type { DeviceIo } from '../device-io.ts';
import { createBufferChecked } from '../resources.ts';
import { formulaReference, normalEquationsLabels } from './formula-check.ts';
import { describeFormulaConfig, FORMULA_CHECK_ROWS, type FormulaKernelConfig } from './formula-grid.ts';
import { FormulaGradientPasses } from './formula-passes.ts';
import { chooseFormulaKernel, judge, runGradient, type FormulaKernelChoice, type FormulaTuningOptions } from './formula-tuning.ts';

const kLabel = 'nabla.formula.normal';
/** Slot 0: the whole range asked for; slot 1: the rows of the check at creation. */
const SLOTS = 2;

export interface FormulaNormalOptions extends FormulaTuningOptions {
  /** Replacement pass-1 WGSL (tests inject a faulty kernel with it; the check at creation must catch it). */
  code?: string;
}

/** The generated normal-equations kernel disagrees with the float64 twin (never a silent CPU fallback). */
export class FormulaNormalKernelError extends Error {
  constructor(readonly model: string, readonly config: FormulaKernelConfig, detail: string) {
    super(`GPU normal-equations kernel for ${model} (workgroups of ${describeFormulaConfig(config)}) disagrees with the float64 twin: ${detail}`);
    this.name = 'FormulaNormalKernelError';
  }
}

export class FormulaNormalEquationsPass {
  /** Serializes calls: one readback buffer, mapped by one call at a time. */
  private last: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly io: DeviceIo,
    readonly program: SampleProgram,
    private readonly passes: FormulaGradientPasses,
    private readonly theta: GPUBuffer,
    private readonly sums: GPUBuffer,
    private readonly readback: GPUBuffer,
    private readonly owned: GPUBuffer[],
    readonly kernel: FormulaKernelChoice,
  ) {}

  /**
   * Over the resident rows x, y (data: the same rows on the host, for tuning and the check); at: where the
   * check runs (the first rows, at most FORMULA_CHECK_ROWS, each sum within FORMULA_REL_TOL of its mean |term|).
   */
  static async create(
    gpu: GpuContext, io: DeviceIo, model: FormulaModel, data: FormulaData, resident: { x: GPUBuffer; y: GPUBuffer }, at: Float64Array,
    options: FormulaNormalOptions = {},
  ): Promise<FormulaNormalEquationsPass> {
    const program = normalEquationsProgram(model);
    const labels = normalEquationsLabels(model.params);
    const S = program.outputs.length;
    const device = io.live();
    const owned: GPUBuffer[] = [];
    const make = async (label: string, bytes: number, usage: number) => {
      const b = await createBufferChecked(device, { label: `${kLabel}.${label}`, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
      owned.push(b);
      return b;
    };
    let passes: FormulaGradientPasses | null = null;
    try {
      const kernel = await chooseFormulaKernel(gpu, io, model, program, data, resident, at, options, labels);
      const ST = GPUBufferUsage.STORAGE;
      const theta = await make('theta', model.params.length * 4, ST | GPUBufferUsage.COPY_DST);
      const partials = await make('partials', kernel.config.groups * S * 4, ST | GPUBufferUsage.COPY_DST);
      const sums = await make('sums', S * 4, ST | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
      const readback = await make('readback', S * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      passes = await FormulaGradientPasses.create(
        device, program, kernel.config, gpu.shape.maxWorkgroupsPerDimension, { ...resident, theta, partials, gradLoss: sums }, SLOTS, { code: options.code, scale: 'sum', label: kLabel, maxSums: options.maxSums },
      );
      const pass = new FormulaNormalEquationsPass(io, program, passes, theta, sums, readback, owned, kernel);
      const range = { start: 0, rows: Math.min(data.n, FORMULA_CHECK_ROWS) };
      const reference = formulaReference(model, at, data, range, program);
      const got = await pass.run(at, range, 1);
      const wrong = judge(model, got.map((v) => v / range.rows), reference, labels);
      if (wrong !== null) throw new FormulaNormalKernelError(describeModel(model), kernel.config, wrong);
      return pass;
    } catch (e) {
      passes?.dispose();
      for (const b of owned) b.destroy();
      throw e;
    }
  }

  /** The S sums over `range` of the resident rows at theta (written as float32 each call), widened to float64. */
  run(theta: ArrayLike<number>, range: BatchRange, slot = 0): Promise<Float64Array> {
    const next = this.last.then(async () => {
      this.io.live().queue.writeBuffer(this.theta, 0, Float32Array.from(theta));
      this.passes.writeSlot(slot, range);
      const got = await runGradient(this.io, this.passes, slot, this.sums, this.readback, this.program.outputs.length);
      return Float64Array.from(got);
    });
    this.last = next.catch(() => undefined);
    return next;
  }

  dispose(): void {
    this.passes.dispose();
    for (const b of this.owned) b.destroy();
  }
}
