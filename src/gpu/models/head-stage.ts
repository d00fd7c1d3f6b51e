// The loss head's WGSL (shaders/mlp_head.wgsl) for a network: the built-in heads (mse, bce, ce) picked by the
// HEAD override, or, when the network takes a formula loss (config.loss), a variant with ℓ(z, y) and dℓ/dz
// spliced in as WGSL expressions generated from the loss tree and its derivative (src/formula/head-loss.ts).
// The generated text is the pipeline's source, so MlpGradientPasses' cache key (stage, constants, source)
// tells two losses apart. CPU twin: headLoss() in src/cpu/mlp_gradient.ts compiles the same trees to JS.
import { HEAD_CODES, type NetworkConfig } from '../../models/network.ts';
import { formulaHead } from '../../formula/head-loss.ts';
import { POWER_HELPERS, wgslExpression } from '../../formula/emit-wgsl.ts';
import { WGSL_HELPERS } from '../../formula/functions.ts';
import { specializeWgsl } from '../wgsl.ts';

export interface HeadStage {
  source: string;
  /** The formula variant sets no HEAD: its body does not read it. */
  constants: Record<string, number>;
}

export function headStage(source: string, c: NetworkConfig): HeadStage {
  if (c.loss === undefined) {
    const defines = { FORMULA: false, FORMULA_FNS: '', FORMULA_LOSS: '', FORMULA_DELTA: '' };
    return { source: specializeWgsl(source, defines, 'mlp_head.wgsl'), constants: { HEAD: HEAD_CODES[c.head] } };
  }
  if (c.outputs !== 1) throw new RangeError(`loss "${c.loss}": a formula loss applies to one output, the network has ${c.outputs}`);
  const f = formulaHead(c.loss);
  const defines = { FORMULA: true, FORMULA_FNS: `${WGSL_HELPERS}${POWER_HELPERS}`, FORMULA_LOSS: wgslExpression(f.loss), FORMULA_DELTA: wgslExpression(f.slope) };
  return { source: specializeWgsl(source, defines, 'mlp_head.wgsl'), constants: {} };
}
