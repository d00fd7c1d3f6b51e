// Pass 3: shaders/apply_update.wgsl, the gradient norm, stopping rules and theta <- theta - lr * grad; its
// FUSED_REDUCE variant also does the single-workgroup reduce (a batch whose reduce is SINGLE).
import { shaderSources } from '../shaders.ts';
import { assembleWgsl, specializeWgsl } from '../wgsl.ts';
import { createComputePipeline } from '../resources.ts';

export interface ApplyUpdateBindings {
  uniforms: GPUBuffer;
  gradLoss: GPUBuffer;
  theta: GPUBuffer;
  thetaPrev: GPUBuffer;
  state: GPUBuffer;
  history: GPUBuffer;
  partials: GPUBuffer;
}

export function applyUpdateWgsl(fusedReduce: boolean): string {
  const stage = specializeWgsl(shaderSources.applyUpdate, { FUSED_REDUCE: fusedReduce }, 'apply_update.wgsl');
  // The column sum names the fused variant's `ru` and `partials`: the plain variant declares neither.
  const shared = fusedReduce
    ? [shaderSources.linearLayout, shaderSources.compensatedSum, shaderSources.partialsColumn, shaderSources.workgroupSum]
    : [shaderSources.linearLayout, shaderSources.workgroupSum];
  return assembleWgsl(shared, stage);
}

export class ApplyUpdatePass {
  static readonly kLabel = 'nabla.linear.update';

  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
    private readonly fusedPipeline: GPUComputePipeline,
    private readonly bindGroup: GPUBindGroup,
    private readonly b: ApplyUpdateBindings,
  ) {}

  static async create(device: GPUDevice, workgroupSize: number, b: ApplyUpdateBindings): Promise<ApplyUpdatePass> {
    const [pipeline, fused] = await Promise.all([false, true].map((f) =>
      createComputePipeline(device, `${ApplyUpdatePass.kLabel}${f ? '.fused' : ''}`, applyUpdateWgsl(f), { WG: workgroupSize })));
    const bindGroup = device.createBindGroup({
      label: `${ApplyUpdatePass.kLabel}.bindGroup`,
      layout: pipeline.getBindGroupLayout(0),
      entries: [b.uniforms, b.gradLoss, b.theta, b.thetaPrev, b.state, b.history].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return new ApplyUpdatePass(device, pipeline, fused, bindGroup, b);
  }

  /** The fused reduce + update of one batch (its ReduceUniforms): for batches whose reduce is SINGLE. */
  bindFused(reduceUniforms: GPUBuffer, label: string): GPUBindGroup {
    const { b } = this;
    return this.device.createBindGroup({
      label: `${ApplyUpdatePass.kLabel}.fused.${label}.bindGroup`,
      layout: this.fusedPipeline.getBindGroupLayout(0),
      entries: [b.uniforms, b.gradLoss, b.theta, b.thetaPrev, b.state, b.history, reduceUniforms, b.partials]
        .map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  run(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(1);
  }

  /** Reduce and update in one dispatch (bindFused's bind group). */
  runFused(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup): void {
    pass.setPipeline(this.fusedPipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(1);
  }
}
