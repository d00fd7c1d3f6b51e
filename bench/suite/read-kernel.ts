// The reference the fused step is measured against: shaders/read_bandwidth.wgsl summing buffers of
// the same byte counts as X and y (two dispatches in one pass, like the gradient's two bindings), with
// none of the gradient's arithmetic. gbps / readKernelGbps is then "how close to a plain read".
import type { GpuContext } from '../../src/gpu/device.ts';
import { chooseWorkgroupSize, fold2d } from '../../src/gpu/dispatch.ts';
import { createBufferChecked, createComputePipeline } from '../../src/gpu/resources.ts';
import { shaderSources } from '../../src/gpu/shaders.ts';

const kLabel = 'nabla.bench.read';
/**
 * vec4s each thread reads (four trips of the shader's 4-load loop): thousands of workgroups on a large
 * input, enough to fill a big GPU, while the per-workgroup tree stays a small share of the work.
 */
const kVec4PerThread = 16;
/** Host block copied into the sources: non-constant data, so no hardware can shortcut it as zeros. */
const kPatternFloats = 1 << 18;

/** float32 sums of at most 64 values per thread, then trees: (64 + log2 N) * 6e-8 is below this. */
const SUM_REL_TOL = 1e-4;

interface Source {
  /** What the buffer holds sums to this (float64): the check that the kernel read every byte. */
  expected: number;
  buffer: GPUBuffer;
  partials: GPUBuffer;
  uniforms: GPUBuffer;
  bindGroup: GPUBindGroup;
  groups: { x: number; y: number };
}

export class ReadKernel {
  private constructor(private readonly pipeline: GPUComputePipeline, private readonly sources: Source[]) {}

  /** One source buffer per byte count (rounded up to whole vec4s). */
  static async create(gpu: GpuContext, byteCounts: readonly number[]): Promise<ReadKernel> {
    const { device } = gpu;
    const wg = chooseWorkgroupSize(gpu.shape);
    const pipeline = await createComputePipeline(device, kLabel, shaderSources.readBandwidth, { WG: wg });
    const pattern = new Float32Array(kPatternFloats);
    for (let i = 0; i < pattern.length; i++) pattern[i] = ((i * 2654435761) >>> 0) / 2 ** 32;
    const patternSum = pattern.reduce((a, v) => a + v, 0);
    const sources: Source[] = [];
    try {
      for (const bytes of byteCounts) {
        const count4 = Math.ceil(bytes / 16);
        const numGroups = Math.max(1, Math.ceil(count4 / (wg * kVec4PerThread)));
        const groups = fold2d(numGroups, gpu.shape.maxWorkgroupsPerDimension);
        const buffer = await createBufferChecked(device, {
          label: `${kLabel}.src`, size: count4 * 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
        });
        // writeBuffer, not mappedAtCreation: under Deno on an H100 a mapped-at-creation upload ran at
        // ~20 MB/s (13 s for 256 MiB), which would dominate a run.
        const floats = count4 * 4;
        for (let at = 0; at < floats; at += pattern.length) {
          device.queue.writeBuffer(buffer, at * 4, pattern, 0, Math.min(pattern.length, floats - at));
        }
        const rest = floats % pattern.length;
        const expected = Math.floor(floats / pattern.length) * patternSum + pattern.subarray(0, rest).reduce((a, v) => a + v, 0);
        const partials = await createBufferChecked(device, {
          label: `${kLabel}.partials`, size: numGroups * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
        });
        const uniforms = device.createBuffer({ label: `${kLabel}.uniforms`, size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
        // ReadUniforms { count4, num_groups, groups_x, _pad } in shaders/read_bandwidth.wgsl
        device.queue.writeBuffer(uniforms, 0, new Uint32Array([count4, numGroups, groups.x, 0]));
        const bindGroup = device.createBindGroup({
          label: `${kLabel}.bindGroup`,
          layout: pipeline.getBindGroupLayout(0),
          entries: [uniforms, buffer, partials].map((b, binding) => ({ binding, resource: { buffer: b } })),
        });
        sources.push({ expected, buffer, partials, uniforms, bindGroup, groups });
      }
    } catch (e) {
      new ReadKernel(pipeline, sources).dispose();
      throw e;
    }
    return new ReadKernel(pipeline, sources);
  }

  record(pass: GPUComputePassEncoder): void {
    pass.setPipeline(this.pipeline);
    for (const s of this.sources) {
      pass.setBindGroup(0, s.bindGroup);
      pass.dispatchWorkgroups(s.groups.x, s.groups.y);
    }
  }

  /** Runs once and compares each source's total with the host's; a message when one is off. */
  async check(device: GPUDevice): Promise<string | null> {
    const encoder = device.createCommandEncoder({ label: `${kLabel}.check.encoder` });
    const pass = encoder.beginComputePass();
    this.record(pass);
    pass.end();
    const readbacks = this.sources.map((s) => {
      const rb = device.createBuffer({ label: `${kLabel}.check.readback`, size: s.partials.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      encoder.copyBufferToBuffer(s.partials, 0, rb, 0, s.partials.size);
      return rb;
    });
    device.queue.submit([encoder.finish()]);
    const problems: string[] = [];
    for (const [i, rb] of readbacks.entries()) {
      await rb.mapAsync(GPUMapMode.READ);
      const got = new Float32Array(rb.getMappedRange()).reduce((a, v) => a + v, 0);
      rb.destroy();
      const want = this.sources[i].expected;
      if (!(Math.abs(got - want) <= SUM_REL_TOL * Math.abs(want))) problems.push(`source ${i} summed to ${got}, expected ${want}`);
    }
    return problems.length ? `read kernel wrong: ${problems.join('; ')}` : null;
  }

  dispose(): void {
    for (const s of this.sources) {
      s.buffer.destroy();
      s.partials.destroy();
      s.uniforms.destroy();
    }
  }
}
