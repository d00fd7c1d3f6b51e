// Per-adapter choice of each layer product's kernel (gemm-blocked.ts): a short autotune at first use
// (src/gpu/tuning/autotune.ts) over the same candidate list on every adapter, each candidate run on random
// operands with the product's strides and checked against a float64 product before it is timed, the
// winner cached per adapter identity, limits and product shape (defaultTuningCache, or the caller's).
// The problem is the product at up to TUNE_ROWS samples: its time scales with the rows, its ranking does
// not change much past a few thousand items, and a CPU-backed adapter tunes in seconds instead of minutes.
import { autotune, tuneCached, type AutotuneResult, type AutotuneSpec, type TuningTrial } from '../tuning/autotune.ts';
import { defaultTuningCache, tuningKey, type TuningCache } from '../tuning/cache.ts';
import { createBufferChecked, createComputePipeline } from '../resources.ts';
import { gemmGrid, packGemmUniforms, type GemmUniformValues } from './mlp-plan.ts';
import { blockedGemmGrid, blockedGemmWgsl, gemmConfigName, operandLengths, isGemmConfig, TILED_GEMM, type BlockedGemmConfig, type GemmConfig } from './gemm-blocked.ts';
import { assembleMlpWgsl, GEMM_PIECES, GEMM_BACKPROP, GEMM_FORWARD, GEMM_WEIGHTS, uniformProducts, type LayerProducts, type ProductChoice, type ProductKernels } from './mlp-passes.ts';
import type { MlpPlan } from './mlp-plan.ts';
import { shaderSources as src } from '../shaders.ts';

/** Samples of a tuning problem (the rows of a forward/backprop product, the K of a weight gradient). */
export const TUNE_ROWS = 1024;
/** Products with fewer multiply-adds than this run the untuned kernel: tuning would cost more than it saves. */
export const TUNE_MIN_MACS = 2 ** 22;

export interface GemmProblem {
  /** GEMM_FORWARD, GEMM_BACKPROP or GEMM_WEIGHTS. */
  mode: number;
  /** ACTIVATION_CODES value for the epilogue (forward: act; backprop: act'). */
  act: number;
  m: number;
  n: number;
  k: number;
  /** K per split (the weight gradient's chunk); k otherwise. */
  kSplit: number;
}

/** The strides each mode reads its operands with (as mlp-passes.ts packs them for a layer). */
export function problemUniforms(p: GemmProblem): Omit<GemmUniformValues, 'groupsY'> {
  const base = { m: p.m, n: p.n, k: p.k, kSplit: p.kSplit, aBase: 0, bBase: 0, cBase: 0, auxBase: 0 };
  // Forward: W (n x k) then the biases in one buffer, as theta holds them.
  if (p.mode === GEMM_FORWARD) return { ...base, aSm: p.k, aSk: 1, bSk: 1, bSn: p.k, cSm: p.n, cSplit: 0, auxBase: p.k * p.n, auxSm: 0 };
  if (p.mode === GEMM_BACKPROP) return { ...base, aSm: p.k, aSk: 1, bSk: p.n, bSn: 1, cSm: p.n, cSplit: 0, auxSm: p.n };
  return { ...base, aSm: 1, aSk: p.m, bSk: p.n, bSn: 1, cSm: p.n, cSplit: p.m * p.n, auxSm: 0 };
}

const splitsOf = (p: GemmProblem) => Math.ceil(p.k / p.kSplit);

/** Deterministic operands in [-1, 1): a 32-bit LCG, so a rejected candidate reproduces. */
function operand(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function activate(act: number, z: number): number {
  if (act === 1) return Math.max(z, 0);
  if (act === 2) return Math.tanh(z);
  if (act === 3) return 1 / (1 + Math.exp(-z));
  return z;
}

function slope(act: number, a: number): number {
  if (act === 1) return a > 0 ? 1 : 0;
  if (act === 2) return 1 - a * a;
  if (act === 3) return a * (1 - a);
  return 1;
}

export interface GemmReference {
  a: Float32Array;
  b: Float32Array;
  aux: Float32Array;
  /** float64 C and, per value, the bound its float32 evaluation must meet. */
  want: Float64Array;
  bound: Float64Array;
}

/**
 * Operands and the float64 product, with a per-value bound: a float32 sum of K products in any fixed
 * order is within K u sum|a b| of the exact one (u = 2^-24; Higham, recursive summation), doubled for the
 * products' own rounding and the epilogue's, plus 1e-6 for exp() in tanh/sigmoid. A wrong kernel (a
 * missing or repeated term, a wrong stride or row) is off by a whole product, far beyond it.
 */
export function gemmReference(p: GemmProblem, seed = 1): GemmReference {
  const u = problemUniforms(p);
  const a = operand(p.m * p.k, seed);
  const b = operand(p.k * p.n + (p.mode === GEMM_FORWARD ? p.n : 0), seed + 1); // forward: the biases after W
  const aux = p.mode === GEMM_BACKPROP ? operand(p.m * p.n, seed + 2).map((v) => activate(p.act, v)) : new Float32Array(4);
  const splits = splitsOf(p);
  const cells = (p.mode === 2 ? splits : 1) * p.m * p.n;
  const want = new Float64Array(cells);
  const bound = new Float64Array(cells);
  const twoU = 2 * 2 ** -24;
  for (let s = 0; s < splits; s++) {
    if (p.mode !== 2 && s > 0) break;
    const k0 = p.mode === 2 ? s * p.kSplit : 0;
    const k1 = p.mode === 2 ? Math.min(p.k, k0 + p.kSplit) : p.k;
    for (let i = 0; i < p.m; i++) {
      for (let j = 0; j < p.n; j++) {
        let sum = 0;
        let abs = 0;
        for (let k = k0; k < k1; k++) {
          const t = a[i * u.aSm + k * u.aSk] * b[k * u.bSk + j * u.bSn];
          sum += t;
          abs += Math.abs(t);
        }
        const at = s * u.cSplit + i * u.cSm + j;
        let value = sum;
        let scale = 1;
        if (p.mode === GEMM_FORWARD) {
          const bias = b[u.auxBase + j];
          value = activate(p.act, sum + bias);
          abs += Math.abs(bias);
        } else if (p.mode === GEMM_BACKPROP) {
          scale = Math.abs(slope(p.act, aux[i * u.auxSm + j]));
          value = sum * slope(p.act, aux[i * u.auxSm + j]);
        }
        want[at] = value;
        bound[at] = twoU * (k1 - k0) * abs * Math.max(scale, 1) + 1e-6 * (1 + Math.abs(value));
      }
    }
  }
  return { a, b, aux, want, bound };
}

/** null when got matches the reference within its bounds, else the first mismatches. */
export function checkGemm(got: Float32Array, ref: GemmReference): string | null {
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < ref.want.length; i++) {
    const err = Math.abs(got[i] - ref.want[i]);
    if (!(err <= ref.bound[i])) {
      count++;
      if (bad.length < 3) bad.push(`C[${i}] = ${got[i]}, want ${ref.want[i].toPrecision(8)} (bound ${ref.bound[i].toExponential(1)})`);
    }
  }
  return count === 0 ? null : `${count} of ${ref.want.length} values wrong: ${bad.join('; ')}`;
}

/**
 * The candidates, in the order tried; the same list everywhere, less what the device cannot compile. The
 * barrier-free blocks come first and the tiled kernel last because the budget cuts the end of the list on
 * a slow adapter and the tiled kernel is the slowest to compile there (barriers); a fast adapter tries
 * them all. Each block's grid grows along its ladder until the time stops falling.
 */
export function gemmCandidates(hasSubgroups: boolean): GemmConfig[] {
  const grids = [4, 8, 16, 64, 256, 1024, 4096];
  const ladder = (rm: number, rn: number, quad: boolean): BlockedGemmConfig[] => grids.map((groups) => ({ kernel: 'blocked', rm, rn, quad, wg: 64, groups }));
  return [
    ...(hasSubgroups ? [...ladder(16, 4, true), ...ladder(8, 4, true), ...ladder(32, 4, true)] : []),
    ...ladder(8, 8, false),
    ...ladder(4, 4, false),
    TILED_GEMM,
  ];
}

export const gemmLadder = (c: GemmConfig) => gemmConfigName({ ...c, ...(c.kernel === 'blocked' ? { groups: 0 } : {}) } as GemmConfig);

/**
 * One candidate on one problem: operand buffers, the pipeline and its grid. `mutate` rewrites the kernel's
 * WGSL (a test passes a deliberately wrong one to see the check refuse it).
 */
export async function gemmTrial(
  gpu: { device: GPUDevice; shape: { maxWorkgroupsPerDimension: number } }, p: GemmProblem, c: GemmConfig, ref: GemmReference,
  mutate: (wgsl: string) => string = (wgsl) => wgsl,
): Promise<TuningTrial> {
  const device = gpu.device;
  const maxPerDim = gpu.shape.maxWorkgroupsPerDimension;
  const splits = splitsOf(p);
  const groups = c.kernel === 'blocked' ? blockedGemmGrid(c, p.m, p.n, p.mode === 2 ? splits : 1, maxPerDim) : gemmGrid(p.m, p.n, p.mode === 2 ? splits : 1, maxPerDim);
  const S = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const made: GPUBuffer[] = [];
  const buffer = async (label: string, size: number, usage: number) => {
    const b = await createBufferChecked(device, { label: `nabla.mlp.tune.${label}`, size: Math.max(16, Math.ceil(size / 16) * 16), usage });
    made.push(b);
    return b;
  };
  try {
    const cBytes = ref.want.length * 4;
    const uniforms = await buffer('uniforms', 64, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const a = await buffer('a', ref.a.byteLength, S);
    const b = await buffer('b', ref.b.byteLength, S);
    const aux = await buffer('aux', ref.aux.byteLength, S);
    const out = await buffer('c', cBytes, S | GPUBufferUsage.COPY_SRC);
    const readback = await buffer('readback', cBytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    // Forward reads its biases from theta (b): the same buffer as aux, as in the engine.
    const bound = [a, b, out, p.mode === GEMM_FORWARD ? b : aux] as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
    const source = c.kernel === 'blocked' ? blockedGemmWgsl(src.mlpGemmBlocked, c, operandLengths(bound)) : src.mlpGemm;
    const constants: Record<string, number> = c.kernel === 'blocked' ? { MODE: p.mode, ACT: p.act, WG: c.wg } : { MODE: p.mode, ACT: p.act };
    const pipeline = await createComputePipeline(device, `nabla.mlp.tune.${gemmConfigName(c)}`, assembleMlpWgsl(mutate(source), GEMM_PIECES), constants);
    device.queue.writeBuffer(uniforms, 0, packGemmUniforms({ ...problemUniforms(p), groupsY: groups.y }));
    for (const [dst, data] of [[a, ref.a], [b, ref.b], [aux, ref.aux]] as const) device.queue.writeBuffer(dst, 0, data.buffer, data.byteOffset, data.byteLength);
    const bindGroup = device.createBindGroup({
      label: 'nabla.mlp.tune.bindGroup',
      layout: pipeline.getBindGroupLayout(0),
      entries: [uniforms, ...bound].map((resource, binding) => ({ binding, resource: { buffer: resource } })),
    });
    const record = (pass: GPUComputePassEncoder) => {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(groups.x, groups.y, groups.z);
    };
    return {
      record,
      async validate() {
        device.queue.writeBuffer(out, 0, new Float32Array(ref.want.length).fill(NaN));
        const encoder = device.createCommandEncoder({ label: 'nabla.mlp.tune.encoder' });
        const pass = encoder.beginComputePass({ label: 'nabla.mlp.tune.pass' });
        record(pass);
        pass.end();
        encoder.copyBufferToBuffer(out, 0, readback, 0, cBytes);
        device.pushErrorScope('validation');
        device.queue.submit([encoder.finish()]);
        const error = await device.popErrorScope();
        if (error) return `validation error: ${error.message}`;
        await readback.mapAsync(GPUMapMode.READ);
        const got = new Float32Array(readback.getMappedRange(0, cBytes).slice(0));
        readback.unmap();
        return checkGemm(got, ref);
      },
      dispose() {
        for (const m of made) m.destroy();
      },
    };
  } catch (e) {
    for (const m of made) m.destroy();
    throw e;
  }
}

export interface GemmTuneOptions {
  cache?: TuningCache;
  candidates?: readonly GemmConfig[];
  /** Stop starting candidates after this many ms of one product's tuning (default 3000). */
  budgetMs?: number;
}

type TuneGpu = { adapter: GPUAdapter; device: GPUDevice; hasTimestamps: boolean; shape: { maxWorkgroupsPerDimension: number } };

export function gemmTuneSpec(gpu: TuneGpu, p: GemmProblem, o: GemmTuneOptions = {}): AutotuneSpec<GemmConfig> {
  const ref = gemmReference(p);
  return {
    family: 'mlp.gemm',
    candidates: o.candidates ?? gemmCandidates(gpu.device.features.has('subgroups')),
    ladderOf: gemmLadder,
    budgetMs: o.budgetMs ?? 3000,
    prepare: (c) => gemmTrial(gpu, p, c, ref),
  };
}

/** The fastest validated configuration for a product (cached), and the autotune report when it ran. */
export async function tuneGemm(gpu: TuneGpu, p: GemmProblem, o: GemmTuneOptions = {}): Promise<{ config: GemmConfig; result: AutotuneResult<GemmConfig> | null }> {
  const hasSubgroups = gpu.device.features.has('subgroups');
  const key = tuningKey(gpu, 'mlp.gemm', { mode: p.mode, act: p.act, m: p.m, n: p.n, k: p.k, kSplit: p.kSplit, subgroups: hasSubgroups });
  const { config, result } = await tuneCached(gpu, o.cache ?? defaultTuningCache, key, isGemmConfig, gemmTuneSpec(gpu, p, o));
  return { config, result };
}

/** autotune() without the cache (tests, the bench's report of every candidate). */
export function autotuneGemm(gpu: TuneGpu, p: GemmProblem, o: GemmTuneOptions = {}): Promise<AutotuneResult<GemmConfig>> {
  return autotune(gpu, gemmTuneSpec(gpu, p, o));
}

/** A layer's three products as problems at `rows` samples (backprop of layer 0 is never run). */
export function layerProblems(plan: MlpPlan, l: number, act: number, rows: number): { forward: GemmProblem; backprop: GemmProblem; weights: GemmProblem } {
  const s = plan.layers[l];
  const last = l === plan.layers.length - 1;
  return {
    forward: { mode: GEMM_FORWARD, act: last ? 0 : act, m: rows, n: s.fanOut, k: s.fanIn, kSplit: s.fanIn },
    backprop: { mode: GEMM_BACKPROP, act, m: rows, n: s.fanIn, k: s.fanOut, kSplit: s.fanOut },
    weights: { mode: GEMM_WEIGHTS, act: 0, m: s.fanOut, n: s.fanIn, k: rows, kSplit: Math.min(plan.chunk, rows) },
  };
}

/**
 * The kernels of every layer's products. 'auto': each product with at least TUNE_MIN_MACS multiply-adds
 * at plan.rows samples gets its tuned configuration (tuneGemm on the problem at min(rows, TUNE_ROWS)),
 * the others the pre-tuning rule; anything else is taken as given.
 */
export async function chooseProducts(gpu: TuneGpu, plan: MlpPlan, act: number, kind: ProductKernels, o: GemmTuneOptions = {}): Promise<LayerProducts[]> {
  if (Array.isArray(kind)) return kind;
  if (kind !== 'auto') return uniformProducts(plan.layers, kind);
  const heuristic = uniformProducts(plan.layers, 'heuristic');
  const out: LayerProducts[] = [];
  for (let l = 0; l < plan.layers.length; l++) {
    const s = plan.layers[l];
    if (plan.rows * s.fanIn * s.fanOut < TUNE_MIN_MACS) {
      out.push(heuristic[l]);
      continue;
    }
    const problems = layerProblems(plan, l, act, Math.min(plan.rows, TUNE_ROWS));
    const pick = async (p: GemmProblem): Promise<ProductChoice> => (await tuneGemm(gpu, p, o)).config;
    out.push({
      forward: await pick(problems.forward),
      backprop: l === 0 ? heuristic[l].backprop : await pick(problems.backprop),
      weights: await pick(problems.weights),
    });
  }
  return out;
}
