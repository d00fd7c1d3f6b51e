// Entry of dist/bench/nabla-bench.js, the bundle bench/run.ts loads into headless Chromium: the suites
// with the TF.js comparisons. The page asks for its own adapter; TF.js asks for another device.
import { requestGpu } from '../src/gpu/device.ts';
import type { SuiteConfig } from './args.ts';
import type { SuiteResult } from './report.ts';
import { runSuites } from './suite/suites.ts';
import { tfjsRunner } from './suite/tfjs-step.ts';
import { tfjsMlpRunner } from './suite/tfjs-mlp.ts';

export async function runPageBench(config: SuiteConfig, log: (line: string) => void): Promise<SuiteResult> {
  const gpu = await requestGpu();
  try {
    return await runSuites(gpu, config, config.tfjs ? { linear: tfjsRunner, mlp: tfjsMlpRunner } : null, log);
  } finally {
    gpu.device.destroy();
  }
}
