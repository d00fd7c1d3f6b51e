// shaders/fold_step.wgsl: a small model's step after its pass 1 (the fold of the partial rows, the history
// record and tolerance stop, the optimizer update) as one dispatch, one bind group per step slot. It reads the
// optimizer's uniform slots and state (OptimUpdatePass) and writes the history ring MlpHistoryPass would.
import { OPTIMIZER_CODES } from '../../optim/config.ts';
import { createBufferChecked, createComputePipeline } from '../resources.ts';
import { shaderSources as src } from '../shaders.ts';
import { assembleWgsl } from '../wgsl.ts';
import { SLOT_BYTES, type OptimUpdatePass } from './optim-update-pass.ts';

/** FoldStep (shaders/shared/optim_layout.wgsl): num_chunks, inv_n, padded to a uniform struct's 16 bytes. */
export const FOLD_STEP_BYTES = 16;
/** One workgroup folds, records and updates: one thread per value up to the largest step workgroup. */
export const FOLD_STEP_MAX_PARAMS = 255;
/** Partial rows the fold reads in order per column: mlp_reduce.wgsl folds as many the same way (reduceLanes). */
export const FOLD_STEP_MAX_CHUNKS = 128;

/** Whether a step of `params` parameters over at most `chunks` partial rows folds in one workgroup. */
export function foldStepApplies(params: number, chunks: number): boolean {
  return params <= FOLD_STEP_MAX_PARAMS && chunks <= FOLD_STEP_MAX_CHUNKS;
}

/** FoldStep for a batch of `rows` whose pass 1 wrote `chunks` partial rows: inv_n as packMlpUniforms writes it. */
export function packFoldStep(chunks: number, rows: number): ArrayBuffer {
  if (!(Number.isInteger(chunks) && chunks >= 1 && chunks <= FOLD_STEP_MAX_CHUNKS)) throw new RangeError(`fold step: ${chunks} partial rows, expected 1..${FOLD_STEP_MAX_CHUNKS}`);
  if (!(Number.isInteger(rows) && rows >= 1)) throw new RangeError(`fold step: expected a positive number of rows, got ${rows}`);
  const buf = new ArrayBuffer(FOLD_STEP_BYTES);
  new Uint32Array(buf, 0, 1)[0] = chunks;
  new Float32Array(buf, 4, 1)[0] = 1 / rows;
  return buf;
}

export interface FoldStepOptions {
  optim: OptimUpdatePass;
  workgroupSize: number;
  /** grad_loss (P + 1), theta, the partial rows pass 1 writes and the history ring (one vec2 per slot). */
  gradLoss: GPUBuffer;
  theta: GPUBuffer;
  partials: GPUBuffer;
  history: GPUBuffer;
}

export class FoldStepPass {
  static readonly kLabel = 'nabla.step.fold';
  /** What each slot's uniform holds (writeSlot rewrites only those that change). */
  private readonly held: (string | null)[];

  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
    private readonly bindGroups: GPUBindGroup[],
    private readonly uniforms: GPUBuffer,
  ) {
    this.held = new Array<string | null>(bindGroups.length).fill(null);
  }

  static async create(device: GPUDevice, o: FoldStepOptions): Promise<FoldStepPass> {
    const { optim } = o;
    if (!foldStepApplies(optim.params, 1)) throw new RangeError(`fold step: ${optim.params} parameters exceed ${FOLD_STEP_MAX_PARAMS}`);
    const label = FoldStepPass.kLabel;
    const slots = optim.maxSlots;
    const uniforms = await createBufferChecked(device, { label: `${label}.uniforms`, size: slots * SLOT_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    try {
      const code = assembleWgsl([src.optimLayout, src.workgroupSum, src.optimRule], src.foldStep);
      const pipeline = await createComputePipeline(device, label, code, { WG: o.workgroupSize, KIND: OPTIMIZER_CODES[optim.config.kind], HISTORY_CAP: slots });
      const bindGroups = Array.from({ length: slots }, (_, s) => device.createBindGroup({
        label: `${label}.bindGroup.${s}`,
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          optim.slotBinding(s),
          ...[o.gradLoss, o.theta, ...optim.stateBuffers, o.history].map((buffer) => ({ buffer })),
          { buffer: uniforms, offset: s * SLOT_BYTES, size: FOLD_STEP_BYTES },
          { buffer: o.partials },
        ].map((resource, binding) => ({ binding, resource })),
      }));
      return new FoldStepPass(device, pipeline, bindGroups, uniforms);
    } catch (e) {
      uniforms.destroy();
      throw e;
    }
  }

  /** Points slot s at a batch of `rows` whose pass 1 writes `chunks` partial rows. */
  writeSlot(slot: number, chunks: number, rows: number): void {
    const key = `${chunks}/${rows}`;
    if (this.held[slot] === key) return;
    this.device.queue.writeBuffer(this.uniforms, slot * SLOT_BYTES, packFoldStep(chunks, rows));
    this.held[slot] = key;
  }

  run(pass: GPUComputePassEncoder, slot: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroups[slot]);
    pass.dispatchWorkgroups(1);
  }

  dispose(): void {
    this.uniforms.destroy();
  }
}
