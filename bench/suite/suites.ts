// Both suites in order on one device: linear (when config.linear), then mlp-epoch (when config.mlp).
// Used by the Chromium page (with TF.js and jax-js) and by Deno (jax-js only, where it starts).
import type { GpuContext } from '../../src/gpu/device.ts';
import type { SuiteConfig } from '../args.ts';
import type { SuiteResult } from '../report.ts';
import { runLinearSuite, type LinearPeers } from './linear-step.ts';
import { runMlpSuite, type MlpPeers } from './mlp-step.ts';

export interface Peers {
  linear: LinearPeers;
  mlp: MlpPeers;
}

export const NO_PEERS: Peers = { linear: { tfjs: null, jax: null }, mlp: { tfjs: null, jax: null } };

export async function runSuites(gpu: GpuContext, config: SuiteConfig, peers: Peers, log: (line: string) => void): Promise<SuiteResult> {
  const result: SuiteResult = config.linear
    ? await runLinearSuite(gpu, config, peers.linear, log)
    : { adapter: gpu.summary, rows: [], skipped: [], mlp: [] };
  if (config.mlp) result.mlp.push(await runMlpSuite(gpu, config.mlp, config.injectFault, peers.mlp, log));
  return result;
}
