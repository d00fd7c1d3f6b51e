// Kernel configurations of the layers' matrix products, as data, and the pure pieces of the register-blocked
// kernel (shaders/mlp_gemm_blocked.wgsl): its unrolled WGSL lines and its grid. Which configuration runs is
// tuned per adapter (gemm-tuning.ts) or pinned by the caller; nothing here looks at the adapter's name.
import { specializeWgsl } from '../wgsl.ts';
import { fold2d } from '../dispatch.ts';

/** mlp_gemm.wgsl: 64 x 64 tiles through workgroup memory, 128 threads of 8 x 4 (a hardware GPU's shape). */
export interface TiledGemmConfig {
  kernel: 'tiled';
}

/** mlp_gemm_blocked.wgsl: an rm x rn block of C per thread, no workgroup memory, `groups` workgroups of wg. */
export interface BlockedGemmConfig {
  kernel: 'blocked';
  /** Rows of C per thread (a multiple of 4 with quad). */
  rm: number;
  /** Columns of C per thread, a multiple of 4 (vec4 accumulators). */
  rn: number;
  /** The four lanes of a quad share their rows' loads through quadBroadcast (needs 'subgroups'). */
  quad: boolean;
  wg: number;
  /** Workgroups of the persistent grid; more than the blocks need are not dispatched. */
  groups: number;
}

export type GemmConfig = TiledGemmConfig | BlockedGemmConfig;

export const TILED_GEMM: TiledGemmConfig = { kernel: 'tiled' };

/** Bounds on a blocked configuration: the unrolled block must stay small enough to compile quickly (32 x 4: ~0.6 s on SwiftShader). */
const MAX_BLOCK = 128;

export function gemmConfigName(c: GemmConfig): string {
  return c.kernel === 'tiled' ? 'tiled64' : `blocked${c.rm}x${c.rn}${c.quad ? 'q' : ''}.wg${c.wg}.g${c.groups}`;
}

/** Throws on a configuration the kernel cannot run (a table read from disk is checked the same way). */
export function validateGemmConfig(c: GemmConfig): void {
  if (c.kernel === 'tiled') return;
  const ok = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;
  if (!ok(c.rm, 1, 32) || (c.quad && c.rm % 4 !== 0)) throw new RangeError(`gemm config: rm ${c.rm} (1..32, a multiple of 4 with quad)`);
  if (!ok(c.rn, 4, 32) || c.rn % 4 !== 0) throw new RangeError(`gemm config: rn ${c.rn} (4..32, a multiple of 4)`);
  if (c.rm * c.rn > MAX_BLOCK) throw new RangeError(`gemm config: a ${c.rm} x ${c.rn} block exceeds ${MAX_BLOCK} accumulators`);
  if (!ok(c.wg, 4, 1024) || c.wg % 4 !== 0) throw new RangeError(`gemm config: workgroup size ${c.wg} (a multiple of 4)`);
  if (!ok(c.groups, 1, 2 ** 31)) throw new RangeError(`gemm config: groups ${c.groups}`);
}

export function isGemmConfig(v: unknown): v is GemmConfig {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Omit<Partial<BlockedGemmConfig>, 'kernel'> & { kernel?: unknown };
  if (c.kernel === 'tiled') return Object.keys(c).length === 1;
  if (c.kernel !== 'blocked' || typeof c.quad !== 'boolean') return false;
  try {
    validateGemmConfig(c as BlockedGemmConfig);
    return true;
  } catch {
    return false;
  }
}

/** Floats in the buffers bound to a, b, c and aux (the kernel declares fixed-length arrays of them). */
export interface GemmOperandLengths {
  a: number;
  b: number;
  c: number;
  aux: number;
}

/** The lengths of four bound buffers, in floats. */
export function operandLengths(buffers: readonly [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer]): GemmOperandLengths {
  const [a, b, c, aux] = buffers.map((buffer) => Math.floor(buffer.size / 4));
  return { a, b, c, aux };
}

/** mlp_gemm_blocked.wgsl specialized for c and its operands: the block's declarations, products and stores unrolled. */
export function blockedGemmWgsl(source: string, c: BlockedGemmConfig, lengths: GemmOperandLengths): string {
  validateGemmConfig(c);
  for (const [name, n] of Object.entries(lengths)) {
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`gemm operand ${name}: length ${n}`);
  }
  const rows = Array.from({ length: c.rm }, (_, r) => r);
  const vecs = Array.from({ length: c.rn / 4 }, (_, v) => v);
  const cols = Array.from({ length: c.rn }, (_, q) => q);
  const ind = (n: number) => ' '.repeat(n);
  const setup: string[] = [];
  // With quad, lane l holds rows 4i + l (i < rm / 4); otherwise each thread holds its rm rows.
  const loadRows = c.quad ? c.rm / 4 : c.rm;
  for (let i = 0; i < loadRows; i++) {
    const row = c.quad ? `m0 + ${4 * i}u + lane` : `m0 + ${i}u`;
    setup.push(`${ind(4)}let ar${i} = g.a_base + min(${row}, g.m - 1u) * g.a_sm;`);
  }
  for (const q of cols) setup.push(`${ind(4)}let bc${q} = g.b_base + min(n0 + ${q}u, g.n - 1u) * g.b_sn;`);
  for (const r of rows) for (const v of vecs) setup.push(`${ind(4)}var acc${r}_${v} = vec4<f32>();`);
  const products: string[] = [];
  for (const v of vecs) {
    const loads = [0, 1, 2, 3].map((q) => `b[bc${4 * v + q} + kb]`).join(', ');
    products.push(`${ind(6)}let bv${v} = vec4<f32>(${loads});`);
  }
  for (let i = 0; i < loadRows; i++) products.push(`${ind(6)}let al${i} = a[ar${i} + ka];`);
  for (const r of rows) {
    const value = c.quad ? `quadBroadcast(al${r >> 2}, ${r & 3}u)` : `al${r}`;
    products.push(`${ind(6)}let av${r} = vec4<f32>(${value});`);
    // Multiply then add, not fma(): a CPU-backed adapter without fast FMA emulates the fused rounding.
    for (const v of vecs) products.push(`${ind(6)}acc${r}_${v} = acc${r}_${v} + av${r} * bv${v};`);
  }
  const stores: string[] = [];
  for (const r of rows) for (const v of vecs) stores.push(`${ind(4)}store4(m0 + ${r}u, n0 + ${4 * v}u, acc${r}_${v}, split);`);
  return specializeWgsl(source, {
    PREAMBLE: c.quad ? 'enable subgroups;\ndiagnostic(off, subgroup_uniformity);' : '',
    RM: c.rm,
    RN: c.rn,
    LANES: c.quad ? 4 : 1,
    UNIT_COLS: (c.quad ? 4 : 1) * c.rn,
    LANE_BUILTIN: c.quad ? ', @builtin(subgroup_invocation_id) sg_lane: u32' : '',
    LANE: c.quad ? 'sg_lane & 3u' : '0u',
    SETUP: setup.join('\n'),
    PRODUCTS: products.join('\n'),
    STORES: stores.join('\n'),
    A_LEN: lengths.a,
    B_LEN: lengths.b,
    C_LEN: lengths.c,
    AUX_LEN: lengths.aux,
  }, 'mlp_gemm_blocked.wgsl');
}

/** Blocks of C (items of the persistent loop): row blocks x column blocks x splits of K. */
export function blockedGemmItems(c: BlockedGemmConfig, m: number, n: number, splits: number): number {
  const unitCols = (c.quad ? 4 : 1) * c.rn;
  return Math.ceil(m / c.rm) * Math.ceil(n / unitCols) * Math.max(1, splits);
}

/** The grid: c.groups workgroups, no more than the items need, folded into 2-D past one dimension. */
export function blockedGemmGrid(c: BlockedGemmConfig, m: number, n: number, splits: number, maxPerDim: number): { x: number; y: number; z: number } {
  const lanes = c.quad ? 4 : 1;
  const needed = Math.ceil((blockedGemmItems(c, m, n, splits) * lanes) / c.wg);
  const groups = Math.max(1, Math.min(c.groups, needed));
  return { ...fold2d(groups, maxPerDim), z: 1 };
}
