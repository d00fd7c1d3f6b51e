// The fast CPU gradient of a dense network (src/models/network.ts) over one shard of rows: float32
// storage of inputs, weights and activations, float64 accumulation (every JS multiply-add is float64),
// tiles of TILE_ROWS rows so a layer's activations stay in cache, and register-blocked products (4 rows or
// outputs x 4 columns in 16 local accumulators: 8 loads per 16 multiply-adds, where the reference's
// per-sample loop does 2 loads and a store per multiply-add). Bias and activation are applied in the
// forward product's epilogue, the activation slope in the backprop product's; the loss head (one output:
// the twin's compiled ℓ and dℓ/dz of the head's loss, mse and bce included; ce: the twin's compiled softmax
// cross-entropy formula and its derived slopes)
// writes the output deltas in the same pass that computes J_i.
//
// Every width is padded to a multiple of 8 with zero weights and biases, so the kernels have no remainder
// loops: a padded column's activation is act(0) (0.5 for sigmoid) but meets only zero weights, and padded
// rows carry delta = 0, so neither reaches a real partial. Environment-free: runs on the main thread, in a
// Node worker or a Web Worker alike.
import { headLossText, layerShapes, parameterCount, type NetworkConfig } from '../models/network.ts';
import { formulaHead, formulaSoftmaxHead } from '../formula/head-loss.ts';

/** Rows per tile: activations of a 256-wide layer are 128 KiB of float32, the weight-gradient block's loads amortized over 128 rows. */
export const TILE_ROWS = 128;

export const ACT_IDENTITY = 0;
export const ACT_RELU = 1;
export const ACT_TANH = 2;
const ACT_SIGMOID = 3;

export interface PaddedLayer {
  fanIn: number;
  fanOut: number;
  fanInP: number;
  fanOutP: number;
  /** W_l in theta (fanOut x fanIn), b_l right after it. */
  thetaOffset: number;
  /** W_l in the padded weights (fanOutP x fanInP), b_l (fanOutP) right after it. */
  packedOffset: number;
}

export interface PaddedNetwork {
  layers: PaddedLayer[];
  /** float32 values of the packed weights. */
  packedSize: number;
  /** Parameters in theta. */
  parameters: number;
}

export const up4 = (v: number) => (v + 3) & ~3;
/** Widths are padded to 8: the JS kernels take blocks of 4, the SIMD kernel (wasm-gemm.ts) of 8 columns. */
const up8 = (v: number) => (v + 7) & ~7;

export function paddedNetwork(c: NetworkConfig): PaddedNetwork {
  let packed = 0;
  const layers = layerShapes(c).map((s) => {
    const layer = { fanIn: s.fanIn, fanOut: s.fanOut, fanInP: up8(s.fanIn), fanOutP: up8(s.fanOut), thetaOffset: s.wOffset, packedOffset: packed };
    packed += layer.fanOutP * layer.fanInP + layer.fanOutP;
    return layer;
  });
  return { layers, packedSize: packed, parameters: parameterCount(c) };
}

/** theta (float64, theta layout) -> float32 padded weights; pads stay zero. */
export function packWeights(net: PaddedNetwork, theta: ArrayLike<number>, out: Float32Array): void {
  out.fill(0);
  for (const l of net.layers) {
    for (let o = 0; o < l.fanOut; o++) {
      for (let j = 0; j < l.fanIn; j++) out[l.packedOffset + o * l.fanInP + j] = theta[l.thetaOffset + o * l.fanIn + j];
      out[l.packedOffset + l.fanOutP * l.fanInP + o] = theta[l.thetaOffset + l.fanOut * l.fanIn + o];
    }
  }
}

/** One thread's scratch: a tile's activations and deltas per layer, the shard's gradient sums. */
export class NetworkScratch {
  /** act[0]: the input tile; act[l]: layer l's outputs (logits for the last). TILE_ROWS x widthP. */
  readonly act: Float32Array[];
  readonly delta: Float32Array[];
  readonly gradW: Float64Array[];
  readonly gradB: Float64Array[];
  constructor(readonly net: PaddedNetwork) {
    const widths = [net.layers[0].fanInP, ...net.layers.map((l) => l.fanOutP)];
    this.act = widths.map((w) => new Float32Array(TILE_ROWS * w));
    this.delta = widths.map((w) => new Float32Array(TILE_ROWS * w));
    this.gradW = net.layers.map((l) => new Float64Array(l.fanOutP * l.fanInP));
    this.gradB = net.layers.map((l) => new Float64Array(l.fanOutP));
  }
}

export const activationCode = (c: NetworkConfig) => ({ relu: ACT_RELU, tanh: ACT_TANH, sigmoid: ACT_SIGMOID })[c.activation];

/**
 * Sum over rows begin..end of J_i and dJ_i/dtheta, written to out (theta layout, then the loss at index
 * parameters). Not divided by the row count: the caller adds the shards in order, then scales.
 */
export function networkShardSums(
  c: NetworkConfig, ws: NetworkScratch, weights: Float32Array, x: Float32Array, y: Float32Array, begin: number, end: number, out: Float64Array,
): void {
  const { net, act, delta, gradW, gradB } = ws;
  const L = net.layers.length;
  const actCode = activationCode(c);
  for (let l = 0; l < L; l++) {
    gradW[l].fill(0);
    gradB[l].fill(0);
  }
  const d = c.inputs;
  const dP = net.layers[0].fanInP;
  let loss = 0;
  for (let tile = begin; tile < end; tile += TILE_ROWS) {
    const rows = Math.min(TILE_ROWS, end - tile);
    const rowsP = up4(rows);
    const a0 = act[0];
    for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) a0[r * dP + j] = x[(tile + r) * d + j];
    a0.fill(0, rows * dP, rowsP * dP);
    for (let l = 0; l < L; l++) {
      const s = net.layers[l];
      forwardProduct(act[l], weights, s.packedOffset, act[l + 1], rowsP, s.fanInP, s.fanOutP, l === L - 1 ? ACT_IDENTITY : actCode);
    }
    const KP = net.layers[L - 1].fanOutP;
    const dL = delta[L];
    dL.fill(0, 0, rowsP * KP);
    for (let r = 0; r < rows; r++) loss += headRow(c, act[L], r * KP, y[tile + r], dL);
    for (let l = L - 1; l >= 0; l--) {
      const s = net.layers[l];
      weightGradient(delta[l + 1], act[l], gradW[l], gradB[l], rowsP, s.fanInP, s.fanOutP);
      if (l > 0) backpropProduct(delta[l + 1], weights, s.packedOffset, act[l], delta[l], rowsP, s.fanInP, s.fanOutP, actCode);
    }
  }
  writeShardSums(net, gradW, gradB, loss, out);
}

/** A shard's sums in theta's layout (padding dropped), then its loss: what both kernel sets hand back. */
export function writeShardSums(net: PaddedNetwork, gradW: readonly Float64Array[], gradB: readonly Float64Array[], loss: number, out: Float64Array): void {
  for (let l = 0; l < net.layers.length; l++) {
    const s = net.layers[l];
    const gW = gradW[l];
    for (let o = 0; o < s.fanOut; o++) {
      for (let j = 0; j < s.fanIn; j++) out[s.thetaOffset + o * s.fanIn + j] = gW[o * s.fanInP + j];
      out[s.thetaOffset + s.fanOut * s.fanIn + o] = gradB[l][o];
    }
  }
  out[net.parameters] = loss;
}

/** J_i for the logits at z[off..], and dJ_i/dz into delta[off..] (float64 arithmetic, as in src/cpu/mlp_gradient.ts). */
export function headRow(c: NetworkConfig, z: Float32Array, off: number, y: number, delta: Float32Array): number {
  const text = headLossText(c);
  if (text !== null) {
    // The same JavaScript as the twin's headLoss (compiled once per loss text, cached), so the two agree to float32 rounding of z.
    const f = formulaHead(text);
    delta[off] = f.derivative(z[off], y);
    return f.value(z[off], y);
  }
  // ce: the twin's compiled softmax head (the formula logsumexp(z) - sum_k eq(y, k) z_k and its derived slopes).
  return formulaSoftmaxHead(c.outputs).evaluate(z, off, y, delta, off);
}

export function activate(code: number, z: number): number {
  if (code === ACT_RELU) return z > 0 ? z : 0;
  if (code === ACT_TANH) return Math.tanh(z);
  if (code === ACT_SIGMOID) return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
  return z;
}

export function slope(code: number, a: number): number {
  if (code === ACT_RELU) return a > 0 ? 1 : 0;
  if (code === ACT_TANH) return 1 - a * a;
  return a * (1 - a);
}

/** Z = act(A W^T + b): A rows x fi, W fo x fi (then b), Z rows x fo. Blocks of 4 rows x 4 outputs, dot over fi. */
function forwardProduct(A: Float32Array, W: Float32Array, wOff: number, Z: Float32Array, rows: number, fi: number, fo: number, code: number): void {
  const bOff = wOff + fo * fi;
  for (let i = 0; i < rows; i += 4) {
    const r0 = i * fi, r1 = r0 + fi, r2 = r1 + fi, r3 = r2 + fi;
    for (let o = 0; o < fo; o += 4) {
      const w0 = wOff + o * fi, w1 = w0 + fi, w2 = w1 + fi, w3 = w2 + fi;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let j = 0; j < fi; j++) {
        const a0 = A[r0 + j], a1 = A[r1 + j], a2 = A[r2 + j], a3 = A[r3 + j];
        const v0 = W[w0 + j], v1 = W[w1 + j], v2 = W[w2 + j], v3 = W[w3 + j];
        s00 += a0 * v0; s01 += a0 * v1; s02 += a0 * v2; s03 += a0 * v3;
        s10 += a1 * v0; s11 += a1 * v1; s12 += a1 * v2; s13 += a1 * v3;
        s20 += a2 * v0; s21 += a2 * v1; s22 += a2 * v2; s23 += a2 * v3;
        s30 += a3 * v0; s31 += a3 * v1; s32 += a3 * v2; s33 += a3 * v3;
      }
      const b0 = W[bOff + o], b1 = W[bOff + o + 1], b2 = W[bOff + o + 2], b3 = W[bOff + o + 3];
      const z0 = i * fo + o, z1 = z0 + fo, z2 = z1 + fo, z3 = z2 + fo;
      Z[z0] = activate(code, s00 + b0); Z[z0 + 1] = activate(code, s01 + b1); Z[z0 + 2] = activate(code, s02 + b2); Z[z0 + 3] = activate(code, s03 + b3);
      Z[z1] = activate(code, s10 + b0); Z[z1 + 1] = activate(code, s11 + b1); Z[z1 + 2] = activate(code, s12 + b2); Z[z1 + 3] = activate(code, s13 + b3);
      Z[z2] = activate(code, s20 + b0); Z[z2 + 1] = activate(code, s21 + b1); Z[z2 + 2] = activate(code, s22 + b2); Z[z2 + 3] = activate(code, s23 + b3);
      Z[z3] = activate(code, s30 + b0); Z[z3 + 1] = activate(code, s31 + b1); Z[z3 + 2] = activate(code, s32 + b2); Z[z3 + 3] = activate(code, s33 + b3);
    }
  }
}

/** P = (D W) * act'(A): D rows x fo, W fo x fi, A and P rows x fi. Blocks of 4 rows x 4 inputs, sum over fo. */
function backpropProduct(D: Float32Array, W: Float32Array, wOff: number, A: Float32Array, P: Float32Array, rows: number, fi: number, fo: number, code: number): void {
  for (let i = 0; i < rows; i += 4) {
    const d0 = i * fo, d1 = d0 + fo, d2 = d1 + fo, d3 = d2 + fo;
    for (let j = 0; j < fi; j += 4) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let o = 0, w = wOff + j; o < fo; o++, w += fi) {
        const e0 = D[d0 + o], e1 = D[d1 + o], e2 = D[d2 + o], e3 = D[d3 + o];
        const v0 = W[w], v1 = W[w + 1], v2 = W[w + 2], v3 = W[w + 3];
        s00 += e0 * v0; s01 += e0 * v1; s02 += e0 * v2; s03 += e0 * v3;
        s10 += e1 * v0; s11 += e1 * v1; s12 += e1 * v2; s13 += e1 * v3;
        s20 += e2 * v0; s21 += e2 * v1; s22 += e2 * v2; s23 += e2 * v3;
        s30 += e3 * v0; s31 += e3 * v1; s32 += e3 * v2; s33 += e3 * v3;
      }
      const p0 = i * fi + j, p1 = p0 + fi, p2 = p1 + fi, p3 = p2 + fi;
      P[p0] = s00 * slope(code, A[p0]); P[p0 + 1] = s01 * slope(code, A[p0 + 1]); P[p0 + 2] = s02 * slope(code, A[p0 + 2]); P[p0 + 3] = s03 * slope(code, A[p0 + 3]);
      P[p1] = s10 * slope(code, A[p1]); P[p1 + 1] = s11 * slope(code, A[p1 + 1]); P[p1 + 2] = s12 * slope(code, A[p1 + 2]); P[p1 + 3] = s13 * slope(code, A[p1 + 3]);
      P[p2] = s20 * slope(code, A[p2]); P[p2 + 1] = s21 * slope(code, A[p2 + 1]); P[p2 + 2] = s22 * slope(code, A[p2 + 2]); P[p2 + 3] = s23 * slope(code, A[p2 + 3]);
      P[p3] = s30 * slope(code, A[p3]); P[p3 + 1] = s31 * slope(code, A[p3 + 1]); P[p3 + 2] = s32 * slope(code, A[p3 + 2]); P[p3 + 3] = s33 * slope(code, A[p3 + 3]);
    }
  }
}

/** gW += D^T A, gB += column sums of D: D rows x fo, A rows x fi. Blocks of 4 outputs x 4 inputs, sum over rows. */
function weightGradient(D: Float32Array, A: Float32Array, gW: Float64Array, gB: Float64Array, rows: number, fi: number, fo: number): void {
  for (let o = 0; o < fo; o += 4) {
    let b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    for (let i = 0, dr = o; i < rows; i++, dr += fo) {
      b0 += D[dr]; b1 += D[dr + 1]; b2 += D[dr + 2]; b3 += D[dr + 3];
    }
    gB[o] += b0; gB[o + 1] += b1; gB[o + 2] += b2; gB[o + 3] += b3;
    for (let j = 0; j < fi; j += 4) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let i = 0, dr = o, ar = j; i < rows; i++, dr += fo, ar += fi) {
        const e0 = D[dr], e1 = D[dr + 1], e2 = D[dr + 2], e3 = D[dr + 3];
        const a0 = A[ar], a1 = A[ar + 1], a2 = A[ar + 2], a3 = A[ar + 3];
        s00 += e0 * a0; s01 += e0 * a1; s02 += e0 * a2; s03 += e0 * a3;
        s10 += e1 * a0; s11 += e1 * a1; s12 += e1 * a2; s13 += e1 * a3;
        s20 += e2 * a0; s21 += e2 * a1; s22 += e2 * a2; s23 += e2 * a3;
        s30 += e3 * a0; s31 += e3 * a1; s32 += e3 * a2; s33 += e3 * a3;
      }
      const g0 = o * fi + j, g1 = g0 + fi, g2 = g1 + fi, g3 = g2 + fi;
      gW[g0] += s00; gW[g0 + 1] += s01; gW[g0 + 2] += s02; gW[g0 + 3] += s03;
      gW[g1] += s10; gW[g1 + 1] += s11; gW[g1 + 2] += s12; gW[g1 + 3] += s13;
      gW[g2] += s20; gW[g2 + 1] += s21; gW[g2 + 2] += s22; gW[g2 + 3] += s23;
      gW[g3] += s30; gW[g3 + 1] += s31; gW[g3 + 2] += s32; gW[g3 + 3] += s33;
    }
  }
}
