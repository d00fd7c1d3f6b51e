// Suite "mlp-epoch": samples/s per training epoch of the issue's MLP (d = 64, hidden 256-256 ReLU,
// 10-class cross-entropy, Adam lr 1e-3, mini-batches of 4096 consecutive rows) on nabla's GPU engine,
// nabla's float64 CPU engine and (when given) TF.js's WebGPU backend and jax-js, all on one page and adapter.
// Platform-agnostic like linear-step.ts: the Deno bundle runs it without TF.js.
//
// Order: validate first (GPU and TF.js loss and gradient at the starting point on the first batch,
// against float64; a failed GPU check leaves the row untimed), then time. Epoch time is wall clock
// between the onEpoch calls of one train() of 1 + E epochs (the first is the warm-up); the GPU engine
// submits one epoch at a time (reportEvery = 1 epoch per read-back) and calls onEpoch after that submit's
// read-back, so each interval is one epoch of GPU work plus its read-back, from idle to idle. Per-run
// setup and train()'s final full-data evaluation fall outside.
import type { GpuContext } from '../../src/gpu/device.ts';
import { GpuModelEngine } from '../../src/gpu/models/gpu-model-engine.ts';
import { CpuModelEngine } from '../../src/cpu/cpu-model-engine.ts';
import { modelLossAndGradient, type ModelGradient } from '../../src/cpu/mlp_gradient.ts';
import type { ModelData, NetworkConfig } from '../../src/models/network.ts';
import type { ModelEngine, ModelTrainOptions } from '../../src/models/model-engine.ts';
import { optimizerConfig, type OptimizerConfig } from '../../src/optim/config.ts';
import type { MlpSuiteConfig } from '../args.ts';
import type { MlpRow } from '../report.ts';
import {
  benchMlpModel, checkModelGradient, dataRows, epochMsFromStamps, initialTheta, makeMlpData, MLP_GRAD_REL_TOL, MLP_LR, MLP_SEED, shiftLabels,
} from './mlp-data.ts';
import { profileMlpStages } from './mlp-profile.ts';

/** What TF.js gets: the same network, data, batches, starting point and optimizer settings. */
export interface MlpTask {
  config: NetworkConfig;
  data: ModelData;
  batch: number;
  /** Epochs to time after one warm-up epoch (epoch 0 of the batch schedule). */
  epochs: number;
  theta0: Float64Array;
  /** The batch order's seed (BatchSchedule). */
  seed: number;
  lr: number;
  optimizer: OptimizerConfig;
  /** float64 loss and gradient at theta0 on the first batch. */
  want: ModelGradient;
}

/** A peer library's MLP outcome (TF.js, jax-js). */
export interface PeerMlpOutcome {
  epochMs: number | null;
  /** Relative error of the peer's loss and gradient at theta0 on the first batch. */
  rel: number | null;
  /** Mean batch loss of the last timed epoch (a sanity check that it trained). */
  lastLoss: number | null;
  /** 'passed', 'failed: ...' (not timed) or 'skipped: ...'. */
  validation: string;
  notes: string[];
}

export interface PeerMlpRunner {
  readonly label: string;
  run(task: MlpTask): Promise<PeerMlpOutcome>;
}

export interface MlpPeers {
  tfjs: PeerMlpRunner | null;
  jax: PeerMlpRunner | null;
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

export function emptyMlpRow(c: MlpSuiteConfig, cpuN: number): MlpRow {
  return {
    suite: 'mlp-epoch', n: c.n, d: 64, hidden: [256, 256], classes: 10, batch: c.batch, epochs: c.epochs, cpuN,
    optimizer: 'adam', lr: MLP_LR,
    gpuEpochMs: null, gpuSamplesPerSec: null,
    cpuEpochMs: null, cpuSamplesPerSec: null,
    tfjsEpochMs: null, tfjsSamplesPerSec: null,
    jaxEpochMs: null, jaxSamplesPerSec: null,
    vsTfjs: null, vsJax: null, vsCpu: null,
    gradientRelError: null, tfjsRelError: null, jaxRelError: null,
    tfjsValidation: 'not run', jaxValidation: 'not run',
    gpuLoss: null, cpuLoss: null, tfjsLoss: null, jaxLoss: null,
    validation: 'not run', timing: 'wall-clock', stages: null, notes: [],
  };
}

interface EpochTiming {
  epochMs: number | null;
  /** Loss reported for the last epoch. */
  lastLoss: number | null;
}

/**
 * One train() of 1 + E epochs, the wall clock read at each onEpoch: per epoch = (last - first) / E. The
 * first epoch is the warm-up; setup before it and the final full evaluation after the last are outside.
 */
async function timeEpochs(engine: ModelEngine, options: ModelTrainOptions, epochs: number): Promise<EpochTiming> {
  const stamps: number[] = [];
  let lastLoss: number | null = null;
  // Full batch, the loop's history ends with the evaluation at the returned parameters (epoch 1 + E): not an epoch.
  await engine.train({
    ...options, maxEpochs: 1 + epochs,
    onEpoch: ({ epoch, loss }) => {
      if (epoch > epochs) return;
      stamps.push(performance.now());
      lastLoss = loss;
    },
  });
  return { epochMs: epochMsFromStamps(stamps), lastLoss };
}

export async function runMlpSuite(
  gpu: GpuContext | null, c: MlpSuiteConfig, injectFault: boolean, peers: MlpPeers | null, log: (line: string) => void = () => {},
): Promise<MlpRow> {
  const cpuN = Math.min(c.cpuN, c.n);
  const row = emptyMlpRow(c, cpuN);
  const t0 = performance.now();
  const phase = (what: string) => log(`  ${what} (${((performance.now() - t0) / 1e3).toFixed(1)} s)`);
  log(`mlp-epoch n=${c.n} batch=${c.batch} epochs=${c.epochs} (CPU: n=${cpuN})${injectFault ? ' (fault injected: labels shifted on the GPU)' : ''}`);
  const config = benchMlpModel();
  const data = makeMlpData(c.n);
  const theta0 = initialTheta(config);
  const optimizer = optimizerConfig({ kind: 'adam' });
  const trainOptions: ModelTrainOptions = { lr: MLP_LR, maxEpochs: 1, optimizer, init: theta0, seed: MLP_SEED, batchSize: c.batch };
  // (1) The float64 reference on the first batch.
  const first = dataRows(data, 0, Math.min(c.batch, c.n));
  const want = modelLossAndGradient(config, theta0, first);
  phase(`float64 reference on the first batch (loss ${want.loss.toFixed(5)})`);

  // (2) nabla on the GPU: validate on the first batch, then time whole epochs.
  if (gpu) {
    let validated = false;
    try {
      const check = await GpuModelEngine.create(gpu, config, injectFault ? shiftLabels(first) : first);
      try {
        const v = checkModelGradient(await check.lossAndGradient(theta0), want, MLP_GRAD_REL_TOL);
        row.validation = v.verdict;
        row.gradientRelError = v.rel;
        validated = v.ok;
        phase(`GPU validation ${v.verdict} (relative error ${v.rel.toExponential(2)}, tolerance ${MLP_GRAD_REL_TOL})`);
      } finally {
        check.dispose();
      }
    } catch (e) {
      row.validation = `failed: ${errorText(e)}`;
    }
    if (validated) {
      try {
        const engine = await GpuModelEngine.create(gpu, config, data, { maxBatchRows: c.batch });
        try {
          // One epoch per submit, so that each epoch's onEpoch comes when its own work is done.
          const t = await timeEpochs(engine, { ...trainOptions, reportEvery: 1 }, c.epochs);
          row.gpuEpochMs = t.epochMs;
          row.gpuLoss = t.lastLoss;
          phase(`GPU epochs timed: ${t.epochMs?.toFixed(1) ?? '—'} ms per epoch`);
          if (c.profile) {
            row.stages = await profileMlpStages(gpu, engine);
            phase(`GPU stages profiled (${row.stages?.method ?? 'unavailable'})`);
          }
        } finally {
          engine.dispose();
        }
      } catch (e) {
        row.notes.push(`GPU timing failed: ${errorText(e)}`);
        row.validation = `failed: timing: ${errorText(e)}`;
      }
    }
  } else {
    row.notes.push('no GPU');
  }

  // (3) The peers: same network, starting point, batches and Adam; each checked against float64 first.
  // With a fault injected the peers are still checked (their own code has no fault) but not timed.
  const task: MlpTask = { config, data, batch: c.batch, epochs: c.epochs, theta0, seed: MLP_SEED, lr: MLP_LR, optimizer, want };
  for (const [key, peer] of [['tfjs', peers?.tfjs], ['jax', peers?.jax]] as const) {
    if (!peer || injectFault) continue;
    const r = await peer.run(task);
    if (key === 'tfjs') Object.assign(row, { tfjsEpochMs: r.epochMs, tfjsRelError: r.rel, tfjsLoss: r.lastLoss, tfjsValidation: r.validation });
    else Object.assign(row, { jaxEpochMs: r.epochMs, jaxRelError: r.rel, jaxLoss: r.lastLoss, jaxValidation: r.validation });
    if (r.validation !== 'passed') row.notes.push(`${peer.label}: ${r.validation}`);
    row.notes.push(...r.notes);
    phase(`${peer.label}: ${r.epochMs === null ? r.validation : `${r.epochMs.toFixed(1)} ms per epoch`}`);
  }

  // (4) The float64 CPU engine, on the first cpuN rows (samples/s does not depend on n).
  if (!injectFault) {
    const cpu = new CpuModelEngine(config, dataRows(data, 0, cpuN));
    // cpuN rows in one batch are a full batch from theta0: no order for a seed to draw (train refuses one there).
    const { seed: _seed, ...fullBatch } = trainOptions;
    try {
      const t = await timeEpochs(cpu, cpuN > c.batch ? trainOptions : fullBatch, 1);
      row.cpuEpochMs = t.epochMs;
      row.cpuLoss = t.lastLoss;
      phase(`CPU epochs timed: ${t.epochMs?.toFixed(1) ?? '—'} ms per epoch of ${cpuN} samples`);
    } catch (e) {
      row.notes.push(`CPU timing failed: ${errorText(e)}`);
    } finally {
      cpu.dispose();
    }
  }
  return finishMlpRow(row);
}

/** samples/s from epoch times, and the ratios nabla GPU / other (higher = nabla's GPU path faster). */
export function finishMlpRow(row: MlpRow): MlpRow {
  const rate = (samples: number, ms: number | null) => (ms === null ? null : samples / (ms / 1e3));
  row.gpuSamplesPerSec = rate(row.n, row.gpuEpochMs);
  row.cpuSamplesPerSec = rate(row.cpuN, row.cpuEpochMs);
  row.tfjsSamplesPerSec = rate(row.n, row.tfjsEpochMs);
  row.jaxSamplesPerSec = rate(row.n, row.jaxEpochMs);
  const ratio = (a: number | null, b: number | null) => (a === null || b === null ? null : a / b);
  row.vsTfjs = ratio(row.gpuSamplesPerSec, row.tfjsSamplesPerSec);
  row.vsJax = ratio(row.gpuSamplesPerSec, row.jaxSamplesPerSec);
  row.vsCpu = ratio(row.gpuSamplesPerSec, row.cpuSamplesPerSec);
  return row;
}
