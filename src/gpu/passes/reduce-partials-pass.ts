// Pass 2: shaders/reduce_partials.wgsl, one workgroup per gradient component and the loss.
import { shaderSources } from '../shaders.ts';
import { assembleWgsl } from '../wgsl.ts';
import { createComputePipeline } from '../resources.ts';

export interface ReducePartialsShared {
  partials: GPUBuffer;
  state: GPUBuffer;
  gradLoss: GPUBuffer;
}

/** Pass 2 for any batch: one pipeline, one bind group per batch (its ReduceUniforms). */
export class ReducePartialsPass {
  static readonly kLabel = 'nabla.linear.reduce';

  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
    private readonly shared: ReducePartialsShared,
    private readonly components: number,
  ) {}

  static async create(device: GPUDevice, d: number, workgroupSize: number, shared: ReducePartialsShared): Promise<ReducePartialsPass> {
    const code = assembleWgsl([shaderSources.linearLayout], shaderSources.reducePartials);
    const pipeline = await createComputePipeline(device, ReducePartialsPass.kLabel, code, { WG: workgroupSize });
    return new ReducePartialsPass(device, pipeline, shared, d + 2);
  }

  bind(uniforms: GPUBuffer, label: string): GPUBindGroup {
    const { partials, state, gradLoss } = this.shared;
    return this.device.createBindGroup({
      label: `${ReducePartialsPass.kLabel}.${label}.bindGroup`,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [uniforms, partials, state, gradLoss].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  run(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(this.components);
  }
}
