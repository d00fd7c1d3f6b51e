// GPU tests must run on a real adapter: no adapter is a failure, never a skip or a CPU fallback.
import { requestGpu, type GpuContext } from '../../src/gpu/device.ts';

let shared: Promise<GpuContext> | null = null;

export function testGpu(): Promise<GpuContext> {
  shared ??= requestGpu(navigator.gpu).then((gpu) => {
    console.info(`GPU tests on ${gpu.summary.name} (${gpu.summary.description}), fallback: ${gpu.summary.isFallback}`);
    return gpu;
  });
  return shared;
}
