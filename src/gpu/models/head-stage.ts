// The loss head's WGSL (shaders/mlp_head.wgsl) for a network: the per-sample body (LOSS_BODY) and the helper
// functions it calls (LOSS_FNS) are generated from a formula and its derivatives (src/formula/head-loss.ts).
//   one output: ℓ(z, y) and dℓ/dz of the head's loss (the mse and bce heads the named losses mse and
//     logistic, headLossText), yhat being the output z.
//   ce, K outputs: ℓ = logsumexp(z0..zK−1) − Σ_k eq(y, k) z_k and its K derived slopes softmax − one-hot,
//     straight-line for the network's K, logsumexp computed once.
// The generated text is the pipeline's source, so MlpGradientPasses' cache key (stage, constants, source) tells
// two losses (and two class counts) apart. CPU twin: headLoss() in src/cpu/mlp_gradient.ts runs the same
// trees compiled to JS.
import { headLossText, type NetworkConfig } from '../../models/network.ts';
import { formulaHead, formulaSoftmaxHead } from '../../formula/head-loss.ts';
import { wgslExpression, wgslHelpers } from '../../formula/emit-wgsl.ts';
import { specializeWgsl } from '../wgsl.ts';

/** The stage's source for `c`; it sets no override but WG, the variant being chosen by its text. */
export function headStage(source: string, c: NetworkConfig): string {
  const text = headLossText(c);
  if (text === null) return softmaxStage(source, c.outputs);
  if (c.outputs !== 1) throw new RangeError(`loss "${text}": a formula loss applies to one output, the network has ${c.outputs}`);
  const f = formulaHead(text);
  const body = [
    '  let yhat = logits[base];',
    `  delta[base] = ${wgslExpression(f.slope)};`,
    `  losses[i] = ${wgslExpression(f.loss)};`,
  ];
  return specializeWgsl(source, { LOSS_FNS: wgslHelpers([f.loss, f.slope]), LOSS_BODY: body.join('\n') }, 'mlp_head.wgsl');
}

function softmaxStage(source: string, K: number): string {
  const { program } = formulaSoftmaxHead(K);
  const [loss, ...slopes] = program.outputs;
  const body = [
    ...Array.from({ length: K }, (_, k) => `  let z${k} = logits[base + ${k}u];`),
    ...program.lets.map(({ name, node }) => `  let ${name} = ${wgslExpression(node)};`),
    ...slopes.map((s, k) => `  delta[base + ${k}u] = ${wgslExpression(s)};`),
    `  losses[i] = ${wgslExpression(loss)};`,
  ];
  const fns = wgslHelpers([...program.lets.map((l) => l.node), ...program.outputs]);
  return specializeWgsl(source, { LOSS_FNS: fns, LOSS_BODY: body.join('\n') }, 'mlp_head.wgsl');
}
