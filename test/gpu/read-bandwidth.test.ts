// shaders/read_bandwidth.wgsl (the bench's read yardstick) with its workgroup tree from
// shared/workgroup_sum.wgsl: every load width, unroll, layout and blocked run length sums a buffer exactly, and the injected FAULT
// variant (the unrolled trips read their first vector twice) does not. Small integers keep every f32 sum exact,
// so the check is equality, not a tolerance.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { shaderSources } from '../../src/gpu/shaders.ts';
import { assembleWgsl, specializeWgsl } from '../../src/gpu/wgsl.ts';
import { createComputePipeline } from '../../src/gpu/resources.ts';
import {
  configKey, packReadUniforms, READ_RUNS, readPipelineConstants, readVariantDefines, sumTolerance, type ReadConfig, type ReadLayout,
} from '../../bench/suite/read-plan.ts';

const FLOATS = 40_000; // a multiple of 4; not a multiple of the grid, so the tail loop runs
const WG = 64;
const GROUPS = 7;
const THREADS = WG * GROUPS;
/**
 * Blocked sizes for a run length, in floats (multiples of 4): fewer runs than threads (at vec4, one run and
 * 9 elements left over), and two rounds of runs over every thread, 100 threads' runs more and 5 vec4 elements
 * left over. Those 9 or 5 vec4s are 18 or 10 vec2s and 36 or 20 floats, none a multiple of 16, so elements
 * are left after the last whole run at every load width and run length. At run 256 the larger is ~1M floats of values up to 12:
 * every partial sum stays an integer below 2^24, so still exact.
 */
const blockedFloats = (run: number) => [4 * (run + 9), 4 * (run * (THREADS * 2 + 100) + 5)];

const pattern = (floats: number) => Float32Array.from({ length: floats }, (_, i) => (i * 7) % 13);

/** One read kernel over `data`, called as the sweep does: dispatch, read the partials back, add them on the host. */
async function readKernel(data: Float32Array<ArrayBuffer>, config: ReadConfig, fault: boolean) {
  const { device } = await testGpu();
  const code = assembleWgsl([shaderSources.workgroupSum], specializeWgsl(shaderSources.readBandwidth, readVariantDefines(config.vec, config.unroll, fault), 'read_bandwidth.wgsl'));
  const pipeline = await createComputePipeline(device, 'nabla.test.read', code, readPipelineConstants(config));
  const { groups } = config;
  const src = device.createBuffer({ label: 'nabla.test.read.src', size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(src, 0, data);
  const uniforms = device.createBuffer({ label: 'nabla.test.read.uniforms', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uniforms, 0, packReadUniforms(data.length / config.vec, groups, groups));
  const partials = device.createBuffer({ label: 'nabla.test.read.partials', size: groups * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ label: 'nabla.test.read.readback', size: groups * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const bindGroup = device.createBindGroup({
    label: 'nabla.test.read.bindGroup', layout: pipeline.getBindGroupLayout(0),
    entries: [uniforms, src, partials].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  return {
    async call(): Promise<number> {
      const encoder = device.createCommandEncoder({ label: 'nabla.test.read.encoder' });
      const pass = encoder.beginComputePass({ label: 'nabla.test.read.pass' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(groups);
      pass.end();
      encoder.copyBufferToBuffer(partials, 0, readback, 0, groups * 4);
      device.queue.submit([encoder.finish()]);
      await readback.mapAsync(GPUMapMode.READ);
      const sum = new Float32Array(readback.getMappedRange()).reduce((a, v) => a + v, 0);
      readback.unmap();
      return sum;
    },
    destroy(): void {
      for (const b of [src, uniforms, partials, readback]) b.destroy();
    },
  };
}

async function sumWith(
  floats: number, vec: ReadConfig['vec'], unroll: ReadConfig['unroll'], layout: ReadLayout, fault: boolean, run?: number,
): Promise<number> {
  const kernel = await readKernel(pattern(floats), { groups: GROUPS, wg: WG, vec, unroll, layout, ...(run === undefined ? {} : { run }) }, fault);
  try {
    return await kernel.call();
  } finally {
    kernel.destroy();
  }
}

const exactSum = (floats: number) => pattern(floats).reduce((a, v) => a + v, 0);

describe('read_bandwidth.wgsl', () => {
  for (const vec of [1, 2, 4] as const) {
    for (const unroll of [1, 2, 4] as const) {
      it(`strided vec${vec} unroll${unroll} sums exactly${unroll > 1 ? '; its FAULT variant does not' : ''}`, async () => {
        expect(await sumWith(FLOATS, vec, unroll, 'strided', false)).toBe(exactSum(FLOATS));
        if (unroll > 1) expect(await sumWith(FLOATS, vec, unroll, 'strided', true)).not.toBe(exactSum(FLOATS));
      });

      it(`blocked vec${vec} unroll${unroll} at runs ${READ_RUNS.join(', ')} sums exactly with partial rounds of runs and leftover elements${unroll > 1 ? '; its FAULT variant does not' : ''}`, async () => {
        for (const run of READ_RUNS) {
          for (const floats of blockedFloats(run)) {
            const at = `run ${run}, ${floats} floats`;
            expect(await sumWith(floats, vec, unroll, 'blocked', false, run), at).toBe(exactSum(floats));
            if (unroll > 1) expect(await sumWith(floats, vec, unroll, 'blocked', true, run), `${at}, FAULT`).not.toBe(exactSum(floats));
          }
        }
      });
    }
  }

  it('strided and blocked at each run sum 2^22 floats within the sweep\'s tolerance (their times printed, for information)', async () => {
    const floats = 2 ** 22;
    const data = pattern(floats);
    const exact = data.reduce((a, v) => a + v, 0);
    const configs: ReadConfig[] = [
      { groups: 8, wg: WG, vec: 4, unroll: 4, layout: 'strided' },
      ...READ_RUNS.map((run): ReadConfig => ({ groups: 8, wg: WG, vec: 4, unroll: 4, layout: 'blocked', run })),
    ];
    for (const config of configs) {
      const kernel = await readKernel(data, config, false);
      try {
        await kernel.call(); // warm-up: the first call also compiles
        const ms: number[] = [];
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now();
          const sum = await kernel.call();
          ms.push(performance.now() - t0);
          expect(Math.abs(sum - exact) / exact, configKey(config)).toBeLessThanOrEqual(sumTolerance(floats, config));
        }
        console.info(`read_bandwidth ${configKey(config)}, 2^22 floats: median ${ms.sort((a, b) => a - b)[2].toFixed(2)} ms a call`);
      } finally {
        kernel.destroy();
      }
    }
  });
});
