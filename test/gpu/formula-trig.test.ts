// The generated kernels' sin, cos and tan (nabla_sin, nabla_cos, nabla_tan in WGSL_HELPERS) against
// Math.sin, Math.cos and Math.tan of the same float32 arguments. WGSL lets the built-ins be 2^-11 off (and
// SwiftShader's were 1.9e-4 off on [0, π]); the helpers are held to a few float32 ulps: 2.5e-7 absolute
// (sin, cos) where |x| ≤ 100, 1e-6 out to |x| = 10^4, where x's own ulp is 1e-3 and k·π/2 has 13 bits; tan
// relative to its own size and its slope (1 + tan²) there.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { WGSL_HELPERS } from '../../src/formula/functions.ts';

async function evaluate(xs: Float32Array<ArrayBuffer>): Promise<Float32Array> {
  const { device } = await testGpu();
  const n = xs.length;
  const code = `${WGSL_HELPERS}
@group(0) @binding(0) var<storage, read> xin: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x;
  if (i >= ${n}u) { return; }
  out[i] = nabla_sin(xin[i]);
  out[i + ${n}u] = nabla_cos(xin[i]);
  out[i + ${2 * n}u] = nabla_tan(xin[i]);
}`;
  const module = device.createShaderModule({ label: 'test.trig', code });
  const pipeline = device.createComputePipeline({ label: 'test.trig', layout: 'auto', compute: { module, entryPoint: 'main' } });
  const input = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const output = device.createBuffer({ size: 3 * n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: 3 * n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    device.queue.writeBuffer(input, 0, xs);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: input } }, { binding: 1, resource: { buffer: output } }] }));
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    encoder.copyBufferToBuffer(output, 0, readback, 0, 3 * n * 4);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ);
    return new Float32Array(readback.getMappedRange().slice(0));
  } finally {
    for (const b of [input, output, readback]) b.destroy();
  }
}

describe('nabla_sin, nabla_cos and nabla_tan', () => {
  it('are within a few float32 ulps of Math.sin, Math.cos and Math.tan of the same arguments', async () => {
    const near = Float32Array.from({ length: 8192 }, (_, i) => -100 + (200 * i) / 8191);
    const far = Float32Array.from({ length: 4096 }, (_, i) => (i % 2 === 0 ? 1 : -1) * (100 + (9900 * i) / 4095));
    for (const [xs, bound] of [[near, 2.5e-7], [far, 1e-6]] as const) {
      const got = await evaluate(xs);
      const n = xs.length;
      let worst = { sin: 0, cos: 0, tan: 0 };
      for (let i = 0; i < n; i++) {
        const x = xs[i];
        const t = Math.tan(x);
        worst = {
          sin: Math.max(worst.sin, Math.abs(got[i] - Math.sin(x))),
          cos: Math.max(worst.cos, Math.abs(got[n + i] - Math.cos(x))),
          // Beside its poles tan's slope 1 + tan² multiplies the argument's own error.
          tan: Math.max(worst.tan, Math.abs(got[2 * n + i] - t) / ((1 + t * t) + Math.abs(t))),
        };
      }
      expect(worst.sin, `sin, |x| up to ${xs[n - 1]}`).toBeLessThan(bound);
      expect(worst.cos, `cos, |x| up to ${xs[n - 1]}`).toBeLessThan(bound);
      expect(worst.tan, `tan, |x| up to ${xs[n - 1]}`).toBeLessThan(bound);
    }
  });

  it('give what Math gives at ±0, ±∞ and NaN (but the sign of a zero)', async () => {
    const xs = Float32Array.of(0, -0, Infinity, -Infinity, NaN);
    const got = await evaluate(xs);
    const n = xs.length;
    expect([Math.abs(got[0]), Math.abs(got[1])]).toEqual([0, 0]); // the sign of a zero is not kept
    expect([got[n], got[n + 1]]).toEqual([1, 1]);
    for (const k of [2, 3, 4]) for (const f of [0, n, 2 * n]) expect(got[f + k]).toBeNaN();
    expect([Math.abs(got[2 * n]), Math.abs(got[2 * n + 1])]).toEqual([0, 0]);
  });
});
