// Pass 2: shaders/reduce_partials.wgsl, one workgroup per gradient component and the loss.
import { shaderSources } from '../shaders.ts';
import { assembleWgsl } from '../wgsl.ts';
import { createComputePipeline } from '../resources.ts';

export interface ReducePartialsBindings {
  uniforms: GPUBuffer;
  partials: GPUBuffer;
  state: GPUBuffer;
  gradLoss: GPUBuffer;
}

export class ReducePartialsPass {
  static readonly kLabel = 'nabla.linear.reduce';

  private constructor(private readonly pipeline: GPUComputePipeline, private readonly bindGroup: GPUBindGroup, private readonly components: number) {}

  static async create(device: GPUDevice, d: number, workgroupSize: number, b: ReducePartialsBindings): Promise<ReducePartialsPass> {
    const code = assembleWgsl([shaderSources.linearLayout], shaderSources.reducePartials);
    const pipeline = await createComputePipeline(device, ReducePartialsPass.kLabel, code, { WG: workgroupSize });
    const bindGroup = device.createBindGroup({
      label: `${ReducePartialsPass.kLabel}.bindGroup`,
      layout: pipeline.getBindGroupLayout(0),
      entries: [b.uniforms, b.partials, b.state, b.gradLoss].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return new ReducePartialsPass(pipeline, bindGroup, d + 2);
  }

  run(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(this.components);
  }
}
