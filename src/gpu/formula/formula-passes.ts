// The gradient of a formula model on the GPU: pass 1, the generated kernel (shaders/formula_partials.wgsl
// with the program's row body spliced in, formula-row-code.ts), writes one row of P + 1 sums per workgroup; pass 2,
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
import { FORMULA_BLOCK, formulaKernelConstants, formulaTreeRows, type FormulaKernelConfig } from './formula-grid.ts';
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
export function formulaPartialsWgsl(program: SampleProgram, workgroupSize: number, maxWorkgroupStorage: number, loads = rowLoads(program)): string {
  const treeRows = formulaTreeRows(program.outputs.length, workgroupSize, maxWorkgroupStorage);
  const trip = loads === rowLoads(program) ? formulaTripQuads(program) : 1;
  const defines = {
    BLOCK: FORMULA_BLOCK, TREE_ROWS: treeRows, SCRATCH: workgroupSize * treeRows, TRIP: trip, TWO_A_TRIP: trip === 2, X_VEC4: loads !== 'scalar', Y_VEC4: loads === 'quad',
    ...formulaRowCode(program, loads),
  };
  const stage = specializeWgsl(src.formulaPartials, defines, 'formula_partials.wgsl');
  return assembleMlpWgsl(stage, [src.mlpLayout, src.compensatedSum, src.segmentedSum, wgslSampleFunction(program)]);
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

/**
 * record(): pass 1, then the reduce, for the batch written to the slot. As a PartialRowsSource, pass 1 alone:
 * a training step of few parameters folds its partial rows itself (FoldStepPass).
 */
export class FormulaGradientPasses extends SlotPasses implements GradientPasses, PartialRowsSource {
  static readonly kLabel = 'nabla.formula';

  private constructor(device: GPUDevice, stages: SlotStage[], uniforms: GPUBuffer, slots: number, readonly partials: GPUBuffer, readonly maxChunks: number) {
    super(device, stages, uniforms, slots);
  }

  get partialRows(): PartialRowsSource {
    return this;
  }

  chunks(): number {
    return this.maxChunks;
  }

  recordPartials(pass: GPUComputePassEncoder, slot: number): void {
    this.recordStage(pass, slot, 0);
  }

  /**
   * code: pass-1 WGSL in place of the generated kernel's: a specialised kernel bound the same way
   * (linear-quad-pass.ts), or a faulty one a test injects. scale: 'mean' writes the sums x 1/N (the
   * gradient and J); 'sum' writes the plain sums (the reduce's uniforms carry n = 1, so its inv_n is 1: the
   * normal equations, which Levenberg-Marquardt takes undivided), leaving no N to multiply back on the host.
   */
  static async create(
    device: GPUDevice, program: SampleProgram, config: FormulaKernelConfig, maxPerDim: number, b: FormulaBuffers, slots: number, code?: string,
    scale: 'mean' | 'sum' = 'mean', label = FormulaGradientPasses.kLabel,
  ): Promise<FormulaGradientPasses> {
    const wg = config.workgroupSize;
    const S = program.outputs.length;
    const uniforms = await createBufferChecked(device, {
      label: `${label}.uniforms`, size: slots * 2 * SLOT_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    try {
      const grid = fold2d(config.groups, maxPerDim);
      const partials = await slotStage(
        device, `${label}.partials`, code ?? formulaPartialsWgsl(program, wg, device.limits.maxComputeWorkgroupStorageSize), formulaKernelConstants(config),
        uniforms, 0, 2, slots, [b.x, b.y, b.theta, b.partials], grid,
        (batch) => packMlpUniforms({ ...NO_LAYER, n: batch.rows, numChunks: config.groups, groupsX: grid.x, stride: S, xRow: batch.start, yRow: batch.start }),
      );
      // mlp_reduce.wgsl: one thread per column in row order up to 128 partials rows, else 32 lanes per column.
      const lanes = Math.min(reduceLanes(config.groups), wg);
      const reduceGrid = fold2d(Math.ceil(S / Math.max(1, wg / lanes)), maxPerDim);
      const reduce = await slotStage(
        device, `${label}.reduce`, assembleMlpWgsl(specializeWgsl(src.mlpReduce, { TREE: lanes > 1 }, 'mlp_reduce.wgsl'), [src.mlpLayout]), { WG: wg, LANES: lanes },
        uniforms, 1, 2, slots, [b.partials, b.gradLoss], reduceGrid,
        (batch) => packMlpUniforms({ ...NO_LAYER, n: scale === 'sum' ? 1 : batch.rows, numChunks: config.groups, groupsX: reduceGrid.x, stride: S, xRow: 0, yRow: 0 }),
      );
      return new FormulaGradientPasses(device, [partials, reduce], uniforms, slots, b.partials, config.groups);
    } catch (e) {
      uniforms.destroy();
      throw e;
    }
  }
}
