// Pass 2: shaders/reduce_partials.wgsl, one workgroup for a few partial rows (SINGLE), else one workgroup
// per gradient component and the loss.
import { shaderSources } from '../shaders.ts';
import { assembleWgsl, specializeWgsl } from '../wgsl.ts';
import { createComputePipeline } from '../resources.ts';
import { reduceSingle } from '../dispatch.ts';

export interface ReducePartialsShared {
  partials: GPUBuffer;
  state: GPUBuffer;
  gradLoss: GPUBuffer;
}

/** A batch's reduce: its bind group, and which variant it was made for (the layouts differ). */
export interface ReduceBinding {
  bindGroup: GPUBindGroup;
  single: boolean;
}

export function reducePartialsWgsl(single: boolean): string {
  const stage = specializeWgsl(shaderSources.reducePartials, { SINGLE: single }, 'reduce_partials.wgsl');
  // SINGLE sums each column in one thread (partials_column); the other variant runs one workgroup tree per column.
  const tree = single ? [] : [shaderSources.workgroupSum];
  return assembleWgsl([shaderSources.linearLayout, shaderSources.compensatedSum, shaderSources.partialsColumn, ...tree], stage);
}

/** Pass 2 for any batch: both variants' pipelines, one bind group per batch (its ReduceUniforms). */
export class ReducePartialsPass {
  static readonly kLabel = 'nabla.linear.reduce';

  private constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: { single: GPUComputePipeline; columns: GPUComputePipeline },
    private readonly shared: ReducePartialsShared,
    private readonly components: number,
  ) {}

  /** workgroupSize: the per-column variant's; singleWorkgroupSize: the SINGLE one's (stepWorkgroupSize). */
  static async create(device: GPUDevice, d: number, workgroupSize: number, singleWorkgroupSize: number, shared: ReducePartialsShared): Promise<ReducePartialsPass> {
    const [single, columns] = await Promise.all([true, false].map((s) =>
      createComputePipeline(device, `${ReducePartialsPass.kLabel}.${s ? 'single' : 'columns'}`, reducePartialsWgsl(s), { WG: s ? singleWorkgroupSize : workgroupSize })));
    return new ReducePartialsPass(device, { single, columns }, shared, d + 2);
  }

  /** The reduce of a batch whose pass 1 writes `groups` partial rows, with its uniforms. */
  bind(uniforms: GPUBuffer, groups: number, label: string): ReduceBinding {
    const { partials, state, gradLoss } = this.shared;
    const single = reduceSingle(groups);
    const bindGroup = this.device.createBindGroup({
      label: `${ReducePartialsPass.kLabel}.${label}.bindGroup`,
      layout: (single ? this.pipelines.single : this.pipelines.columns).getBindGroupLayout(0),
      entries: [uniforms, partials, state, gradLoss].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return { bindGroup, single };
  }

  run(pass: GPUComputePassEncoder, binding: ReduceBinding): void {
    pass.setPipeline(binding.single ? this.pipelines.single : this.pipelines.columns);
    pass.setBindGroup(0, binding.bindGroup);
    pass.dispatchWorkgroups(binding.single ? 1 : this.components);
  }
}
