// The gradient of a formula model on the GPU: pass 1, the generated kernel (shaders/formula_partials.wgsl
// with the program's row body spliced in, formula-row-code.ts), writes one row of P + 1 sums per workgroup; pass 2,
// shaders/mlp_reduce.wgsl, folds those rows in a fixed order and scales by 1/N into grad_loss = (dJ/dθ, J).
// Both read their uniforms (MlpUniforms) from a per-step slot, so that updates chained in one submit may each
// take another mini-batch; writeSlots() fills the slots before the submit, record() only records work.
import { wgslSampleFunction } from '../../formula/emit-wgsl.ts';
import type { SampleProgram } from '../../formula/program.ts';
import type { BatchRange } from '../../models/batches.ts';
import { fold2d } from '../dispatch.ts';
import { createBufferChecked, createComputePipeline } from '../resources.ts';
import { shaderSources as src } from '../shaders.ts';
import { specializeWgsl } from '../wgsl.ts';
import { assembleMlpWgsl, reduceLanes } from '../models/mlp-passes.ts';
import { MLP_UNIFORM_BYTES, packMlpUniforms, type MlpUniformValues } from '../models/mlp-plan.ts';
import { SLOT_BYTES } from '../models/optim-update-pass.ts';
import type { GradientPasses } from '../models/model-program.ts';
import { FORMULA_BLOCK, formulaTreeRows, type FormulaKernelConfig } from './formula-grid.ts';
import { formulaRowCode, rowsAsVec4 } from './formula-row-code.ts';

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
 * program. Rows whose width is a multiple of 4 are read as vec4s (formulaRowCode) unless vec4 is false.
 */
export function formulaPartialsWgsl(program: SampleProgram, workgroupSize: number, maxWorkgroupStorage: number, vec4 = rowsAsVec4(program)): string {
  const treeRows = formulaTreeRows(program.outputs.length, workgroupSize, maxWorkgroupStorage);
  const defines = { BLOCK: FORMULA_BLOCK, TREE_ROWS: treeRows, VEC4: vec4, ...formulaRowCode(program, vec4) };
  const stage = specializeWgsl(src.formulaPartials, defines, 'formula_partials.wgsl');
  return assembleMlpWgsl(stage, [src.mlpLayout, src.compensatedSum, src.segmentedSum, wgslSampleFunction(program)]);
}

const NO_LAYER: Omit<MlpUniformValues, 'n' | 'numChunks' | 'groupsX' | 'stride' | 'xRow' | 'yRow'> = {
  fanIn: 0, fanOut: 0, wOffset: 0, chunk: 0, count: 0, lossCol: 0, hasLoss: false,
};

/** One stage of the chain: a pipeline, one bind group per step slot, a fixed grid, its uniforms for a batch. */
interface SlotStage {
  pipeline: GPUComputePipeline;
  bindGroups: GPUBindGroup[];
  groups: { x: number; y: number };
  pack(batch: BatchRange): ArrayBuffer;
}

async function slotStage(
  device: GPUDevice, label: string, code: string, constants: Record<string, number>, uniforms: GPUBuffer, stageIndex: number, stages: number,
  slots: number, buffers: GPUBuffer[], groups: { x: number; y: number }, pack: SlotStage['pack'],
): Promise<SlotStage> {
  const pipeline = await createComputePipeline(device, label, code, constants);
  const bindGroups = Array.from({ length: slots }, (_, s) => device.createBindGroup({
    label: `${label}.bindGroup.slot${s}`,
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: uniforms, offset: (s * stages + stageIndex) * SLOT_BYTES, size: MLP_UNIFORM_BYTES } },
      ...buffers.map((buffer, k) => ({ binding: k + 1, resource: { buffer } })),
    ],
  }));
  return { pipeline, bindGroups, groups, pack };
}

export class FormulaGradientPasses implements GradientPasses {
  static readonly kLabel = 'nabla.formula';
  /** The batch each slot's uniforms hold (writeSlot rewrites only the slots that change). */
  private readonly slotBatch: (BatchRange | null)[];

  private constructor(
    private readonly device: GPUDevice,
    private readonly stages: SlotStage[],
    private readonly uniforms: GPUBuffer,
    readonly slots: number,
  ) {
    this.slotBatch = new Array<BatchRange | null>(slots).fill(null);
  }

  /**
   * code: replacement pass-1 WGSL (tests inject faults with it). scale: 'mean' writes the sums x 1/N (the
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
        device, `${label}.partials`, code ?? formulaPartialsWgsl(program, wg, device.limits.maxComputeWorkgroupStorageSize), { WG: wg },
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
      return new FormulaGradientPasses(device, [partials, reduce], uniforms, slots);
    } catch (e) {
      uniforms.destroy();
      throw e;
    }
  }

  writeSlots(batches: readonly BatchRange[]): void {
    if (batches.length > this.slots) throw new RangeError(`steps: ${batches.length} asked for, ${this.slots} slots`);
    batches.forEach((batch, s) => this.writeSlot(s, batch));
  }

  /** Points one slot at a batch (queue.writeBuffer lands before the next submit). */
  writeSlot(slot: number, batch: BatchRange): void {
    if (!(Number.isInteger(slot) && slot >= 0 && slot < this.slots)) throw new RangeError(`slot: ${slot} is outside the ${this.slots} slots`);
    const held = this.slotBatch[slot];
    if (held && held.start === batch.start && held.rows === batch.rows) return;
    const bytes = new Uint8Array(this.stages.length * SLOT_BYTES);
    this.stages.forEach((stage, j) => bytes.set(new Uint8Array(stage.pack(batch)), j * SLOT_BYTES));
    this.device.queue.writeBuffer(this.uniforms, slot * bytes.byteLength, bytes);
    this.slotBatch[slot] = { ...batch };
  }

  /** Records the gradient of the batch written to `slot`: pass 1, then the reduce. */
  record(pass: GPUComputePassEncoder, slot: number): void {
    for (const s of this.stages) {
      pass.setPipeline(s.pipeline);
      pass.setBindGroup(0, s.bindGroups[slot]);
      pass.dispatchWorkgroups(s.groups.x, s.groups.y);
    }
  }

  dispose(): void {
    this.uniforms.destroy();
  }
}
