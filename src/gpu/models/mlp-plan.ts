// Sizes and uniform packing for the mlp_*.wgsl stages: pure, unit-tested without a GPU.
//
// The data (x, y) stay whole on the GPU; the activations, deltas and per-sample losses hold `rows`
// samples, the most one evaluation covers. A mini-batch is rows start..start+count of the data: the
// stages read x and y from row `start` and everything else from row 0, so one set of buffers serves
// every batch (and the full gradient is evaluated piece by piece when the data exceed `rows`).
import { layerShapes, parameterCount, type LayerShape, type NetworkConfig } from '../../models/network.ts';
import { chooseWorkgroupSize, fold2d, type DeviceShape } from '../dispatch.ts';

/** Fewest samples per split of the weight gradient (fewer: more partials rows than the product saves). */
export const MIN_CHUNK = 256;
/** Most chunk rows: bounds the partials buffer and the reduce's serial sums (rows / 32 per lane). */
export const MAX_CHUNKS = 1024;
/** Partials buffer budget: chunk rows are cut down to fit it. */
export const PARTIALS_BUDGET_BYTES = 128 * 1024 * 1024;
/** MlpUniforms: 13 u32 and inv_n, padded to 16-byte struct alignment. */
export const MLP_UNIFORM_BYTES = 64;

export interface MlpPlan {
  workgroupSize: number;
  layers: LayerShape[];
  params: number;
  /** Partials row width: params + 1 (the loss sum). */
  stride: number;
  /** Samples one evaluation covers at most (activation buffers hold this many). */
  rows: number;
  chunk: number;
  /** Chunk rows of a full `rows` evaluation (fewer for a smaller batch). */
  numChunks: number;
}

/** The most samples whose widest layer fits one storage binding. */
export function maxRowsPerBinding(c: NetworkConfig, maxBindingBytes: number): number {
  const widest = Math.max(...layerShapes(c).map((l) => l.fanOut));
  return Math.floor(maxBindingBytes / (widest * 4));
}

/**
 * n: samples in the data; rows: the most one evaluation (a batch) covers, default as many as fit (up to n).
 */
export function planMlp(c: NetworkConfig, n: number, shape: DeviceShape, maxBindingBytes: number, preferredWorkgroup = 256, rows?: number): MlpPlan {
  const layers = layerShapes(c);
  const params = parameterCount(c);
  const stride = params + 1;
  const xBytes = n * c.inputs * 4;
  if (xBytes > maxBindingBytes) {
    throw new RangeError(`dataset: ${n} samples x ${c.inputs} features take ${xBytes} bytes, more than one storage binding (${maxBindingBytes})`);
  }
  const fit = maxRowsPerBinding(c, maxBindingBytes);
  const cap = rows ?? Math.min(n, fit);
  if (!(Number.isInteger(cap) && cap >= 1)) throw new RangeError(`batch rows: expected a positive integer, got ${rows}`);
  if (cap > fit) {
    const widest = Math.max(...layers.map((l) => l.fanOut));
    throw new RangeError(`batch rows: ${cap} samples x ${widest} units take ${cap * widest * 4} bytes per layer, more than one storage binding (${maxBindingBytes}); use a batch size of at most ${fit}`);
  }
  const budget = Math.min(PARTIALS_BUDGET_BYTES, maxBindingBytes);
  const rowsFit = Math.floor(budget / (stride * 4));
  if (rowsFit < 1) throw new RangeError(`model: ${params} parameters need ${stride * 4} bytes per partials row, more than ${budget}`);
  const maxChunks = Math.min(MAX_CHUNKS, rowsFit);
  const chunk = Math.max(MIN_CHUNK, Math.ceil(cap / maxChunks));
  const numChunks = Math.ceil(cap / chunk);
  return { workgroupSize: chooseWorkgroupSize(shape, preferredWorkgroup), layers, params, stride, rows: cap, chunk, numChunks };
}

/** The folded grid that gives `count` threads (one per work item) at least one lane each. */
export function gridFor(count: number, workgroupSize: number, maxPerDim: number): { x: number; y: number } {
  return fold2d(Math.max(1, Math.ceil(count / workgroupSize)), maxPerDim);
}

export interface MlpUniformValues {
  /** Samples in this evaluation. */
  n: number;
  fanIn: number;
  fanOut: number;
  wOffset: number;
  chunk: number;
  numChunks: number;
  groupsX: number;
  stride: number;
  count: number;
  lossCol: number;
  hasLoss: boolean;
  /** First data row the stage's input reads (the batch start where the input is x, else 0). */
  xRow: number;
  /** First target row (the head). */
  yRow: number;
}

/** MlpUniforms (shaders/shared/mlp_layout.wgsl): thirteen u32 and inv_n: f32. */
export function packMlpUniforms(v: MlpUniformValues): ArrayBuffer {
  const buf = new ArrayBuffer(MLP_UNIFORM_BYTES);
  new Uint32Array(buf).set([v.n, v.fanIn, v.fanOut, v.wOffset, v.chunk, v.numChunks, v.groupsX, v.stride, v.count, v.lossCol, v.hasLoss ? 1 : 0, v.xRow, v.yRow]);
  new Float32Array(buf)[13] = 1 / v.n;
  return buf;
}

/** mlp_gemm.wgsl's output tile: 64 x 64 values of C per workgroup. */
export const GEMM_TILE = 64;

export interface GemmUniformValues {
  m: number;
  n: number;
  k: number;
  /** K per split (weight gradient), else k. */
  kSplit: number;
  aBase: number;
  aSm: number;
  aSk: number;
  bBase: number;
  bSk: number;
  bSn: number;
  cBase: number;
  cSm: number;
  cSplit: number;
  auxBase: number;
  auxSm: number;
  groupsY: number;
}

/** GemmUniforms (shaders/shared/mlp_layout.wgsl): sixteen u32. */
export function packGemmUniforms(v: GemmUniformValues): ArrayBuffer {
  const buf = new ArrayBuffer(MLP_UNIFORM_BYTES);
  new Uint32Array(buf).set([v.m, v.n, v.k, v.kSplit, v.aBase, v.aSm, v.aSk, v.bBase, v.bSk, v.bSn, v.cBase, v.cSm, v.cSplit, v.auxBase, v.auxSm, v.groupsY]);
  return buf;
}

/**
 * The grid of a product with `rows` rows of C and `cols` columns: x tiles the columns, y the rows; with
 * `splits` (the weight gradient) z is the split, otherwise row tiles beyond one dimension fold into z.
 */
export function gemmGrid(rows: number, cols: number, splits: number, maxPerDim: number): { x: number; y: number; z: number } {
  const x = Math.ceil(cols / GEMM_TILE);
  const rowTiles = Math.max(1, Math.ceil(rows / GEMM_TILE));
  if (x > maxPerDim || splits > maxPerDim) throw new RangeError(`layer: ${cols} columns or ${splits} splits exceed the ${maxPerDim} workgroups of one grid dimension`);
  if (splits > 1) {
    if (rowTiles > maxPerDim) throw new RangeError(`layer: ${rows} units exceed the grid`);
    return { x, y: rowTiles, z: splits };
  }
  const folded = fold2d(rowTiles, maxPerDim);
  return { x, y: folded.x, z: folded.y };
}
