// Entry of dist/bench/nabla-bench.js, the bundle bench/run.ts loads into headless Chromium: the suite
// with the TF.js comparison. The page asks for its own adapter; TF.js asks for another device.
import { requestGpu } from '../src/gpu/device.ts';
import type { SuiteConfig } from './args.ts';
import type { SuiteResult } from './report.ts';
import { runLinearStepSuite } from './suite/linear-step.ts';
import { tfjsRunner } from './suite/tfjs-step.ts';

export async function runPageBench(config: SuiteConfig, log: (line: string) => void): Promise<SuiteResult> {
  const gpu = await requestGpu();
  try {
    return await runLinearStepSuite(gpu, config, config.tfjs ? tfjsRunner : null, log);
  } finally {
    gpu.device.destroy();
  }
}
