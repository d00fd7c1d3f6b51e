// The gradient of a formula model on the GPU: pass 1, the generated kernel (shaders/formula_partials.wgsl
// with the program's row body spliced in, formula-row-code.ts), writes one row of P + 1 sums per workgroup
// (a program of more than FORMULA_MAX_SUMS outputs: one kernel per slice of them, each a pass); pass 2,
// shaders/mlp_reduce.wgsl, folds those rows in a fixed order and scales by 1/N into grad_loss = (dJ/dθ, J).
// Both read their uniforms (MlpUniforms) from a per-step slot, so that updates chained in one submit may each
// take another mini-batch; writeSlots() fills the slots before the submit, record() only records work.
import { wgslSampleFunction } from '../../formula/emit-wgsl.ts';
import type { SampleProgram } from '../../formula/program.ts';
import { fold2d } from '../dispatch.ts';
import { createBufferChecked, createComputePipeline } from '../resources.ts';
import { shaderSources as src } from '../shaders.ts';
import { specializeWgsl } from '../wgsl.ts';
import { assembleMlpWgsl, reduceLanes, slotBindGroups, SlotPasses, type SlotStage } from '../models/mlp-passes.ts';
import { packMlpUniforms, type MlpUniformValues } from '../models/mlp-plan.ts';
import { SLOT_BYTES } from '../models/optim-update-pass.ts';
import type { GradientPasses, PartialRowsSource } from '../models/model-program.ts';
import { FORMULA_BLOCK, FORMULA_MAX_SUMS, formulaKernelConstants, formulaTreeRows, type FormulaKernelConfig } from './formula-grid.ts';
import { formulaRowCode, formulaTripQuads, rowLoads } from './formula-row-code.ts';

export interface FormulaBuffers {
  /** Rows, row-major, program.rowWidth floats each (at least one: a model without columns reads zeros). */
  x: GPUBuffer;
  y: GPUBuffer;
  theta: GPUBuffer;
  /** config.groups rows of P + 1. */
  partials: GPUBuffer;
  /** P + 1: dJ/dθ, then J. */
  gradLoss: GPUBuffer;
}

/**
 * The pass-1 kernel's WGSL: the skeleton specialized for this workgroup size, after the shared pieces and the
 * program, its rows read as `loads` says (formula-row-code.ts: rowLoads).
 */
export function formulaPartialsWgsl(
  program: SampleProgram, workgroupSize: number, maxWorkgroupStorage: number, loads = rowLoads(program), slice: OutputSlice = { start: 0, end: program.outputs.length, row: program.outputs.length },
): string {
  const treeRows = formulaTreeRows(program.outputs.length, workgroupSize, maxWorkgroupStorage);
  const trip = loads === rowLoads(program) ? formulaTripQuads(program) : 1;
  const defines = {
    BLOCK: FORMULA_BLOCK, TREE_ROWS: treeRows, SCRATCH: workgroupSize * treeRows, TRIP: trip, TWO_A_TRIP: trip === 2, X_VEC4: loads !== 'scalar', Y_VEC4: loads === 'quad',
    PARTIALS_ROW: slice.row, PARTIALS_OFFSET: slice.start,
    ...formulaRowCode(program, loads),
  };
  const stage = specializeWgsl(src.formulaPartials, defines, 'formula_partials.wgsl');
  return assembleMlpWgsl(stage, [src.mlpLayout, src.compensatedSum, src.segmentedSum, wgslSampleFunction(program)]);
}

/** Outputs start..end of a program of `row` outputs: what one pass-1 kernel sums into its rows of partials. */
export interface OutputSlice {
  start: number;
  end: number;
  row: number;
}

/**
 * The generated kernel's slices of a program of `outputs` outputs: one when they are at most maxSums, else
 * the fewest of at most maxSums each, as even as they come. Each slice is a pass over the rows that computes
 * the whole row program and keeps its own sums (the compiler drops the rest).
 */
export function outputSlices(outputs: number, maxSums: number): OutputSlice[] {
  if (!(Number.isInteger(maxSums) && maxSums >= 1)) throw new RangeError(`maxSums: expected a positive integer, got ${maxSums}`);
  const size = Math.ceil(outputs / Math.ceil(outputs / maxSums));
  const slices: OutputSlice[] = [];
  for (let start = 0; start < outputs; start += size) slices.push({ start, end: Math.min(outputs, start + size), row: outputs });
  return slices;
}

/** The program keeping outputs start..end only. */
function sliceProgram(program: SampleProgram, slice: OutputSlice): SampleProgram {
  return slice.start === 0 && slice.end === program.outputs.length ? program : { ...program, outputs: program.outputs.slice(slice.start, slice.end) };
}

const NO_LAYER: Omit<MlpUniformValues, 'n' | 'numChunks' | 'groupsX' | 'stride' | 'xRow' | 'yRow'> = {
  fanIn: 0, fanOut: 0, wOffset: 0, chunk: 0, count: 0, lossCol: 0, hasLoss: false,
};

async function slotStage(
  device: GPUDevice, label: string, code: string, constants: Record<string, number>, uniforms: GPUBuffer, stageIndex: number, stages: number,
  slots: number, buffers: GPUBuffer[], groups: { x: number; y: number }, pack: SlotStage['pack'],
): Promise<SlotStage> {
  const pipeline = await createComputePipeline(device, label, code, constants);
  return { pipeline, bindGroups: slotBindGroups(device, `${label}.bindGroup`, pipeline, uniforms, stageIndex, stages, slots, buffers), groups, pack };
}

export interface FormulaPassOptions {
  /**
   * Pass-1 WGSL in place of the generated kernel's: a specialised kernel bound the same way
   * (linear-quad-pass.ts), or a faulty one a test injects; it writes every output.
   */
  code?: string;
  /**
   * 'mean' (default) writes the sums x 1/N (the gradient and J); 'sum' writes the plain sums (the reduce's
   * uniforms carry n = 1, so its inv_n is 1: the normal equations, which Levenberg-Marquardt takes undivided),
   * leaving no N to multiply back on the host.
   */
  scale?: 'mean' | 'sum';
  label?: string;
  /** The most outputs one generated kernel keeps (default FORMULA_MAX_SUMS; outputSlices). */
  maxSums?: number;
}

/**
 * record(): pass 1 (the generated kernel's slices in turn, where it has several), then the reduce, for the
 * batch written to the slot. As a PartialRowsSource, pass 1 alone: a training step of few parameters folds
 * its partial rows itself (FoldStepPass).
 */
export class FormulaGradientPasses extends SlotPasses implements GradientPasses, PartialRowsSource {
  static readonly kLabel = 'nabla.formula';

  private constructor(
    device: GPUDevice, stages: SlotStage[], uniforms: GPUBuffer, slots: number, readonly partials: GPUBuffer, readonly maxChunks: number,
    /** Pass-1 kernels (stages before the reduce): the slices of the program's outputs. */
    readonly slices: number,
  ) {
    super(device, stages, uniforms, slots);
  }

  get partialRows(): PartialRowsSource {
    return this;
  }

  chunks(): number {
    return this.maxChunks;
  }

  recordPartials(pass: GPUComputePassEncoder, slot: number): void {
    for (let j = 0; j < this.slices; j++) this.recordStage(pass, slot, j);
  }

  static async create(
    device: GPUDevice, program: SampleProgram, config: FormulaKernelConfig, maxPerDim: number, b: FormulaBuffers, slots: number,
    { code, scale = 'mean', label = FormulaGradientPasses.kLabel, maxSums = FORMULA_MAX_SUMS }: FormulaPassOptions = {},
  ): Promise<FormulaGradientPasses> {
    const wg = config.workgroupSize;
    const S = program.outputs.length;
    const slices = code === undefined ? outputSlices(S, maxSums) : [{ start: 0, end: S, row: S }];
    const stages = slices.length + 1;
    const uniforms = await createBufferChecked(device, {
      label: `${label}.uniforms`, size: slots * stages * SLOT_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    try {
      const grid = fold2d(config.groups, maxPerDim);
      const passOne: SlotStage[] = [];
      for (const [j, slice] of slices.entries()) {
        const wgsl = code ?? formulaPartialsWgsl(sliceProgram(program, slice), wg, device.limits.maxComputeWorkgroupStorageSize, undefined, slice);
        passOne.push(await slotStage(
          device, slices.length === 1 ? `${label}.partials` : `${label}.partials.${j}`, wgsl, formulaKernelConstants(config),
          uniforms, j, stages, slots, [b.x, b.y, b.theta, b.partials], grid,
          (batch) => packMlpUniforms({ ...NO_LAYER, n: batch.rows, numChunks: config.groups, groupsX: grid.x, stride: S, xRow: batch.start, yRow: batch.start }),
        ));
      }
      // mlp_reduce.wgsl: one thread per column in row order up to 128 partials rows, else 32 lanes per column.
      const lanes = Math.min(reduceLanes(config.groups), wg);
      const reduceGrid = fold2d(Math.ceil(S / Math.max(1, wg / lanes)), maxPerDim);
      const reduce = await slotStage(
        device, `${label}.reduce`, assembleMlpWgsl(specializeWgsl(src.mlpReduce, { TREE: lanes > 1 }, 'mlp_reduce.wgsl'), [src.mlpLayout]), { WG: wg, LANES: lanes },
        uniforms, slices.length, stages, slots, [b.partials, b.gradLoss], reduceGrid,
        (batch) => packMlpUniforms({ ...NO_LAYER, n: scale === 'sum' ? 1 : batch.rows, numChunks: config.groups, groupsX: reduceGrid.x, stride: S, xRow: 0, yRow: 0 }),
      );
      return new FormulaGradientPasses(device, [...passOne, reduce], uniforms, slots, b.partials, config.groups, slices.length);
    } catch (e) {
      uniforms.destroy();
      throw e;
    }
  }
}
