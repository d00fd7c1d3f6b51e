// Pass 1: one read of X and y into per-workgroup partial sums: shaders/linear_partials_quad.wgsl for
// few features, shaders/linear_partials.wgsl (tiles staged in workgroup memory) or, for wide rows of whole
// vec4s, shaders/linear_partials_wide.wgsl for more (src/gpu/dispatch.ts, linearVariants).
import { QUADS_PER_BLOCK, quadTreeRows, TILES_PER_BLOCK, type LinearGridPlan } from '../dispatch.ts';
import { shaderSources } from '../shaders.ts';
import { assembleWgsl, specializeWgsl } from '../wgsl.ts';
import { createComputePipeline } from '../resources.ts';
import { quadBody, quadDefines, recordsQuadBody } from './linear-quad-codegen.ts';

/** Buffers every dispatch shares; each slice adds its own uniforms and chunk. */
export interface LinearPartialsShared {
  theta: GPUBuffer;
  state: GPUBuffer;
  partials: GPUBuffer;
}

export interface LinearPartialsSlice {
  grid: GPUBuffer; // LinearGridUniforms of this slice
  x: GPUBuffer;
  y: GPUBuffer;
}

/** The structs, the compensated sum and the segmented workgroup sum (pass-1 variants without tiles). */
const SHARED = [shaderSources.linearLayout, shaderSources.compensatedSum, shaderSources.segmentedSum];

export function linearPartialsWgsl(d: number, plan: LinearGridPlan): string {
  if (plan.variant === 'quad') {
    return assembleWgsl(SHARED, specializeWgsl(shaderSources.linearPartialsQuad, quadDefines(d, d, false, quadBody(d), plan.unroll), 'linear_partials_quad.wgsl'));
  }
  if (plan.variant === 'wide') {
    return assembleWgsl(SHARED, specializeWgsl(shaderSources.linearPartialsWide, { D: d, BLOCK: QUADS_PER_BLOCK, TREE_ROWS: quadTreeRows(d) }, 'linear_partials_wide.wgsl'));
  }
  const stage = specializeWgsl(shaderSources.linearPartials, {
    D: d,
    ROWS: plan.rowsPerTile,
    FPT: plan.featuresPerThread,
    LANE_MODE: plan.laneMode,
    BLOCK: TILES_PER_BLOCK,
  }, 'linear_partials.wgsl');
  return assembleWgsl([shaderSources.linearLayout, shaderSources.compensatedSum, shaderSources.workgroupSum], stage);
}

/**
 * Pass 1 over interleaved raw-format records with fused standardization (the RECORDS variant of
 * shaders/linear_partials_quad.wgsl): bound like the other variants, with the records buffer as `x` and
 * the standardization constants as `y`. One quad per loop iteration: the text is made before a
 * configuration is chosen.
 */
export function linearRecordsWgsl(d: number, stride: number, columns: readonly number[]): string {
  const stage = specializeWgsl(shaderSources.linearPartialsQuad, quadDefines(d, stride, true, recordsQuadBody(d, stride, columns), 1), 'linear_partials_quad.wgsl (records)');
  return assembleWgsl(SHARED, stage);
}

/** Pass 1 over any number of slices (chunks, mini-batches): one pipeline, one bind group per slice. */
export class LinearPartialsPass {
  static readonly kLabel = 'nabla.linear.partials';

  private constructor(private readonly device: GPUDevice, private readonly pipeline: GPUComputePipeline, private readonly shared: LinearPartialsShared) {}

  static async create(device: GPUDevice, d: number, plan: LinearGridPlan, shared: LinearPartialsShared, code = linearPartialsWgsl(d, plan)): Promise<LinearPartialsPass> {
    const pipeline = await createComputePipeline(device, LinearPartialsPass.kLabel, code, { WG: plan.workgroupSize });
    return new LinearPartialsPass(device, pipeline, shared);
  }

  bind(slice: LinearPartialsSlice, label: string): GPUBindGroup {
    const { theta, state, partials } = this.shared;
    return this.device.createBindGroup({
      label: `${LinearPartialsPass.kLabel}.${label}.bindGroup`,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [slice.grid, slice.x, slice.y, theta, state, partials].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  run(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup, plan: LinearGridPlan): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(plan.groupsX, plan.groupsY);
  }
}
