// The gradient of a network's loss as a chain of dispatches (shaders/mlp_*.wgsl), all recorded into one
// compute pass: forward per layer, the head, then per layer from the last: grad partials and backprop,
// then the reduce over chunks. Pipelines and bind groups are built once; record() only records work.
// Steps chained in one submit may cover different mini-batches, so every stage reads its uniforms from a
// per-step slot (one bind group per slot); writeSlots() fills them before the submit.
import { ACTIVATION_CODES, HEAD_CODES, type NetworkConfig } from '../../models/network.ts';
import { assembleWgsl } from '../wgsl.ts';
import { createBufferChecked, createComputePipeline } from '../resources.ts';
import { gridFor, MLP_UNIFORM_BYTES, packMlpUniforms, type BatchRange, type MlpPlan, type MlpUniformValues } from './mlp-plan.ts';
import { SLOT_BYTES } from './optim-update-pass.ts';
import { modelShaderSources as src } from './shaders.ts';

export interface MlpBuffers {
  x: GPUBuffer;
  y: GPUBuffer;
  theta: GPUBuffer;
  /** Outputs of layers 1..L (index l - 1); the last holds the logits. */
  acts: GPUBuffer[];
  /** dJ_i/dz of layers 1..L (index l - 1). */
  deltas: GPUBuffer[];
  losses: GPUBuffer;
  partials: GPUBuffer;
  gradLoss: GPUBuffer;
}

interface Stage {
  pipeline: GPUComputePipeline;
  /** One per step slot. */
  bindGroups: GPUBindGroup[];
  /** Sized for plan.rows samples; a smaller batch leaves the surplus threads idle (they test count). */
  groups: { x: number; y: number };
  uniforms: (batch: BatchRange) => MlpUniformValues;
}

export class MlpGradientPasses {
  static readonly kLabel = 'nabla.mlp';
  /** The batch each slot's uniforms hold (writeSlots rewrites only the slots that change). */
  private readonly slotBatch: (BatchRange | null)[];

  private constructor(
    private readonly device: GPUDevice,
    private readonly stages: Stage[],
    private readonly uniformBuffer: GPUBuffer,
    readonly slots: number,
  ) {
    this.slotBatch = new Array<BatchRange | null>(slots).fill(null);
  }

  static async create(device: GPUDevice, c: NetworkConfig, plan: MlpPlan, maxPerDim: number, b: MlpBuffers, slots: number): Promise<MlpGradientPasses> {
    const label = MlpGradientPasses.kLabel;
    const wg = plan.workgroupSize;
    const pipelines = new Map<string, Promise<GPUComputePipeline>>();
    const pipeline = (stage: string, source: string, constants: Record<string, number>) => {
      const key = `${stage}:${JSON.stringify(constants)}`;
      if (!pipelines.has(key)) {
        pipelines.set(key, createComputePipeline(device, `${label}.${stage}`, assembleWgsl([src.mlpLayout], source), { WG: wg, ...constants }));
      }
      return pipelines.get(key)!;
    };
    type Fixed = Pick<MlpUniformValues, 'fanIn' | 'fanOut' | 'wOffset' | 'hasLoss'>;
    const specs: { stage: string; source: string; constants: Record<string, number>; buffers: GPUBuffer[]; groups: { x: number; y: number };
      fixed: Fixed; count: (rows: number, numChunks: number) => number; readsX: boolean; readsY: boolean }[] = [];
    const add = (stage: string, source: string, constants: Record<string, number>, fixed: Fixed, buffers: GPUBuffer[],
      count: (rows: number, numChunks: number) => number, opts: { readsX?: boolean; readsY?: boolean; groupsFor?: number } = {}) => {
      const groups = gridFor(opts.groupsFor ?? count(plan.rows, plan.numChunks), wg, maxPerDim);
      specs.push({ stage, source, constants, buffers, groups, fixed, count, readsX: opts.readsX ?? false, readsY: opts.readsY ?? false });
    };
    const L = plan.layers.length;
    const act = ACTIVATION_CODES[c.activation];
    const input = (l: number) => (l === 0 ? b.x : b.acts[l - 1]);
    for (let l = 0; l < L; l++) {
      const s = plan.layers[l];
      add('forward', src.mlpForward, { ACT: l === L - 1 ? ACTIVATION_CODES.identity : act },
        { fanIn: s.fanIn, fanOut: s.fanOut, wOffset: s.wOffset, hasLoss: false }, [input(l), b.theta, b.acts[l]],
        (rows) => rows * s.fanOut, { readsX: l === 0 });
    }
    const last = plan.layers[L - 1];
    add('head', src.mlpHead, { HEAD: HEAD_CODES[c.head] }, { fanIn: last.fanIn, fanOut: last.fanOut, wOffset: last.wOffset, hasLoss: false },
      [b.acts[L - 1], b.y, b.deltas[L - 1], b.losses], (rows) => rows, { readsY: true });
    for (let l = L - 1; l >= 0; l--) {
      const s = plan.layers[l];
      const hasLoss = l === L - 1;
      const entries = s.fanOut * s.fanIn + s.fanOut + (hasLoss ? 1 : 0);
      add('gradPartials', src.mlpGradPartials, {}, { fanIn: s.fanIn, fanOut: s.fanOut, wOffset: s.wOffset, hasLoss },
        [b.deltas[l], input(l), b.losses, b.partials], (_, chunks) => entries * chunks, { readsX: l === 0 });
      if (l > 0) {
        add('backprop', src.mlpBackprop, { ACT: act }, { fanIn: s.fanIn, fanOut: s.fanOut, wOffset: s.wOffset, hasLoss: false },
          [b.theta, b.deltas[l], b.acts[l - 1], b.deltas[l - 1]], (rows) => rows * s.fanIn);
      }
    }
    const lanes = 32;
    const cols = Math.max(1, wg / lanes);
    add('reduce', src.mlpReduce, { LANES: Math.min(lanes, wg) }, { fanIn: 0, fanOut: 0, wOffset: 0, hasLoss: false },
      [b.partials, b.gradLoss], () => plan.stride, { groupsFor: Math.ceil(plan.stride / cols) * wg });

    const uniformBuffer = await createBufferChecked(device, {
      label: `${label}.uniforms`, size: slots * specs.length * SLOT_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    try {
      const stages: Stage[] = [];
      for (const [j, spec] of specs.entries()) {
        const p = await pipeline(spec.stage, spec.source, spec.constants);
        const bindGroups = Array.from({ length: slots }, (_, s) => device.createBindGroup({
          label: `${label}.${spec.stage}.bindGroup.${j}.slot${s}`,
          layout: p.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: uniformBuffer, offset: (s * specs.length + j) * SLOT_BYTES, size: MLP_UNIFORM_BYTES } },
            ...spec.buffers.map((buffer, k) => ({ binding: k + 1, resource: { buffer } })),
          ],
        }));
        stages.push({
          pipeline: p, bindGroups, groups: spec.groups,
          uniforms: (batch) => {
            const numChunks = Math.ceil(batch.rows / plan.chunk);
            return {
              ...spec.fixed, n: batch.rows, chunk: plan.chunk, numChunks, stride: plan.stride, lossCol: plan.params, groupsX: spec.groups.x,
              count: spec.count(batch.rows, numChunks), xRow: spec.readsX ? batch.start : 0, yRow: spec.readsY ? batch.start : 0,
            };
          },
        });
      }
      return new MlpGradientPasses(device, stages, uniformBuffer, slots);
    } catch (e) {
      uniformBuffer.destroy();
      throw e;
    }
  }

  /** Points slot s at batches[s] (queue.writeBuffer lands before the next submit). */
  writeSlots(batches: readonly BatchRange[]): void {
    if (batches.length > this.slots) throw new RangeError(`steps: ${batches.length} asked for, ${this.slots} slots`);
    const per = this.stages.length * SLOT_BYTES;
    batches.forEach((batch, s) => {
      const held = this.slotBatch[s];
      if (held && held.start === batch.start && held.rows === batch.rows) return;
      const bytes = new Uint8Array(per);
      this.stages.forEach((stage, j) => bytes.set(new Uint8Array(packMlpUniforms(stage.uniforms(batch))), j * SLOT_BYTES));
      this.device.queue.writeBuffer(this.uniformBuffer, s * per, bytes);
      this.slotBatch[s] = { ...batch };
    });
  }

  /** Records the gradient of the batch written to `slot`. */
  record(pass: GPUComputePassEncoder, slot: number): void {
    for (const s of this.stages) {
      pass.setPipeline(s.pipeline);
      pass.setBindGroup(0, s.bindGroups[slot]);
      pass.dispatchWorkgroups(s.groups.x, s.groups.y);
    }
  }

  dispose(): void {
    this.uniformBuffer.destroy();
  }
}

/** shaders/mlp_history.wgsl: (J, |grad J|) of each chained step into a ring and the tolerance stop, one bind group per step slot. */
export class MlpHistoryPass {
  static readonly kLabel = 'nabla.mlp.history';

  private constructor(private readonly pipeline: GPUComputePipeline, private readonly bindGroups: GPUBindGroup[]) {}

  static async create(device: GPUDevice, workgroupSize: number, slots: GPUBufferBinding[], gradLoss: GPUBuffer, history: GPUBuffer, control: GPUBuffer): Promise<MlpHistoryPass> {
    const code = assembleWgsl([src.optimLayout], src.mlpHistory);
    const pipeline = await createComputePipeline(device, MlpHistoryPass.kLabel, code, { WG: workgroupSize, HISTORY_CAP: slots.length });
    const bindGroups = slots.map((slot, s) => device.createBindGroup({
      label: `${MlpHistoryPass.kLabel}.bindGroup.${s}`,
      layout: pipeline.getBindGroupLayout(0),
      entries: [slot, { buffer: gradLoss }, { buffer: history }, { buffer: control }].map((resource, binding) => ({ binding, resource })),
    }));
    return new MlpHistoryPass(pipeline, bindGroups);
  }

  run(pass: GPUComputePassEncoder, slot: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroups[slot]);
    pass.dispatchWorkgroups(1);
  }
}
