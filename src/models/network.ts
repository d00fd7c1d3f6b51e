// The one parameterization every model here shares: a stack of dense layers z_l = W_l a_{l-1} + b_l with
// an activation between layers and a loss head on the last layer's outputs (the logits).
//   linear   = no hidden layer, 1 output,  'mse' head: J_i = (z - y)^2
//   logistic = no hidden layer, 1 output,  'bce' head: binary cross-entropy from the logit
//   softmax  = no hidden layer, K outputs, 'ce'  head: cross-entropy with log-sum-exp
//   mlp      = any hidden layers with relu/tanh/sigmoid, and any of the heads
// A one-output head is a formula loss (src/formula/head-loss.ts): mse is the named loss `mse`, bce is
// `logistic` (ℓ of the logit), and a network may name another (`loss`): J_i = ℓ(z, y) with z the output; the
// head still says what a prediction is. The ce head is a formula too, of the K logits and the class index
// (logsumexp(z0..zK-1) - sum_k eq(y, k) z_k, formulaSoftmaxHead): its slopes are derived, not written.
// theta is flat, layer by layer: W_l (fan_out x fan_in, row-major), then b_l. J is the mean over samples.
import { rejectUnknownKeys } from '../core/options.ts';
import { seededUniform } from '../data/shuffle.ts';
import { formulaHead } from '../formula/head-loss.ts';

export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const HEADS = ['mse', 'bce', 'ce'] as const;
export type Head = (typeof HEADS)[number];
export type ModelKind = 'linear' | 'logistic' | 'softmax' | 'mlp';

export interface NetworkConfig {
  kind: ModelKind;
  inputs: number;
  hidden: number[];
  activation: Activation;
  head: Head;
  /** 1 for mse and bce; the class count K >= 2 for ce. */
  outputs: number;
  /** A named loss or a formula of yhat and y (losses.ts) replacing the head's loss; one-output heads only. */
  loss?: string;
}

/** x: n x d row-major float32 (the GPU upload layout); y: the target (mse), 0/1 (bce) or class index (ce). */
export interface ModelData {
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly n: number;
  readonly d: number;
}

export interface LayerShape {
  fanIn: number;
  fanOut: number;
  /** Offset of W_l in theta; b_l follows at wOffset + fanOut * fanIn. */
  wOffset: number;
}

/** Codes of the ACT override in the mlp_*.wgsl stages. */
export const ACTIVATION_CODES: Record<Activation | 'identity', number> = { identity: 0, relu: 1, tanh: 2, sigmoid: 3 };

/** The named loss each one-output head is: the same J_i and dJ_i/dz as the head's textbook definition. */
const HEAD_LOSSES = { mse: 'mse', bce: 'logistic' } as const;

/** The loss text a network's head trains on (its own `loss`, else its head's), or null for the ce head. */
export function headLossText(c: NetworkConfig): string | null {
  if (c.loss !== undefined) return c.loss;
  return c.head === 'ce' ? null : HEAD_LOSSES[c.head];
}

/** A TypeError unless hidden is an array (of the hidden layers' widths; each is checked by validateNetwork). */
export function requireHiddenArray(hidden: unknown): void {
  if (!Array.isArray(hidden)) throw new TypeError(`hidden: expected the hidden layers' widths as an array (e.g. [16, 16], or [] for none), got ${hidden === null ? 'null' : typeof hidden}`);
}

export function validateNetwork(c: NetworkConfig): void {
  rejectUnknownKeys(c, ['kind', 'inputs', 'hidden', 'activation', 'head', 'outputs', 'loss'], 'network config');
  requireHiddenArray(c.hidden);
  const posInt = (name: string, v: number) => {
    if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`${name}: expected a positive integer, got ${v}`);
  };
  posInt('inputs', c.inputs);
  c.hidden.forEach((h, l) => posInt(`hidden (layer ${l + 1})`, h));
  if (!(ACTIVATIONS as readonly string[]).includes(c.activation)) {
    throw new RangeError(`activation: expected ${ACTIVATIONS.join(', ')}, got "${c.activation}"`);
  }
  if (!(HEADS as readonly string[]).includes(c.head)) throw new RangeError(`head: expected ${HEADS.join(', ')}, got "${c.head}"`);
  if (c.head === 'ce') {
    if (!(Number.isInteger(c.outputs) && c.outputs >= 2)) throw new RangeError(`classes: expected an integer >= 2, got ${c.outputs}`);
  } else if (c.outputs !== 1) {
    throw new RangeError(`outputs: the ${c.head} head has one output, got ${c.outputs}`);
  }
  if (c.kind !== 'mlp' && c.hidden.length > 0) throw new RangeError(`hidden: the ${c.kind} model has no hidden layers`);
  if (c.loss !== undefined) {
    if (typeof c.loss !== 'string') throw new RangeError(`loss: expected a named loss or a formula of yhat and y, got ${JSON.stringify(c.loss)}`);
    if (c.head === 'ce') throw new RangeError(`loss "${c.loss}": a formula loss applies to one output; the ${c.kind} model's ce head has ${c.outputs}`);
    try {
      formulaHead(c.loss);
    } catch (e) {
      throw new RangeError(`loss "${c.loss}": ${(e as Error).message}`);
    }
  }
}

export function layerShapes(c: NetworkConfig): LayerShape[] {
  const widths = [c.inputs, ...c.hidden, c.outputs];
  const out: LayerShape[] = [];
  let offset = 0;
  for (let l = 1; l < widths.length; l++) {
    out.push({ fanIn: widths[l - 1], fanOut: widths[l], wOffset: offset });
    offset += widths[l] * widths[l - 1] + widths[l];
  }
  return out;
}

export function parameterCount(c: NetworkConfig): number {
  const last = layerShapes(c).at(-1)!;
  return last.wOffset + last.fanOut * last.fanIn + last.fanOut;
}

/** 1 on weights, 0 on biases: weight decay (L2 or decoupled) leaves biases alone. */
export function decayMask(c: NetworkConfig): Float32Array {
  const mask = new Float32Array(parameterCount(c));
  for (const s of layerShapes(c)) mask.fill(1, s.wOffset, s.wOffset + s.fanOut * s.fanIn);
  return mask;
}

/** A seeded uniform generator, so that an initialisation is reproducible from its seed alone. */
export const seededRandom = seededUniform;

/**
 * Seeded initialisation. Layers followed by relu get He (normal, std sqrt(2 / fan_in)), the others Glorot
 * (normal, std sqrt(2 / (fan_in + fan_out))): both keep activations' variance from growing or vanishing
 * with depth. Biases start at 0. Models without hidden layers start at 0 (a convex loss needs no symmetry
 * breaking, and zero is where the linear model's default path starts too).
 */
export function initParameters(c: NetworkConfig, seed: number): Float64Array {
  validateNetwork(c);
  const theta = new Float64Array(parameterCount(c));
  if (c.hidden.length === 0) return theta;
  const rand = seededRandom(seed);
  const gauss = () => {
    // Box-Muller; 1 - u keeps the log argument in (0, 1].
    const u = 1 - rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  const shapes = layerShapes(c);
  shapes.forEach((s, l) => {
    const relu = c.activation === 'relu' && l < shapes.length - 1;
    const std = relu ? Math.sqrt(2 / s.fanIn) : Math.sqrt(2 / (s.fanIn + s.fanOut));
    for (let k = 0; k < s.fanOut * s.fanIn; k++) theta[s.wOffset + k] = std * gauss();
  });
  return theta;
}

/** firstRow: the place of data's first row in the whole dataset (a chunk of a stream), for the rows the errors name. */
export function validateModelData(c: NetworkConfig, data: ModelData, firstRow = 0): void {
  if (typeof data !== 'object' || data === null) throw new TypeError(`data: expected the samples as { n, d, x, y }, got ${data === null ? 'null' : typeof data}`);
  const { n, d, x, y } = data;
  for (const [name, values] of [['x', x], ['y', y]] as const) {
    if (typeof (values as { length?: unknown } | null | undefined)?.length !== 'number') throw new TypeError(`data: ${name}: expected a Float32Array, got ${values === null ? 'null' : typeof values}`);
  }
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`dataset: need at least one sample, got n = ${n}`);
  if (d !== c.inputs) throw new RangeError(`dataset: ${d} features, the model takes ${c.inputs}`);
  if (x.length !== n * d) throw new RangeError(`dataset: x has ${x.length} values, expected n * d = ${n * d}`);
  if (y.length !== n) throw new RangeError(`dataset: y has ${y.length} values, expected n = ${n}`);
  if (c.loss !== undefined) {
    const { spec } = formulaHead(c.loss);
    for (let i = 0; i < n; i++) {
      const why = spec.checkTarget(y[i]);
      if (why) throw new RangeError(`dataset: target of sample ${firstRow + i} is ${y[i]}, which the ${spec.name} loss cannot use (${why})`);
    }
  }
  if (c.head === 'mse') return;
  const K = c.head === 'bce' ? 2 : c.outputs;
  for (let i = 0; i < n; i++) {
    if (!(Number.isInteger(y[i]) && y[i] >= 0 && y[i] < K)) {
      throw new RangeError(`dataset: label of sample ${firstRow + i} is ${y[i]}, expected a class index 0..${K - 1}`);
    }
  }
}

export function validateTheta(c: NetworkConfig, theta: ArrayLike<number>): void {
  const P = parameterCount(c);
  if (theta.length !== P) throw new RangeError(`parameters: expected ${P} values, got ${theta.length}`);
  for (let k = 0; k < P; k++) if (!Number.isFinite(theta[k])) throw new RangeError(`parameters: value ${k} is not a finite number`);
}
