// Pass 3: shaders/apply_update.wgsl, the gradient norm, stopping rules and theta <- theta - lr * grad.
import { shaderSources } from '../shaders.ts';
import { assembleWgsl } from '../wgsl.ts';
import { createComputePipeline } from '../resources.ts';

export interface ApplyUpdateBindings {
  uniforms: GPUBuffer;
  gradLoss: GPUBuffer;
  theta: GPUBuffer;
  thetaPrev: GPUBuffer;
  state: GPUBuffer;
  history: GPUBuffer;
}

export class ApplyUpdatePass {
  static readonly kLabel = 'nabla.linear.update';

  private constructor(private readonly pipeline: GPUComputePipeline, private readonly bindGroup: GPUBindGroup) {}

  static async create(device: GPUDevice, workgroupSize: number, b: ApplyUpdateBindings): Promise<ApplyUpdatePass> {
    const code = assembleWgsl([shaderSources.linearLayout], shaderSources.applyUpdate);
    const pipeline = await createComputePipeline(device, ApplyUpdatePass.kLabel, code, { WG: workgroupSize });
    const bindGroup = device.createBindGroup({
      label: `${ApplyUpdatePass.kLabel}.bindGroup`,
      layout: pipeline.getBindGroupLayout(0),
      entries: [b.uniforms, b.gradLoss, b.theta, b.thetaPrev, b.state, b.history].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return new ApplyUpdatePass(pipeline, bindGroup);
  }

  run(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(1);
  }
}
