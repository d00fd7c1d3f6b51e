// The dense network's shard sums (network-kernels.ts) with the three products of each layer on the
// WebAssembly SIMD kernel (wasm-gemm.ts): forward Z = A W^T, backprop P = D W, weight gradient D^T A.
// Each thread owns a WebAssembly memory holding its copy of the weights (W and W^T, refreshed when a job
// brings new ones), a tile's activations and deltas, D^T and a weight-gradient block per layer. Products
// are float32 SIMD sums over one layer's width; each layer's weight-gradient block sums FLUSH_ROWS rows in
// float32 before it is added into float64 (the shards in order by the caller), so long sums stay float64.
// Bias + ReLU, tanh (a float32 rational approximation, wasm-gemm.ts) or identity and every activation
// slope run on 4 lanes too; sigmoid (exp) and the loss head run in JS on the tile, as in the JS kernels
// (headRow: so every one-output head, a formula loss, takes the same compiled JavaScript here as there).
import type { NetworkConfig } from '../models/network.ts';
import { ACT_IDENTITY, ACT_RELU, ACT_TANH, activate, activationCode, headRow, TILE_ROWS, up4, writeShardSums, type PaddedNetwork } from './network-kernels.ts';
import { instantiateGemms, WASM_PAGE, type ElementKernels, type Gemm, type GemmShape } from './wasm-gemm.ts';

/** Rows a weight-gradient block sums in float32 before it is added into float64: a multiple of TILE_ROWS, as long as the widest layer sum. */
export const FLUSH_ROWS = 256;

interface LayerKernels {
  forward: Gemm;
  backprop: Gemm;
  weightGrad: Gemm;
  /** Byte offsets in the wasm memory. */
  w: number;
  wt: number;
  /** This layer's weight-gradient block (fanOutP x fanInP, float32). */
  block: number;
  bias: number;
}

export class WasmNetworkScratch {
  private readonly memory: WebAssembly.Memory;
  readonly f32: Float32Array;
  readonly layers: LayerKernels[];
  /** Byte offsets of act[l] and delta[l] tiles, D^T and the weight-gradient block. */
  readonly act: number[];
  readonly delta: number[];
  readonly dt: number;
  readonly gradW: Float64Array[];
  readonly gradB: Float64Array[];
  readonly elements: ElementKernels;
  weightsVersion = -1;

  constructor(readonly net: PaddedNetwork) {
    const widths = [net.layers[0].fanInP, ...net.layers.map((l) => l.fanOutP)];
    let bytes = 0;
    const take = (floats: number) => {
      const at = bytes;
      bytes += floats * 4;
      return at;
    };
    const weights = net.layers.map((l) => ({ w: take(l.fanOutP * l.fanInP), wt: take(l.fanInP * l.fanOutP), bias: take(l.fanOutP) }));
    this.act = widths.map((w) => take(TILE_ROWS * w));
    this.delta = widths.map((w) => take(TILE_ROWS * w));
    const maxOut = Math.max(...net.layers.map((l) => l.fanOutP));
    this.dt = take(maxOut * TILE_ROWS);
    const blocks = net.layers.map((l) => take(l.fanOutP * l.fanInP));
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / WASM_PAGE) + 1 });
    this.f32 = new Float32Array(this.memory.buffer);
    const shapes = net.layers.map((l) => ({
      forward: { n: l.fanOutP, lda: l.fanInP, ldb: l.fanOutP, ldc: l.fanOutP },
      backprop: { n: l.fanInP, lda: l.fanOutP, ldb: l.fanInP, ldc: l.fanInP },
      weightGrad: { n: l.fanInP, lda: TILE_ROWS, ldb: l.fanInP, ldc: l.fanInP },
    }));
    const kernels = instantiateGemms(shapes.flatMap((s): GemmShape[] => [s.forward, s.backprop, s.weightGrad]), this.memory);
    const { gemm } = kernels;
    this.elements = kernels;
    this.layers = shapes.map((s, l) => ({ forward: gemm(s.forward), backprop: gemm(s.backprop), weightGrad: gemm(s.weightGrad), ...weights[l], block: blocks[l] }));
    this.gradW = net.layers.map((l) => new Float64Array(l.fanOutP * l.fanInP));
    this.gradB = net.layers.map((l) => new Float64Array(l.fanOutP));
  }

  /** Copies the packed weights (W_l, padded) into this thread's memory, with W_l^T beside them. */
  loadWeights(weights: Float32Array, version: number): void {
    if (version === this.weightsVersion) return;
    const { f32 } = this;
    this.net.layers.forEach((l, k) => {
      const { w, wt, bias } = this.layers[k];
      const n = l.fanOutP * l.fanInP;
      f32.set(weights.subarray(l.packedOffset, l.packedOffset + n), w / 4);
      f32.set(weights.subarray(l.packedOffset + n, l.packedOffset + n + l.fanOutP), bias / 4);
      for (let o = 0; o < l.fanOutP; o++) for (let j = 0; j < l.fanInP; j++) f32[wt / 4 + j * l.fanOutP + o] = weights[l.packedOffset + o * l.fanInP + j];
    });
    this.weightsVersion = version;
  }
}

/** networkShardSums (network-kernels.ts) on the SIMD kernels; the same contract and output layout. */
export function wasmShardSums(
  c: NetworkConfig, ws: WasmNetworkScratch, weights: Float32Array, version: number, x: Float32Array, y: Float32Array, begin: number, end: number, out: Float64Array,
): void {
  ws.loadWeights(weights, version);
  const { net, f32, gradW, gradB } = ws;
  const L = net.layers.length;
  const actCode = activationCode(c);
  for (let l = 0; l < L; l++) {
    gradW[l].fill(0);
    gradB[l].fill(0);
  }
  const d = c.inputs;
  const dP = net.layers[0].fanInP;
  const a0 = ws.act[0] / 4;
  let loss = 0;
  let pending = 0; // rows in the float32 blocks since the last flush
  for (let tile = begin; tile < end; tile += TILE_ROWS) {
    const rows = Math.min(TILE_ROWS, end - tile);
    const last = tile + TILE_ROWS >= end;
    const accumulate = pending > 0 ? 1 : 0;
    pending += rows;
    const flush = last || pending >= FLUSH_ROWS;
    if (flush) pending = 0;
    const rowsP = up4(rows);
    copyInput(f32, a0, x, tile, rows, rowsP, d, dP);
    for (let l = 0; l < L; l++) {
      const s = net.layers[l];
      const k = ws.layers[l];
      k.forward(rowsP, s.fanInP, ws.act[l], k.wt, ws.act[l + 1], 0);
      const code = l === L - 1 ? ACT_IDENTITY : actCode;
      if (code === ACT_IDENTITY) ws.elements.bias('identity')(ws.act[l + 1], k.bias, rowsP, s.fanOutP);
      else if (code === ACT_RELU) ws.elements.bias('relu')(ws.act[l + 1], k.bias, rowsP, s.fanOutP);
      else if (code === ACT_TANH) ws.elements.bias('tanh')(ws.act[l + 1], k.bias, rowsP, s.fanOutP);
      else biasActivate(f32, ws.act[l + 1] / 4, weights, s.packedOffset + s.fanOutP * s.fanInP, rowsP, s.fanOutP, code);
    }
    const KP = net.layers[L - 1].fanOutP;
    const dL = ws.delta[L] / 4;
    const logits = f32.subarray(ws.act[L] / 4, ws.act[L] / 4 + TILE_ROWS * KP);
    const deltaL = f32.subarray(dL, dL + TILE_ROWS * KP);
    deltaL.fill(0, 0, rowsP * KP);
    for (let r = 0; r < rows; r++) loss += headRow(c, logits, r * KP, y[tile + r], deltaL);
    for (let l = L - 1; l >= 0; l--) {
      const s = net.layers[l];
      const k = ws.layers[l];
      const fo = s.fanOutP;
      const fi = s.fanInP;
      // D^T (fo x TILE_ROWS) for the weight gradient's product, and the bias gradient from it.
      transposeDelta(f32, ws.delta[l + 1] / 4, ws.dt / 4, gradB[l], rowsP, fo);
      k.weightGrad(fo, rowsP, ws.dt, ws.act[l], k.block, accumulate);
      if (flush) addBlock(f32, k.block / 4, gradW[l], fo * fi);
      if (l === 0) break;
      k.backprop(rowsP, fo, ws.delta[l + 1], k.w, ws.delta[l], 0);
      ws.elements.slope(c.activation)(ws.delta[l], ws.act[l], rowsP * fi);
    }
  }
  writeShardSums(net, gradW, gradB, loss, out);
}

// The tile's element-wise steps, one small function each: V8 optimizes a loop best in a function of its own.

function copyInput(f32: Float32Array, a0: number, x: Float32Array, tile: number, rows: number, rowsP: number, d: number, dP: number): void {
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) f32[a0 + r * dP + j] = x[(tile + r) * d + j];
  f32.fill(0, a0 + rows * dP, a0 + rowsP * dP);
}

/** Z = act(Z + b) over rows x width, for sigmoid (exp in JS; relu, identity and tanh run in wasm). */
function biasActivate(f32: Float32Array, z: number, weights: Float32Array, bias: number, rows: number, width: number, code: number): void {
  for (let i = 0, row = z; i < rows; i++, row += width) for (let o = 0; o < width; o++) f32[row + o] = activate(code, f32[row + o] + weights[bias + o]);
}

/** D (rows x width) into D^T (width x TILE_ROWS), and the bias gradient (column sums of D) into gB. */
function transposeDelta(f32: Float32Array, D: number, DT: number, gB: Float64Array, rows: number, width: number): void {
  for (let o = 0; o < width; o++) {
    let sum = 0;
    for (let i = 0; i < rows; i++) {
      const v = f32[D + i * width + o];
      f32[DT + o * TILE_ROWS + i] = v;
      sum += v;
    }
    gB[o] += sum;
  }
}

function addBlock(f32: Float32Array, block: number, gW: Float64Array, count: number): void {
  for (let e = 0; e < count; e++) gW[e] += f32[block + e];
}
