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
