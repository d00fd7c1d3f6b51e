// Sizes and uniform packing for the mlp_*.wgsl stages: pure, unit-tested without a GPU.
import { layerShapes, parameterCount, type LayerShape, type NetworkConfig } from '../../models/network.ts';
import { chooseWorkgroupSize, fold2d, type DeviceShape } from '../dispatch.ts';

/** Fewest samples a grad-partials thread sums (below it the partials rows cost more than they save). */
export const MIN_CHUNK = 64;
/** Most chunk rows: bounds the partials buffer and the reduce's serial sums (rows / 32 per lane). */
export const MAX_CHUNKS = 1024;
/** Partials buffer budget: chunk rows are cut down to fit it. */
export const PARTIALS_BUDGET_BYTES = 128 * 1024 * 1024;

export interface MlpPlan {
  workgroupSize: number;
  layers: LayerShape[];
  params: number;
  /** Partials row width: params + 1 (the loss sum). */
  stride: number;
  chunk: number;
  numChunks: number;
}

export function planMlp(c: NetworkConfig, n: number, shape: DeviceShape, maxBindingBytes: number, preferredWorkgroup = 256): MlpPlan {
  const layers = layerShapes(c);
  const params = parameterCount(c);
  const stride = params + 1;
  const budget = Math.min(PARTIALS_BUDGET_BYTES, maxBindingBytes);
  const rowsFit = Math.floor(budget / (stride * 4));
  if (rowsFit < 1) throw new RangeError(`model: ${params} parameters need ${stride * 4} bytes per partials row, more than ${budget}`);
  const maxChunks = Math.min(MAX_CHUNKS, rowsFit);
  const chunk = Math.max(MIN_CHUNK, Math.ceil(n / maxChunks));
  const numChunks = Math.ceil(n / chunk);
  const widest = Math.max(c.inputs, ...layers.map((l) => l.fanOut));
  const activationBytes = n * widest * 4;
  if (activationBytes > maxBindingBytes) {
    throw new RangeError(`dataset: ${n} samples x ${widest} units take ${activationBytes} bytes per layer, more than one storage binding (${maxBindingBytes}); minibatches are not supported yet`);
  }
  return { workgroupSize: chooseWorkgroupSize(shape, preferredWorkgroup), layers, params, stride, chunk, numChunks };
}

/** The folded grid that gives `count` threads (one per work item) at least one lane each. */
export function gridFor(count: number, workgroupSize: number, maxPerDim: number): { x: number; y: number } {
  return fold2d(Math.max(1, Math.ceil(count / workgroupSize)), maxPerDim);
}

export interface MlpUniformValues {
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
}

/** MlpUniforms (shaders/shared/mlp_layout.wgsl): eleven u32 and inv_n: f32. */
export function packMlpUniforms(v: MlpUniformValues): ArrayBuffer {
  const buf = new ArrayBuffer(48);
  new Uint32Array(buf).set([v.n, v.fanIn, v.fanOut, v.wOffset, v.chunk, v.numChunks, v.groupsX, v.stride, v.count, v.lossCol, v.hasLoss ? 1 : 0]);
  new Float32Array(buf)[11] = 1 / v.n;
  return buf;
}
