// Entry of dist/bench/nabla-bench.js, the bundle bench/run.ts loads into headless Chromium: the suites
// with the TF.js and jax-js comparisons. The page asks for its own adapter; TF.js and jax-js each ask
// for a device of their own.
import { requestGpu } from '../src/gpu/device.ts';
import type { SuiteConfig } from './args.ts';
import type { SuiteResult } from './report.ts';
import { runSuites } from './suite/suites.ts';
import { tfjsLinearPeer } from './suite/tfjs-step.ts';
import { tfjsMlpRunner } from './suite/tfjs-mlp.ts';
import { jaxLinearPeer } from './suite/jax-linear.ts';
import { jaxMlpPeer } from './suite/jax-mlp.ts';
import { jaxFormulaPeer } from './suite/jax-formula.ts';

export async function runPageBench(config: SuiteConfig, log: (line: string) => void): Promise<SuiteResult> {
  const gpu = await requestGpu();
  try {
    return await runSuites(gpu, config, {
      linear: { tfjs: config.tfjs ? tfjsLinearPeer : null, jax: config.jax ? jaxLinearPeer('webgpu') : null },
      mlp: { tfjs: config.tfjs ? tfjsMlpRunner : null, jax: config.jax ? jaxMlpPeer('webgpu') : null },
      formula: { jax: config.jax ? jaxFormulaPeer('webgpu') : null },
    }, log);
  } finally {
    gpu.device.destroy();
  }
}
