// shaders/standardize.wgsl: standardization applied on the GPU to each data chunk (resident: once after
// upload; streamed: after every chunk's upload). Its CPU twin is standardizeData in src/models/standardize.ts.
import { shaderSources } from '../shaders.ts';
import { specializeWgsl } from '../wgsl.ts';
import { createComputePipeline } from '../resources.ts';
import { packStandardizeUniforms } from '../uniforms.ts';
import type { Standardizer } from '../../models/standardize.ts';

/** Enough workgroups to keep a GPU busy; the kernel strides over the rest. */
const GROUPS = 256;

export class StandardizePass {
  static readonly kLabel = 'nabla.linear.standardize';

  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
    private readonly scale: GPUBuffer,
    private readonly stats: Standardizer,
    private readonly d: number,
  ) {}

  static async create(device: GPUDevice, d: number, workgroupSize: number, stats: Standardizer): Promise<StandardizePass> {
    if (stats.mean.length !== d || stats.std.length !== d) throw new RangeError(`standardize: statistics for ${stats.mean.length} features, the data has ${d}`);
    const code = specializeWgsl(shaderSources.standardize, { D: d }, 'standardize.wgsl');
    const pipeline = await createComputePipeline(device, StandardizePass.kLabel, code, { WG: workgroupSize });
    const pairs = new Float32Array(2 * d);
    for (let j = 0; j < d; j++) {
      pairs[2 * j] = stats.mean[j];
      pairs[2 * j + 1] = 1 / stats.std[j];
    }
    const scale = device.createBuffer({ label: `${StandardizePass.kLabel}.scale`, size: pairs.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(scale, 0, pairs);
    return new StandardizePass(device, pipeline, scale, stats, d);
  }

  /** Uniforms and bind group for a chunk of `rows` samples in (x, y); the caller owns and destroys the uniform buffer. */
  bind(x: GPUBuffer, y: GPUBuffer, rows: number, label: string): { bindGroup: GPUBindGroup; uniforms: GPUBuffer } {
    const data = packStandardizeUniforms(rows, this.d, this.stats.yMean, this.stats.yStd);
    const uniforms = this.device.createBuffer({ label: `${StandardizePass.kLabel}.${label}.uniforms`, size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(uniforms, 0, data);
    const bindGroup = this.device.createBindGroup({
      label: `${StandardizePass.kLabel}.${label}.bindGroup`,
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [uniforms, this.scale, x, y].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    return { bindGroup, uniforms };
  }

  run(pass: GPUComputePassEncoder, bindGroup: GPUBindGroup): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(GROUPS);
  }

  destroy(): void {
    this.scale.destroy();
  }
}
