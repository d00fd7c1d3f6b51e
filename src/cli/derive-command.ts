// `nabla derive`: the partial derivatives of a formula model's loss, worked the way one works them on paper:
// first dℓ/dŷ from the loss, then per parameter ∂ŷ/∂θj with its steps (the subexpression, the rule, the
// result, and the subgradient taken where there is no derivative), then the chain rule
// ∂ℓ/∂θj = ∂ℓ/∂ŷ · ∂ŷ/∂θj. The steps are listed inner first, so each result is made of results shown above it.
import { mul, type Node } from '../formula/ast.ts';
import type { DerivationStep } from '../formula/derive.ts';
import { compileFormula, derivation, modelLatexNames, type FormulaModel, type FormulaSpec } from '../formula/model.ts';
import { latex, print, type LatexNames } from '../formula/print.ts';
import type { DeriveArgs } from './formula-args.ts';
import { formulaFlagError } from './formula-args.ts';
import { compileForFile } from './formula-data.ts';
import { UsageError } from './args.ts';
import type { Io } from './commands.ts';

async function compileFor(args: DeriveArgs): Promise<FormulaModel> {
  const spec: FormulaSpec = { formula: args.formula, loss: args.loss ?? 'mse' };
  // A file's header says which names are columns; any name a reader finds there counts, numeric or not.
  if (args.data !== undefined) return compileForFile(args.data, spec, {}, 'drop-missing');
  const target = formulaTargetOf(args.formula);
  if (args.params?.includes(target)) throw new UsageError(`--params: ${target} is the formula's target, not a parameter`);
  let m: FormulaModel;
  try {
    m = compileFormula(spec, args.columns ? { columns: [...args.columns, target] } : args.params ? { params: args.params } : {});
  } catch (e) {
    // compileFormula refuses a listed parameter the formula does not use, naming its argument: params.
    if (args.params && e instanceof RangeError && e.message.startsWith('params: ')) throw new UsageError(`--${e.message}`);
    throw formulaFlagError('formula', e);
  }
  if (args.columns) checkNamesUsed('columns', args.columns.filter((c) => c !== m.target), m.features, m);
  return m;
}

/** A listed column the formula never uses is a mistake (a misspelt column would otherwise become a parameter). */
function checkNamesUsed(flag: string, listed: readonly string[], used: readonly string[], m: FormulaModel): void {
  const unused = listed.filter((n) => !used.includes(n));
  if (unused.length === 0) return;
  const names = [...m.features, ...m.params];
  throw new UsageError(`--${flag}: ${unused.join(', ')} ${unused.length === 1 ? 'is' : 'are'} not in the formula "${m.spec.formula}" (its names: ${names.join(', ') || 'none'})`);
}

/** The target is a column by definition: --columns need not list it. */
function formulaTargetOf(formula: string): string {
  return formula.slice(0, Math.max(0, formula.indexOf('~'))).trim();
}

/** A subexpression met again (|yhat − y| three times in huber) is derived once: later repeats are left out. */
function firstOfEach(steps: readonly DerivationStep[]): DerivationStep[] {
  const seen = new Set<string>();
  return steps.filter((s) => !seen.has(s.of.key) && seen.add(s.of.key));
}

const stepJson = (names: LatexNames) => (s: DerivationStep) => ({
  of: print(s.of), rule: s.rule, result: print(s.result), ...(s.note && { note: s.note }), ofLatex: latex(s.of, names), resultLatex: latex(s.result, names),
});

function stepLines(steps: readonly DerivationStep[], wrt: string): string[] {
  return firstOfEach(steps).flatMap((s, k) => [
    `   ${k + 1}. ∂/∂${wrt} [${print(s.of)}] = ${print(s.result)}`,
    `        rule: ${s.rule}${s.note ? `; ${s.note}` : ''}`,
  ]);
}

export async function deriveCommand(args: DeriveArgs, io: Io): Promise<number> {
  const m = await compileFor(args);
  const d = derivation(m);
  const dLoss = d.loss.result;
  // The chain rule's product with dℓ/dŷ written out (derivation() leaves it as a name).
  const partialOf = (dModel: Node) => mul(dLoss, dModel);
  const names = modelLatexNames(m);
  if (args.json) {
    io.out(JSON.stringify({
      formula: args.formula, target: m.target, model: print(m.model), modelLatex: latex(m.model, names),
      loss: m.loss.text, lossFormula: print(m.loss.tree), lossLatex: latex(m.loss.tree, names), yhat: m.loss.yhat,
      params: m.params, features: m.features,
      dLossDyhat: print(dLoss), dLossDyhatLatex: latex(dLoss, names), dLossSteps: firstOfEach(d.loss.steps).map(stepJson(names)),
      partials: Object.fromEntries(d.params.map((p) => [p.name, {
        dModel: print(p.dModel), dModelLatex: latex(p.dModel, names), partial: print(partialOf(p.dModel)), partialLatex: latex(partialOf(p.dModel), names),
        steps: firstOfEach(p.steps).map(stepJson(names)),
      }])),
    }));
    return 0;
  }
  const lines = [
    `model:       ${m.target} ~ ${print(m.model)}`,
    `loss:        ${m.loss.text}: ℓ = ${print(m.loss.tree)}   (ŷ is ${m.loss.yhat})`,
    `parameters:  ${m.params.join(', ')}`,
    `columns:     ${m.features.length > 0 ? m.features.join(', ') : '(none)'}; target ${m.target}`,
    '',
    `1. dℓ/dŷ, from the loss (ŷ written yhat):`,
    ...stepLines(d.loss.steps, 'yhat'),
    `   dℓ/dŷ = ${print(dLoss)}`,
  ];
  d.params.forEach((p, k) => {
    lines.push('', `${k + 2}. ∂ŷ/∂${p.name}, from the model (every other name held constant):`);
    lines.push(...(p.steps.length > 0 ? stepLines(p.steps, p.name) : [`   ŷ is ${p.name} itself: the derivative is 1`]));
    lines.push(`   ∂ŷ/∂${p.name} = ${print(p.dModel)}`);
    lines.push(`   ∂ℓ/∂${p.name} = dℓ/dŷ · ∂ŷ/∂${p.name} = ${print(partialOf(p.dModel))}`);
  });
  lines.push('', `J = (1/N) Σᵢ ℓᵢ and ∂J/∂θ = (1/N) Σᵢ ∂ℓᵢ/∂θ, with ŷᵢ = ${print(m.model)} on row i.`);
  io.out(lines.join('\n'));
  return 0;
}
