// A network's output head as a formula loss (issue #18 item 4): a scalar-output network trains on a loss
// ℓ(yhat, y) of losses.ts, yhat being the network's output z (the mse head is the loss `mse`, the bce head
// `logistic`, or config.loss any other; headLossText in src/models/network.ts). The head needs
// ℓ and dℓ/dz per sample: both are kept here as trees (the WGSL head, src/gpu/models/head-stage.ts, spells
// them) and compiled once per loss text to JavaScript (the float64 twin's headLoss and the fast CPU path's
// headRow call them per row, so the compile is cached rather than redone per call).
import type { Node } from './ast.ts';
import { derive } from './derive.ts';
import { jsExpression } from './emit-js.ts';
import { JS_HELPERS } from './functions.ts';
import { parseLoss, type LossSpec } from './losses.ts';
import { parseExpression } from './parse.ts';
import { shareSubexpressions } from './program.ts';

export interface HeadLoss {
  spec: LossSpec;
  /** ℓ(yhat, y). */
  loss: Node;
  /** dℓ/dyhat, the delta the head hands to backprop. */
  slope: Node;
  /** ℓ and dℓ/dyhat compiled to JavaScript (float64). */
  value: (yhat: number, y: number) => number;
  derivative: (yhat: number, y: number) => number;
}

// Loss texts are few (one per trained model), so the cache is never trimmed.
const cache = new Map<string, HeadLoss>();

/** The head of `text` (a named loss or a formula of yhat and y); throws the FormulaError parseLoss throws. */
export function formulaHead(text: string): HeadLoss {
  const hit = cache.get(text);
  if (hit) return hit;
  const spec = parseLoss(text);
  const slope = derive(spec.tree, 'yhat');
  // jsExpression names the target y_ (its row sums index an array y); here it is the scalar argument.
  const make = new Function(`${JS_HELPERS}\nconst nabla_sq = (v) => v * v;\n`
    + `return [(yhat, y_) => ${jsExpression(spec.tree)}, (yhat, y_) => ${jsExpression(slope)}];`);
  const [value, derivative] = make() as [HeadLoss['value'], HeadLoss['derivative']];
  const head: HeadLoss = { spec, loss: spec.tree, slope, value, derivative };
  cache.set(text, head);
  return head;
}

/**
 * The softmax cross-entropy head over K logits z0..z{K-1} and the class index y, as a formula:
 *   ℓ = logsumexp(z0, ..., z{K-1}) − Σ_k eq(y, k)·z_k
 * whose K slopes ∂ℓ/∂z_k = e^(z_k − logsumexp(z)) − eq(y, k) (softmax minus one-hot) are derived by the rules.
 * The program shares logsumexp(z) and each eq(y, k) among the loss and the slopes: O(K) operations per row.
 */
export interface SoftmaxHead {
  classes: number;
  loss: Node;
  /** ∂ℓ/∂z_k, k < K. */
  slopes: Node[];
  /** Straight-line code: the lets (t0 = logsumexp(z), ...), then outputs [ℓ, ∂ℓ/∂z0, ...] over z0.., y and the lets. */
  program: { lets: ReadonlyArray<{ name: string; node: Node }>; outputs: readonly Node[] };
  /**
   * ℓ for the logits z[off..off+K) and class index y, compiled to JavaScript (float64 arithmetic); the slopes
   * go to delta[deltaOff..deltaOff+K) unless delta is null.
   */
  evaluate: (z: ArrayLike<number>, off: number, y: number, delta: Float64Array | Float32Array | null, deltaOff: number) => number;
}

const softmaxCache = new Map<number, SoftmaxHead>();

/** The softmax cross-entropy loss over K logits, as formula text (logits z0.., class index y). */
export function softmaxLossText(K: number): string {
  const z = Array.from({ length: K }, (_, k) => `z${k}`);
  return `logsumexp(${z.join(', ')}) - (${z.map((zk, k) => `eq(y, ${k}) * ${zk}`).join(' + ')})`;
}

/** The head for K classes (K >= 2), built and compiled once per K. */
export function formulaSoftmaxHead(K: number): SoftmaxHead {
  const hit = softmaxCache.get(K);
  if (hit) return hit;
  if (!(Number.isInteger(K) && K >= 2)) throw new RangeError(`softmax head: expected an integer class count >= 2, got ${K}`);
  const loss = parseExpression(softmaxLossText(K));
  const slopes = Array.from({ length: K }, (_, k) => derive(loss, `z${k}`));
  const program = shareSubexpressions([], [loss, ...slopes]);
  const body = [
    ...Array.from({ length: K }, (_, k) => `const z${k} = z[off + ${k}];`),
    ...program.lets.map(({ name, node }) => `const ${name} = ${jsExpression(node)};`),
    'if (delta !== null) {',
    ...program.outputs.slice(1).map((s, k) => `  delta[deltaOff + ${k}] = ${jsExpression(s)};`),
    '}',
    `return ${jsExpression(program.outputs[0])};`,
  ];
  // jsExpression names the class index y_; here it is the scalar argument.
  const make = new Function(`${JS_HELPERS}\nconst nabla_sq = (v) => v * v;\n`
    + `return function softmaxHead(z, off, y_, delta, deltaOff) {\n  ${body.join('\n  ')}\n};`);
  const head: SoftmaxHead = { classes: K, loss, slopes, program, evaluate: make() as SoftmaxHead['evaluate'] };
  softmaxCache.set(K, head);
  return head;
}
