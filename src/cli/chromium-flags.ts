// How nabla starts Chromium for WebGPU: the tests, the CLI's GPU path and the benchmark share these.

/** Flags that gave a WebGPU adapter in headless Chromium on Linux (see README, "GPU runtime"). */
export const CHROMIUM_WEBGPU_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // On Linux with a real GPU, Chromium picks SwiftShader unless Vulkan is enabled.
  '--enable-features=Vulkan',
];

export function chromiumPath(): string {
  return process.env.NABLA_CHROMIUM ?? '/usr/bin/chromium';
}
