// The suites in order on one device: linear (when config.linear), mlp-epoch (when config.mlp), then formula
// (when config.formula).
// Used by the Chromium page (with TF.js and jax-js) and by Deno (jax-js only, where it starts).
import type { GpuContext } from '../../src/gpu/device.ts';
import type { SuiteConfig } from '../args.ts';
import type { SuiteResult } from '../report.ts';
import { runLinearSuite, type LinearPeers } from './linear-step.ts';
import { runMlpSuite, type MlpPeers } from './mlp-step.ts';
import { runFormulaSuite } from './formula-step.ts';
import type { FormulaPeer } from './jax-formula.ts';

export interface Peers {
  linear: LinearPeers;
  mlp: MlpPeers;
  /** jax-js for the formula suite. */
  formula: { jax: FormulaPeer | null };
}

export const NO_PEERS: Peers = { linear: { tfjs: null, jax: null }, mlp: { tfjs: null, jax: null }, formula: { jax: null } };

export async function runSuites(gpu: GpuContext, config: SuiteConfig, peers: Peers, log: (line: string) => void): Promise<SuiteResult> {
  const result: SuiteResult = config.linear
    ? await runLinearSuite(gpu, config, peers.linear, log)
    : { adapter: gpu.summary, rows: [], skipped: [], mlp: [] };
  if (config.mlp) result.mlp.push(await runMlpSuite(gpu, config.mlp, config.injectFault, peers.mlp, log));
  if (config.formula) result.formula = await runFormulaSuite(gpu, config, peers.formula.jax, log);
  return result;
}
