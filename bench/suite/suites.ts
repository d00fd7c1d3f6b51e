// Both suites in order on one device: linear-step (when config.linear), then mlp-epoch (when config.mlp).
// Used by the Chromium page (with the TF.js runners) and by Deno (without).
import type { GpuContext } from '../../src/gpu/device.ts';
import type { SuiteConfig } from '../args.ts';
import type { SuiteResult } from '../report.ts';
import { runLinearStepSuite, type TfjsRunner } from './linear-step.ts';
import { runMlpSuite, type TfjsMlpRunner } from './mlp-step.ts';

export interface TfjsRunners {
  linear: TfjsRunner;
  mlp: TfjsMlpRunner;
}

export async function runSuites(gpu: GpuContext, config: SuiteConfig, tfjs: TfjsRunners | null, log: (line: string) => void): Promise<SuiteResult> {
  const result: SuiteResult = config.linear
    ? await runLinearStepSuite(gpu, config, tfjs?.linear ?? null, log)
    : { adapter: gpu.summary, rows: [], skipped: [], mlp: [] };
  if (config.mlp) result.mlp.push(await runMlpSuite(gpu, config.mlp, config.injectFault, tfjs?.mlp ?? null, log));
  return result;
}
