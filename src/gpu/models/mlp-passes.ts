// The gradient of a network's loss as a chain of dispatches (shaders/mlp_*.wgsl), all recorded into one
// compute pass: forward per layer, the head, then per layer from the last: grad partials and backprop,
// then the reduce over chunks. Pipelines and bind groups are built once; record() only records work.
import { ACTIVATION_CODES, HEAD_CODES, type NetworkConfig } from '../../models/network.ts';
import { assembleWgsl } from '../wgsl.ts';
import { createBufferChecked, createComputePipeline } from '../resources.ts';
import { gridFor, packMlpUniforms, type MlpPlan, type MlpUniformValues } from './mlp-plan.ts';
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
  bindGroup: GPUBindGroup;
  groups: { x: number; y: number };
}

export class MlpGradientPasses {
  static readonly kLabel = 'nabla.mlp';

  private constructor(private readonly stages: Stage[], private readonly uniforms: GPUBuffer[]) {}

  static async create(device: GPUDevice, c: NetworkConfig, n: number, plan: MlpPlan, maxPerDim: number, b: MlpBuffers): Promise<MlpGradientPasses> {
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
    const uniforms: GPUBuffer[] = [];
    const stages: Stage[] = [];
    try {
      const add = async (stage: string, source: string, constants: Record<string, number>, count: number, u: Omit<MlpUniformValues, 'groupsX' | 'count' | 'n' | 'chunk' | 'numChunks' | 'stride' | 'lossCol'>, buffers: GPUBuffer[], groupsOverride?: number) => {
        const groups = gridFor(groupsOverride === undefined ? count : groupsOverride * wg, wg, maxPerDim);
        const ub = await createBufferChecked(device, { label: `${label}.${stage}.uniforms.${stages.length}`, size: 48, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
        uniforms.push(ub);
        device.queue.writeBuffer(ub, 0, packMlpUniforms({
          ...u, n, chunk: plan.chunk, numChunks: plan.numChunks, stride: plan.stride, lossCol: plan.params, groupsX: groups.x, count,
        }));
        const p = await pipeline(stage, source, constants);
        const bindGroup = device.createBindGroup({
          label: `${label}.${stage}.bindGroup.${stages.length}`,
          layout: p.getBindGroupLayout(0),
          entries: [ub, ...buffers].map((buffer, binding) => ({ binding, resource: { buffer } })),
        });
        stages.push({ pipeline: p, bindGroup, groups });
      };
      const L = plan.layers.length;
      const act = ACTIVATION_CODES[c.activation];
      const input = (l: number) => (l === 0 ? b.x : b.acts[l - 1]);
      for (let l = 0; l < L; l++) {
        const s = plan.layers[l];
        await add('forward', src.mlpForward, { ACT: l === L - 1 ? ACTIVATION_CODES.identity : act }, n * s.fanOut,
          { fanIn: s.fanIn, fanOut: s.fanOut, wOffset: s.wOffset, hasLoss: false }, [input(l), b.theta, b.acts[l]]);
      }
      const last = plan.layers[L - 1];
      await add('head', src.mlpHead, { HEAD: HEAD_CODES[c.head] }, n,
        { fanIn: last.fanIn, fanOut: last.fanOut, wOffset: last.wOffset, hasLoss: false }, [b.acts[L - 1], b.y, b.deltas[L - 1], b.losses]);
      for (let l = L - 1; l >= 0; l--) {
        const s = plan.layers[l];
        const hasLoss = l === L - 1;
        const entries = s.fanOut * s.fanIn + s.fanOut + (hasLoss ? 1 : 0);
        await add('gradPartials', src.mlpGradPartials, {}, entries * plan.numChunks,
          { fanIn: s.fanIn, fanOut: s.fanOut, wOffset: s.wOffset, hasLoss }, [b.deltas[l], input(l), b.losses, b.partials]);
        if (l > 0) {
          await add('backprop', src.mlpBackprop, { ACT: act }, n * s.fanIn,
            { fanIn: s.fanIn, fanOut: s.fanOut, wOffset: s.wOffset, hasLoss: false }, [b.theta, b.deltas[l], b.acts[l - 1], b.deltas[l - 1]]);
        }
      }
      const lanes = 32;
      const cols = Math.max(1, wg / lanes);
      await add('reduce', src.mlpReduce, { LANES: Math.min(lanes, wg) }, plan.stride,
        { fanIn: 0, fanOut: 0, wOffset: 0, hasLoss: false }, [b.partials, b.gradLoss], Math.ceil(plan.stride / cols));
      return new MlpGradientPasses(stages, uniforms);
    } catch (e) {
      for (const u of uniforms) u.destroy();
      throw e;
    }
  }

  record(pass: GPUComputePassEncoder): void {
    for (const s of this.stages) {
      pass.setPipeline(s.pipeline);
      pass.setBindGroup(0, s.bindGroup);
      pass.dispatchWorkgroups(s.groups.x, s.groups.y);
    }
  }

  dispose(): void {
    for (const u of this.uniforms) u.destroy();
  }
}

/** shaders/mlp_history.wgsl: (J, |grad J|) of each chained step into a ring, one bind group per step slot. */
export class MlpHistoryPass {
  static readonly kLabel = 'nabla.mlp.history';

  private constructor(private readonly pipeline: GPUComputePipeline, private readonly bindGroups: GPUBindGroup[]) {}

  static async create(device: GPUDevice, workgroupSize: number, slots: GPUBufferBinding[], gradLoss: GPUBuffer, history: GPUBuffer): Promise<MlpHistoryPass> {
    const code = assembleWgsl([src.optimLayout], src.mlpHistory);
    const pipeline = await createComputePipeline(device, MlpHistoryPass.kLabel, code, { WG: workgroupSize, HISTORY_CAP: slots.length });
    const bindGroups = slots.map((slot, s) => device.createBindGroup({
      label: `${MlpHistoryPass.kLabel}.bindGroup.${s}`,
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: slot }, { binding: 1, resource: { buffer: gradLoss } }, { binding: 2, resource: { buffer: history } }],
    }));
    return new MlpHistoryPass(pipeline, bindGroups);
  }

  run(pass: GPUComputePassEncoder, slot: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroups[slot]);
    pass.dispatchWorkgroups(1);
  }
}
