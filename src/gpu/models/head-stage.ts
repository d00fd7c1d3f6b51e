// The loss head's WGSL (shaders/mlp_head.wgsl) for a network. A one-output head is a formula loss (the mse
// and bce heads their named losses, headLossText): ℓ(z, y) and dℓ/dz are spliced in as WGSL expressions
// generated from the loss tree and its derivative (src/formula/head-loss.ts). The ce head keeps the file's
// hand-written softmax. The generated text is the pipeline's source, so MlpGradientPasses' cache key (stage,
// constants, source) tells two losses apart. CPU twin: headLoss() in src/cpu/mlp_gradient.ts compiles the
// same trees to JS.
import { headLossText, type NetworkConfig } from '../../models/network.ts';
import { formulaHead } from '../../formula/head-loss.ts';
import { POWER_HELPERS, wgslExpression } from '../../formula/emit-wgsl.ts';
import { WGSL_HELPERS } from '../../formula/functions.ts';
import { specializeWgsl } from '../wgsl.ts';

/** The stage's source for `c`; it sets no override but WG, the variant being chosen by its text. */
export function headStage(source: string, c: NetworkConfig): string {
  const text = headLossText(c);
  if (text === null) {
    const defines = { FORMULA: false, FORMULA_FNS: '', FORMULA_LOSS: '', FORMULA_DELTA: '' };
    return specializeWgsl(source, defines, 'mlp_head.wgsl');
  }
  if (c.outputs !== 1) throw new RangeError(`loss "${text}": a formula loss applies to one output, the network has ${c.outputs}`);
  const f = formulaHead(text);
  const defines = { FORMULA: true, FORMULA_FNS: `${WGSL_HELPERS}${POWER_HELPERS}`, FORMULA_LOSS: wgslExpression(f.loss), FORMULA_DELTA: wgslExpression(f.slope) };
  return specializeWgsl(source, defines, 'mlp_head.wgsl');
}
