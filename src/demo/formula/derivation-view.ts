// The model's derivatives as one works them on paper, rendered by KaTeX: the loss and dℓ/dŷ, then per
// parameter every rule applied to a subexpression (innermost first, as derive() records them), ∂ŷ/∂θ and
// the chain rule's product ∂ℓ/∂θ. The generated WGSL sits beside it in a <details> block.
import katex from 'katex';
import 'katex/dist/katex.min.css';
import type { Node } from '../../formula/ast.ts';
import type { DerivationStep } from '../../formula/derive.ts';
import { derivation, modelLatexNames, type FormulaModel } from '../../formula/model.ts';
import { latex, type LatexNames } from '../../formula/print.ts';
import { gradientProgram } from '../../formula/program.ts';
import { wgslSampleFunction } from '../../formula/emit-wgsl.ts';

/** A sum or difference needs parentheses as a factor. */
function factor(n: Node, names: LatexNames): string {
  const s = latex(n, names);
  return n.kind === 'bin' && (n.op === '+' || n.op === '-') ? `\\left(${s}\\right)` : s;
}

function math(tex: string, display = false): HTMLElement {
  const el = document.createElement(display ? 'div' : 'span');
  el.className = 'tex';
  // throwOnError false: a construct KaTeX lacks shows as red source, never an exception out of the page.
  katex.render(tex, el, { throwOnError: false, displayMode: display });
  return el;
}

function stepList(steps: readonly DerivationStep[], wrt: string, names: LatexNames): HTMLElement {
  const ol = document.createElement('ol');
  ol.className = 'steps';
  for (const s of steps) {
    const li = document.createElement('li');
    li.append(math(`\\frac{\\partial}{\\partial ${wrt}}\\left[${latex(s.of, names)}\\right] = ${latex(s.result, names)}`));
    const rule = document.createElement('span');
    rule.className = 'rule';
    rule.textContent = s.rule;
    li.append(' ', rule);
    if (s.note) {
      const note = document.createElement('span');
      note.className = 'hint';
      note.textContent = ` (${s.note})`;
      li.append(note);
    }
    ol.append(li);
  }
  return ol;
}

/**
 * How much derivation text (a parameter's steps x the model's TeX length, roughly what KaTeX lays out) renders
 * at once; the parameters past it render when their block is first opened. Each step shows its whole
 * subexpression, so a sum over n columns has n steps of n terms for each of its n weights: linear(100 columns)
 * rendered eagerly was four million nodes and blocked the page for two minutes.
 */
const EAGER_TEX = 50_000;

function paramBlock(q: { name: string; steps: readonly DerivationStep[]; dModel: Node }, names: LatexNames): HTMLElement[] {
  const h = document.createElement('h3');
  h.append('Parameter ', math(names(q.name)));
  return [
    h, stepList(q.steps, names(q.name), names),
    math(`\\frac{\\partial \\hat{y}}{\\partial ${names(q.name)}} = ${latex(q.dModel, names)}`, true),
    math(`\\frac{\\partial \\ell}{\\partial ${names(q.name)}} = \\frac{\\partial \\ell}{\\partial \\hat{y}} \\cdot ${factor(q.dModel, names)}, \\qquad ` +
      `\\frac{\\partial J}{\\partial ${names(q.name)}} = \\frac{1}{N}\\sum_i \\frac{\\partial \\ell_i}{\\partial ${names(q.name)}}`, true),
  ];
}

export function renderDerivation(el: HTMLElement, wgslEl: HTMLElement, m: FormulaModel): void {
  const d = derivation(m);
  const names = modelLatexNames(m);
  const parts: HTMLElement[] = [];
  const p = (text: string) => {
    const para = document.createElement('p');
    para.textContent = text;
    return para;
  };
  parts.push(math(`\\hat{y} = ${latex(m.model, names)}`, true));
  parts.push(math(`J(\\theta) = \\frac{1}{N}\\sum_{i} \\ell(\\hat{y}_i, y_i), \\qquad \\ell(\\hat{y}, y) = ${latex(d.loss.of, names)}`, true));
  const lossBlock = document.createElement('div');
  lossBlock.className = 'deriv-loss';
  lossBlock.append(p(`The loss (${m.loss.text}): ŷ is ${m.loss.yhat}.`));
  if (d.loss.steps.length) lossBlock.append(stepList(d.loss.steps, '\\hat{y}', names));
  lossBlock.append(math(`\\frac{\\partial \\ell}{\\partial \\hat{y}} = ${latex(d.loss.result, names)}`, true));
  parts.push(lossBlock);
  const modelTex = latex(m.model, names).length;
  let eager = 0;
  d.params.forEach((q) => {
    eager += q.steps.length * modelTex;
    if (eager <= EAGER_TEX) {
      const block = document.createElement('div');
      block.className = 'deriv-param';
      block.dataset.param = q.name;
      block.append(...paramBlock(q, names));
      parts.push(block);
      return;
    }
    const block = document.createElement('details');
    block.className = 'deriv-param deriv-lazy';
    block.dataset.param = q.name;
    const summary = document.createElement('summary');
    summary.append('Parameter ', math(names(q.name)), ` (${q.steps.length} step${q.steps.length === 1 ? '' : 's'}: open to show)`);
    block.append(summary);
    block.addEventListener('toggle', () => {
      if (block.open && block.childElementCount === 1) block.append(...paramBlock(q, names).slice(1));
    });
    parts.push(block);
  });
  el.replaceChildren(...parts);
  let wgsl: string;
  try {
    wgsl = wgslSampleFunction(gradientProgram(m));
  } catch (e) {
    wgsl = `// no WGSL: ${(e as Error).message}`;
  }
  wgslEl.textContent = wgsl;
}
