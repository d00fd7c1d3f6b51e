// The MLP benchmark's pure parts (flags, data, checks, layout copies, timing arithmetic, the table) and
// its CPU path end to end on a tiny size. The GPU and TF.js paths run in test/node/bench.test.ts.
import { describe, expect, it } from 'vitest';
import { FULL_MLP, mlpConfig, parseBenchArgs, QUICK_MLP, TINY_MLP } from '../../bench/args.ts';
import { formatMlpTable } from '../../bench/report.ts';
import {
  benchMlpModel, checkModelGradient, dataRows, epochMsFromStamps, initialTheta, makeMlpData, MLP_CLASSES, MLP_D, shiftLabels, thetaLayout, transposed,
} from '../../bench/suite/mlp-data.ts';
import { emptyMlpRow, finishMlpRow, runMlpSuite } from '../../bench/suite/mlp-step.ts';
import { stageNames, stageOrder } from '../../bench/suite/mlp-profile.ts';
import { layerShapes, parameterCount, validateModelData } from '../../src/models/network.ts';

describe('bench MLP flags', () => {
  it('defaults: full, --quick and --inject-fault sizes; the issue batch of 4096', () => {
    expect(parseBenchArgs([]).mlp).toEqual({ ...FULL_MLP, profile: false });
    expect(parseBenchArgs(['--quick']).mlp).toEqual({ ...QUICK_MLP, profile: false });
    expect(parseBenchArgs(['--inject-fault']).mlp).toEqual({ ...TINY_MLP, profile: false });
    expect(FULL_MLP.batch).toBe(4096);
    expect(parseBenchArgs([]).linear).toBe(true);
  });

  it('--mlp-* sizes, --mlp-profile, --no-mlp and --no-linear', () => {
    const a = parseBenchArgs(['--mlp-n', '2^14', '--mlp-batch=1024', '--mlp-epochs', '3', '--mlp-cpu-n', '512', '--mlp-profile', '--no-linear']);
    expect(a.mlp).toEqual({ n: 16384, batch: 1024, epochs: 3, cpuN: 512, profile: true });
    expect(a.linear).toBe(false);
    expect(parseBenchArgs(['--no-mlp']).mlp).toBeNull();
    // A smaller n shrinks the default batch and CPU size with it; explicit values are never changed.
    expect(parseBenchArgs(['--mlp-n', '1000']).mlp).toMatchObject({ n: 1000, batch: 1000, cpuN: 1000 });
    expect(() => parseBenchArgs(['--mlp-n', '1000', '--mlp-batch', '4096'])).toThrow(/--mlp-batch: 4096 is more than/);
    expect(() => parseBenchArgs(['--mlp-n', '1000', '--mlp-cpu-n', '2000'])).toThrow(/--mlp-cpu-n/);
    expect(() => parseBenchArgs(['--no-mlp', '--mlp-n', '1000'])).toThrow(/--no-mlp/);
    expect(() => parseBenchArgs(['--no-mlp', '--no-linear', '--no-formula'])).toThrow(/nothing left/);
    expect(() => parseBenchArgs(['--mlp-epochs', '0'])).toThrow(/positive integer/);
    expect(mlpConfig(FULL_MLP, { n: 4096 })).toEqual({ n: 4096, batch: 4096, epochs: FULL_MLP.epochs, cpuN: 4096, profile: false });
  });
});

describe('bench MLP data and checks', () => {
  it('blobs: seeded, class indices in the ce layout, every class in a batch', () => {
    const c = benchMlpModel();
    expect([c.inputs, c.hidden, c.outputs, c.activation, c.head]).toEqual([MLP_D, [256, 256], MLP_CLASSES, 'relu', 'ce']);
    expect(parameterCount(c)).toBe(64 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10);
    const a = makeMlpData(4096);
    expect(() => validateModelData(c, a)).not.toThrow();
    expect(makeMlpData(4096).x).toEqual(a.x);
    expect(new Set(dataRows(a, 0, 512).y).size).toBe(MLP_CLASSES);
    const shifted = shiftLabels(a);
    expect(Array.from(shifted.y.subarray(0, 5))).toEqual(Array.from(a.y.subarray(0, 5), (v) => (v + 1) % MLP_CLASSES));
    const theta = initialTheta(c);
    expect(theta.every((v) => Math.fround(v) === v)).toBe(true);
  });

  it('views rows without copying', () => {
    const a = makeMlpData(10, 3, 2);
    const v = dataRows(a, 4, 3);
    expect([v.n, v.d, v.x.length, v.y.length]).toEqual([3, 3, 9, 3]);
    expect(v.x[0]).toBe(a.x[12]);
    expect(v.x.buffer).toBe(a.x.buffer);
  });

  it('checkModelGradient passes within the tolerance and names the worst partials when not', () => {
    const want = { loss: 2, grad: Float64Array.from([1, -2, 3]) };
    expect(checkModelGradient({ loss: 2 * (1 + 1e-6), grad: [1, -2, 3 + 1e-6] }, want, 1e-5)).toMatchObject({ ok: true, verdict: 'passed' });
    const bad = checkModelGradient({ loss: 2, grad: [1, -2.5, 3] }, want, 1e-5);
    expect(bad.ok).toBe(false);
    expect(bad.verdict).toMatch(/^failed: relative error .*\(grad\[1\] got -2\.50000 want -2\.00000/);
    expect(checkModelGradient({ loss: NaN, grad: [1, -2, 3] }, want, 1e-5).ok).toBe(false);
  });

  it('copies weights to TF.js layout and back (W_l transposed, b_l as is)', () => {
    expect(Array.from(transposed([1, 2, 3, 4, 5, 6], 0, 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
    const c = benchMlpModel();
    const theta = initialTheta(c).map((v, k) => v + k * 1e-3).map(Math.fround);
    const parts = layerShapes(c).flatMap((s) => [
      transposed(theta, s.wOffset, s.fanOut, s.fanIn),
      theta.subarray(s.wOffset + s.fanOut * s.fanIn, s.wOffset + s.fanOut * s.fanIn + s.fanOut),
    ]);
    expect(thetaLayout(c, parts)).toEqual(theta);
  });
});

describe('bench MLP timing and table', () => {
  it('epoch time from onEpoch stamps; samples/s and ratios from epoch times', () => {
    expect(epochMsFromStamps([100, 350, 600])).toBe(250);
    expect(epochMsFromStamps([100])).toBeNull();
    expect(epochMsFromStamps([100, 100])).toBeNull();
    const sizes = { n: 16384, batch: 4096, epochs: 2, cpuN: 4096, profile: false };
    const row = finishMlpRow({ ...emptyMlpRow(sizes, 4096), gpuEpochMs: 500, tfjsEpochMs: 1000, jaxEpochMs: 250, cpuEpochMs: 2048 });
    expect(row.jaxSamplesPerSec).toBeCloseTo(16384 / 0.25, 9);
    expect(row.vsJax).toBeCloseTo(0.5, 9);
    expect(row.gpuSamplesPerSec).toBeCloseTo(16384 / 0.5, 9);
    expect(row.tfjsSamplesPerSec).toBeCloseTo(16384, 9);
    expect(row.cpuSamplesPerSec).toBeCloseTo(2000, 9);
    expect(row.vsTfjs).toBeCloseTo(2, 9);
    expect(row.vsCpu).toBeCloseTo(16.384, 9);
    const none = finishMlpRow(emptyMlpRow(sizes, 4096));
    expect([none.gpuSamplesPerSec, none.vsTfjs, none.vsCpu]).toEqual([null, null, null]);
  });

  it('formats one row per run, dashes for what did not run, and the stage profile', () => {
    const row = finishMlpRow({
      ...emptyMlpRow({ n: 16384, batch: 4096, epochs: 2, cpuN: 4096, profile: true }, 4096), gpuEpochMs: 500, tfjsEpochMs: 1000, validation: 'passed',
      stages: { method: 'timestamp-query', totalMs: 4, notes: [], stages: [{ name: 'forward 1', ms: 1, workgroups: 8 }, { name: 'reduce', ms: 3, workgroups: 9 }] },
    });
    const text = formatMlpTable([row]);
    expect(text).toMatch(/^\| suite \| n \| batch \| epochs \| nabla GPU samples\/s \(ms\/epoch\) \| jax-js samples\/s/);
    expect(text).toContain('| mlp-epoch | 16384 | 4096 | 2 | 3.28e+4 (500 ms) | — | 1.64e+4 (1000 ms) | — | — | 2.00× | — | passed |');
    expect(text).toContain('| reduce | 3.000 | 75% | 9 |');
    expect(text).toMatch(/MLP 64-256-256-10 \(relu, cross-entropy\), adam lr 0\.001/);
  });

  it('stage names: from pipeline labels, else from the dispatch order, else by position', () => {
    expect(stageOrder(3)).toEqual(['forward 1', 'forward 2', 'forward 3', 'head', 'gradPartials 3', 'backprop 3', 'gradPartials 2',
      'backprop 2', 'gradPartials 1', 'reduce']);
    const labels = stageOrder(2).map((s) => `nabla.mlp.${s.split(' ')[0]}`);
    expect(stageNames(labels)).toEqual(stageOrder(2));
    expect(stageNames(stageOrder(3).map((s) => `nabla.mlp.${s.split(' ')[0]}.pipeline`))).toEqual(stageOrder(3));
    expect(stageNames(Array(10).fill('pipeline'))).toEqual(stageOrder(3));
    expect(stageNames(['pipeline', 'nabla.mlp.gemm'])).toEqual(['stage 1 (pipeline)', 'stage 2 (nabla.mlp.gemm)']);
  });

  it('runs the CPU path of the suite (no GPU, no TF.js) on a tiny size', async () => {
    const row = await runMlpSuite(null, { n: 64, batch: 32, epochs: 1, cpuN: 64, profile: false }, false, null);
    expect(row.notes).toContain('no GPU');
    expect(row.validation).toBe('not run');
    expect(row.cpuEpochMs).toBeGreaterThan(0);
    expect(row.cpuSamplesPerSec).toBeCloseTo(64 / (row.cpuEpochMs! / 1e3), 6);
    expect(Number.isFinite(row.cpuLoss)).toBe(true);
    expect(row.gpuSamplesPerSec).toBeNull();
  }, 60_000);
});
