// CPU twin of the mlp_*.wgsl stages (forward, head, backprop, grad partials, reduce) in float64: the loss
// J = (1/N) sum_i J_i and its gradient for every weight and bias, one sample at a time. Each sample's
// gradient is added into one running sum and never kept, as on the GPU.
//   forward:  z_l = W_l a_{l-1} + b_l,  a_l = act(z_l) (the last layer keeps z_L: the logits)
//   head:     J_i and delta_L = dJ_i/dz_L: one output, ℓ(z, y) and dℓ/dz of the head's loss (headLossText:
//             mse is (z - y)^2, bce softplus(z) - y z, or c.loss), compiled from the loss and its derivative;
//             ce, logsumexp(z) - sum_k eq(y, k) z_k and its derived slopes softmax(z) - onehot(y), compiled
//             likewise (src/formula/head-loss.ts, formulaSoftmaxHead)
//   backward: dJ/dW_l += delta_l a_{l-1}^T,  dJ/db_l += delta_l,  delta_{l-1} = (W_l^T delta_l) * act'(a_{l-1})
import { headLossText, layerShapes, parameterCount, type ModelData, type NetworkConfig } from '../models/network.ts';
import { activate, activationSlope } from '../models/mlp.ts';
import { formulaHead, formulaSoftmaxHead } from '../formula/head-loss.ts';

export interface ModelGradient {
  loss: number;
  grad: Float64Array;
}

/** J_i and dJ_i/dz into delta (K values) for logits z. */
export function headLoss(c: NetworkConfig, z: ArrayLike<number>, y: number, delta: Float64Array | null): number {
  const text = headLossText(c);
  if (text !== null) {
    const f = formulaHead(text);
    if (delta) delta[0] = f.derivative(z[0], y);
    return f.value(z[0], y);
  }
  // ce: the softmax head's formula over the K logits, its slopes derived (compiled once per K, cached).
  return formulaSoftmaxHead(c.outputs).evaluate(z, 0, y, delta, 0);
}

class Workspace {
  readonly shapes;
  /** a[0] is the input row; a[l] the outputs of layer l (logits for the last). */
  readonly a: Float64Array[];
  readonly delta: Float64Array[];
  constructor(readonly c: NetworkConfig) {
    this.shapes = layerShapes(c);
    this.a = [new Float64Array(c.inputs), ...this.shapes.map((s) => new Float64Array(s.fanOut))];
    this.delta = this.a.map((v) => new Float64Array(v.length));
  }

  forward(theta: ArrayLike<number>, x: Float32Array, row: number): Float64Array {
    const { c, shapes, a } = this;
    for (let j = 0; j < c.inputs; j++) a[0][j] = x[row + j];
    const L = shapes.length;
    for (let l = 0; l < L; l++) {
      const { fanIn, fanOut, wOffset } = shapes[l];
      const input = a[l];
      const out = a[l + 1];
      const bOffset = wOffset + fanOut * fanIn;
      for (let o = 0; o < fanOut; o++) {
        let z = theta[bOffset + o];
        const w = wOffset + o * fanIn;
        for (let j = 0; j < fanIn; j++) z += theta[w + j] * input[j];
        out[o] = l === L - 1 ? z : activate(c.activation, z);
      }
    }
    return a[L];
  }
}

export function modelLossAndGradient(c: NetworkConfig, theta: ArrayLike<number>, data: ModelData): ModelGradient {
  const ws = new Workspace(c);
  const { shapes, a, delta } = ws;
  const L = shapes.length;
  const grad = new Float64Array(parameterCount(c));
  let loss = 0;
  for (let i = 0; i < data.n; i++) {
    const z = ws.forward(theta, data.x, i * data.d);
    loss += headLoss(c, z, data.y[i], delta[L]);
    for (let l = L - 1; l >= 0; l--) {
      const { fanIn, fanOut, wOffset } = shapes[l];
      const dl = delta[l + 1];
      const input = a[l];
      const bOffset = wOffset + fanOut * fanIn;
      for (let o = 0; o < fanOut; o++) {
        const g = dl[o];
        const w = wOffset + o * fanIn;
        for (let j = 0; j < fanIn; j++) grad[w + j] += g * input[j];
        grad[bOffset + o] += g;
      }
      if (l === 0) break;
      const prev = delta[l];
      for (let j = 0; j < fanIn; j++) {
        let s = 0;
        for (let o = 0; o < fanOut; o++) s += theta[wOffset + o * fanIn + j] * dl[o];
        prev[j] = s * activationSlope(c.activation, input[j]);
      }
    }
  }
  const inv = 1 / data.n;
  for (let k = 0; k < grad.length; k++) grad[k] *= inv;
  return { loss: loss * inv, grad };
}

/** J alone, for finite differences. */
export function modelLoss(c: NetworkConfig, theta: ArrayLike<number>, data: ModelData): number {
  const ws = new Workspace(c);
  let loss = 0;
  for (let i = 0; i < data.n; i++) loss += headLoss(c, ws.forward(theta, data.x, i * data.d), data.y[i], null);
  return loss / data.n;
}

/**
 * The first sample (0-based) where the network's outputs, its loss or the loss's slope in the outputs is not
 * finite at theta (what makes a run's start fail), with those outputs and that loss; null where there is none.
 */
export function firstNonFiniteSample(c: NetworkConfig, theta: ArrayLike<number>, data: ModelData): { row: number; outputs: Float64Array; loss: number } | null {
  const ws = new Workspace(c);
  const slope = new Float64Array(c.outputs);
  for (let i = 0; i < data.n; i++) {
    const z = ws.forward(theta, data.x, i * data.d);
    const loss = headLoss(c, z, data.y[i], slope);
    if (!Number.isFinite(loss) || !z.every(Number.isFinite) || !slope.every(Number.isFinite)) return { row: i, outputs: z.slice(), loss };
  }
  return null;
}

/** The logits (n x outputs) of every sample. */
export function modelLogits(c: NetworkConfig, theta: ArrayLike<number>, x: Float32Array, n: number): Float64Array {
  const ws = new Workspace(c);
  const out = new Float64Array(n * c.outputs);
  for (let i = 0; i < n; i++) out.set(ws.forward(theta, x, i * c.inputs), i * c.outputs);
  return out;
}

/** Predicted class per sample (bce: z > 0; ce: argmax), or the regression value (mse). */
export function predictFromLogits(c: NetworkConfig, logits: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  const K = c.outputs;
  for (let i = 0; i < n; i++) {
    if (c.head === 'mse') out[i] = logits[i];
    else if (c.head === 'bce') out[i] = logits[i] > 0 ? 1 : 0;
    else {
      let best = 0;
      for (let k = 1; k < K; k++) if (logits[i * K + k] > logits[i * K + best]) best = k;
      out[i] = best;
    }
  }
  return out;
}

export function accuracy(c: NetworkConfig, theta: ArrayLike<number>, data: ModelData): number {
  const pred = predictFromLogits(c, modelLogits(c, theta, data.x, data.n), data.n);
  let right = 0;
  for (let i = 0; i < data.n; i++) if (pred[i] === data.y[i]) right++;
  return right / data.n;
}
