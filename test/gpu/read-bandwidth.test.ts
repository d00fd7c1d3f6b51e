// shaders/read_bandwidth.wgsl (the bench's read yardstick) with its workgroup tree from
// shared/workgroup_sum.wgsl: every load width and unroll sums a buffer exactly, and the injected FAULT variant
// (the unrolled trips read their first vector twice) does not. Small integers keep every f32 sum exact, so the
// check is equality, not a tolerance.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { shaderSources } from '../../src/gpu/shaders.ts';
import { assembleWgsl, specializeWgsl } from '../../src/gpu/wgsl.ts';
import { createComputePipeline } from '../../src/gpu/resources.ts';
import { packReadUniforms, readVariantDefines, type Unroll, type VecWidth } from '../../bench/suite/read-plan.ts';

const FLOATS = 40_000; // a multiple of 4; not a multiple of the grid, so the tail loop runs
const WG = 64;
const GROUPS = 7;

async function sumWith(vec: VecWidth, unroll: Unroll, fault: boolean): Promise<number> {
  const { device } = await testGpu();
  const code = assembleWgsl([shaderSources.workgroupSum], specializeWgsl(shaderSources.readBandwidth, readVariantDefines(vec, unroll, fault), 'read_bandwidth.wgsl'));
  const pipeline = await createComputePipeline(device, 'nabla.test.read', code, { WG });
  const data = Float32Array.from({ length: FLOATS }, (_, i) => (i * 7) % 13);
  const src = device.createBuffer({ label: 'nabla.test.read.src', size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(src, 0, data);
  const uniforms = device.createBuffer({ label: 'nabla.test.read.uniforms', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uniforms, 0, packReadUniforms(FLOATS / vec, GROUPS, GROUPS));
  const partials = device.createBuffer({ label: 'nabla.test.read.partials', size: GROUPS * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ label: 'nabla.test.read.readback', size: GROUPS * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const bindGroup = device.createBindGroup({
    label: 'nabla.test.read.bindGroup', layout: pipeline.getBindGroupLayout(0),
    entries: [uniforms, src, partials].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const encoder = device.createCommandEncoder({ label: 'nabla.test.read.encoder' });
  const pass = encoder.beginComputePass({ label: 'nabla.test.read.pass' });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(GROUPS);
  pass.end();
  encoder.copyBufferToBuffer(partials, 0, readback, 0, GROUPS * 4);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const sum = new Float32Array(readback.getMappedRange()).reduce((a, v) => a + v, 0);
  readback.unmap();
  for (const b of [src, uniforms, partials, readback]) b.destroy();
  return sum;
}

describe('read_bandwidth.wgsl', () => {
  const exact = Array.from({ length: FLOATS }, (_, i) => (i * 7) % 13).reduce((a, v) => a + v, 0);

  for (const vec of [1, 2, 4] as const) {
    for (const unroll of [1, 2, 4] as const) {
      it(`vec${vec} unroll${unroll} sums exactly${unroll > 1 ? '; its FAULT variant does not' : ''}`, async () => {
        expect(await sumWith(vec, unroll, false)).toBe(exact);
        if (unroll > 1) expect(await sumWith(vec, unroll, true)).not.toBe(exact);
      });
    }
  }
});
