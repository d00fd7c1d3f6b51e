// Pass 1: one read of X and y into per-workgroup partial sums: shaders/linear_partials_quad.wgsl for
// few features, shaders/linear_partials.wgsl (tiles staged in workgroup memory) for more.
import type { LinearGridPlan } from '../dispatch.ts';
import { shaderSources } from '../shaders.ts';
import { assembleWgsl, specializeWgsl } from '../wgsl.ts';
import { createComputePipeline } from '../resources.ts';
import { loadWeights, quadBody, reduceGradient } from './linear-quad-codegen.ts';

export interface LinearPartialsBindings {
  grid: GPUBuffer;
  x: GPUBuffer;
  y: GPUBuffer;
  theta: GPUBuffer;
  state: GPUBuffer;
  partials: GPUBuffer;
}

export function linearPartialsWgsl(d: number, plan: LinearGridPlan): string {
  if (plan.variant === 'quad') {
    const quad = specializeWgsl(shaderSources.linearPartialsQuad, {
      D: d, QUAD_BODY: quadBody(d), LOAD_WEIGHTS: loadWeights(d), REDUCE_GRADIENT: reduceGradient(d),
    }, 'linear_partials_quad.wgsl');
    return assembleWgsl([shaderSources.linearLayout], quad);
  }
  const stage = specializeWgsl(shaderSources.linearPartials, {
    D: d,
    ROWS: plan.rowsPerTile,
    FPT: plan.featuresPerThread,
    LANE_MODE: plan.laneMode,
  }, 'linear_partials.wgsl');
  return assembleWgsl([shaderSources.linearLayout], stage);
}

export class LinearPartialsPass {
  static readonly kLabel = 'nabla.linear.partials';

  private constructor(private readonly pipeline: GPUComputePipeline, private readonly bindGroup: GPUBindGroup, private readonly plan: LinearGridPlan) {}

  static async create(device: GPUDevice, d: number, plan: LinearGridPlan, b: LinearPartialsBindings, code = linearPartialsWgsl(d, plan)): Promise<LinearPartialsPass> {
    const pipeline = await createComputePipeline(device, LinearPartialsPass.kLabel, code, { WG: plan.workgroupSize });
    const bindGroup = device.createBindGroup({
      label: `${LinearPartialsPass.kLabel}.bindGroup`,
      layout: pipeline.getBindGroupLayout(0),
      entries: [b.grid, b.x, b.y, b.theta, b.state, b.partials].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return new LinearPartialsPass(pipeline, bindGroup, plan);
  }

  run(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(this.plan.groupsX, this.plan.groupsY);
  }
}
