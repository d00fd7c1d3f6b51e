// The layer products' kernel configurations (src/gpu/models/gemm-blocked.ts) and their per-adapter tuning
// (gemm-tuning.ts): every candidate's product matches float64 within the bound gemmReference states (a
// float32 sum of K products: 2 K u sum|a b|, u = 2^-24), on ragged shapes where blocks, quads and splits
// overhang the edges; a kernel that drops one term per sum is refused by the tuner; a tuned engine's
// gradient matches float64 like the pinned ones.
import { describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { autotune } from '../../src/gpu/tuning/autotune.ts';
import { TuningCache } from '../../src/gpu/tuning/cache.ts';
import { gemmConfigName, type BlockedGemmConfig, type GemmConfig } from '../../src/gpu/models/gemm-blocked.ts';
import { chooseProducts, gemmCandidates, gemmReference, gemmTrial, tuneGemm, type GemmProblem } from '../../src/gpu/models/gemm-tuning.ts';
import { GEMM_BACKPROP, GEMM_FORWARD, GEMM_WEIGHTS } from '../../src/gpu/models/mlp-passes.ts';
import { planMlp } from '../../src/gpu/models/mlp-plan.ts';
import { GpuModelEngine } from '../../src/gpu/models/gpu-model-engine.ts';
import { modelLossAndGradient } from '../../src/cpu/mlp_gradient.ts';
import { initParameters } from '../../src/models/network.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import { makeCheckData } from '../model-data.ts';
import { relativeError } from '../data-gen.ts';

// Ragged on purpose: 70 rows / 37 columns leave partial blocks of every candidate; K = 300 with 256-sample
// splits gives the weight gradient a short last split. act 1 = relu, 2 = tanh, 3 = sigmoid.
const PROBLEMS: GemmProblem[] = [
  { mode: GEMM_FORWARD, act: 1, m: 70, n: 37, k: 33, kSplit: 33 },
  { mode: GEMM_FORWARD, act: 2, m: 9, n: 10, k: 64, kSplit: 64 },
  { mode: GEMM_BACKPROP, act: 3, m: 70, n: 33, k: 37, kSplit: 37 },
  { mode: GEMM_WEIGHTS, act: 0, m: 37, n: 33, k: 300, kSplit: 256 },
];

/** One candidate per kernel shape (the grid ladder reuses the same code), at a small and a large grid. */
function shapes(hasSubgroups: boolean): GemmConfig[] {
  const seen = new Set<string>();
  const out: GemmConfig[] = [];
  for (const c of gemmCandidates(hasSubgroups)) {
    const name = c.kernel === 'tiled' ? 'tiled' : `${c.rm}x${c.rn}${c.quad}`;
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(c, ...(c.kernel === 'blocked' ? [{ ...c, groups: 1 }, { ...c, groups: 4096 }] : []));
  }
  return out;
}

describe('matrix-product kernel configurations', () => {
  it('every candidate matches float64 on each mode, ragged edges and splits included', async () => {
    const gpu = await testGpu();
    const candidates = shapes(gpu.device.features.has('subgroups'));
    expect(candidates.length).toBeGreaterThanOrEqual(7);
    for (const p of PROBLEMS) {
      const ref = gemmReference(p, 7);
      for (const c of candidates) {
        const trial = await gemmTrial(gpu, p, c, ref);
        try {
          expect(await trial.validate(), `${gemmConfigName(c)} on ${JSON.stringify(p)}`).toBeNull();
        } finally {
          trial.dispose?.();
        }
      }
    }
  });

  it('the tuner refuses a kernel that drops the last term of every sum, and keeps a valid one', async () => {
    const gpu = await testGpu();
    const p = PROBLEMS[0];
    const ref = gemmReference(p);
    const good: BlockedGemmConfig = { kernel: 'blocked', rm: 4, rn: 4, quad: false, wg: 64, groups: 4 };
    const wrong: BlockedGemmConfig = { ...good, groups: 8 };
    const dropLastTerm = (wgsl: string) => {
      expect(wgsl).toContain('k < k_hi;');
      return wgsl.replace('k < k_hi;', 'k + 1u < k_hi;');
    };
    const result = await autotune(gpu, {
      family: 'mlp.gemm.test',
      candidates: [wrong, good],
      prepare: (c) => gemmTrial(gpu, p, c, ref, c === wrong ? dropLastTerm : undefined),
    });
    expect(result.best).toEqual(good);
    expect(result.trials[0].rejected).toMatch(/invalid result: \d+ of 2590 values wrong/);
    expect(result.trials[1].ms).toBeGreaterThan(0);
  });

  it('tunes once per adapter and shape, then reads the cache', async () => {
    const gpu = await testGpu();
    const cache = new TuningCache();
    const p: GemmProblem = { mode: GEMM_FORWARD, act: 1, m: 64, n: 16, k: 16, kSplit: 16 };
    const candidates = gemmCandidates(gpu.device.features.has('subgroups')).filter((c) => c.kernel === 'tiled' || c.groups <= 8);
    const first = await tuneGemm(gpu, p, { cache, candidates });
    expect(first.result?.trials.some((t) => t.ms !== undefined)).toBe(true);
    expect(cache.size).toBe(1);
    const second = await tuneGemm(gpu, p, { cache, candidates });
    expect(second.result).toBeNull();
    expect(second.config).toEqual(first.config);
    await tuneGemm(gpu, { ...p, n: 17 }, { cache, candidates });
    expect(cache.size).toBe(2);
  });

  it('an engine with tuned products matches float64', async () => {
    const gpu = await testGpu();
    const c = mlpModel(24, [48, 40], 'tanh', 'ce', 5);
    const n = 3000; // 3000 x 48 x 40 multiply-adds: the middle layer is tuned, not the rule's pick
    const cache = new TuningCache();
    const plan = planMlp(c, n, gpu.shape, gpu.maxBindingBytes);
    const products = await chooseProducts(gpu, plan, 2, 'auto', { cache, budgetMs: 500 });
    expect(cache.size).toBeGreaterThan(0);
    const data = makeCheckData(n, c.inputs, c.head, c.outputs, 11);
    const theta = initParameters(c, 11);
    const engine = await GpuModelEngine.create(gpu, c, data, { products });
    try {
      engine.fillOutputs(NaN);
      const got = await engine.lossAndGradient(theta);
      const want = modelLossAndGradient(c, theta, data);
      const e = relativeError(got.grad, want.grad);
      console.info(`tuned products ${products.map((l) => [l.forward, l.backprop, l.weights].map((k) => (k.kernel === 'simple' ? 'simple' : gemmConfigName(k))).join('/')).join(', ')}: gradient rel ${e.rel.toExponential(2)}`);
      expect(e.rel, e.worst).toBeLessThanOrEqual(1e-5); // models-gradient.test.ts's GRAD_REL_TOL and its reasoning
      expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThanOrEqual(1e-5);
    } finally {
      engine.dispose();
    }
  });
});
