// Trees back to text: the formula syntax (parseable again: print(parse(s)) parses to the same tree) and
// LaTeX for the page (KaTeX renders it). Parentheses only where precedence needs them.
import { sum, SUM_RUN, sumTerms, type Node } from './ast.ts';

const PREC = { '+': 1, '-': 1, '*': 2, '/': 2, neg: 3, '^': 4, atom: 5 } as const;

function prec(n: Node): number {
  if (n.kind === 'bin') return PREC[n.op];
  if (n.kind === 'neg') return PREC.neg;
  if (n.kind === 'num' && n.value < 0) return PREC.neg;
  return PREC.atom;
}

function formatNumber(n: Extract<Node, { kind: 'num' }>): string {
  if (n.name) return n.name;
  const s = String(n.value);
  return s.replace('e+', 'e');
}

export function print(n: Node): string {
  requireTree(n, 'printFormula');
  switch (n.kind) {
    case 'num': return formatNumber(n);
    case 'sym': return n.name;
    // -a*b and -a/b read the same either way (the parser's -a, then the product, gives -(a*b)), except where
    // -a simplifies on its own: a number (-2 / a is the number -2 over a) or a difference (-(u - v) is v - u);
    // or where a is a constant (pi, e), which the product reorders among numbers (-pi * e comes back -(e * pi)).
    // A sum needs parentheses too.
    case 'neg': {
      let first = n.arg;
      while (first.kind === 'bin' && (first.op === '*' || first.op === '/')) first = first.left;
      const paren = prec(n.arg) < PREC['*'] || first.kind === 'num' || first.kind === 'neg' || (first.kind === 'bin' && first.op === '-');
      return `-${wrap(n.arg, paren)}`;
    }
    case 'call': return `${n.fn}(${n.args.map(print).join(', ')})`;
    case 'bin': {
      const terms = longSum(n);
      // A term that is a difference keeps its parentheses: t1 + (a - b) + … parses back to the same sum.
      if (terms) return terms.map((t) => wrap(t, prec(t) <= PREC['+'])).join(' + ');
      const p = PREC[n.op];
      // Left-associative operators need parentheses on the right at equal precedence (a * (b * c) too: printed
      // a * b * c it would parse as (a * b) * c, another tree); ^ on the left.
      const left = wrap(n.left, n.op === '^' ? prec(n.left) <= p : prec(n.left) < p);
      // An exponent's unary minus takes one factor: a^-(b * c), not a^-b * c.
      const right = wrap(n.right, n.op === '^' ? prec(n.right) < PREC.neg || (n.right.kind === 'neg' && prec(n.right.arg) < PREC.neg) : prec(n.right) <= p);
      return n.op === '^' ? `${left}^${right}` : `${left} ${n.op} ${right}`;
    }
  }
}

/** The terms of a sum longer than SUM_RUN terms that `sum` builds from them (what the parser makes of t1 + t2 + …), else null. */
function longSum(n: Node): Node[] | null {
  if (n.kind !== 'bin' || n.op !== '+') return null;
  const terms = sumTerms(n);
  return terms.length > SUM_RUN && sum(terms).key === n.key ? terms : null;
}

/** The printers take a tree: a model's is model.model, its loss's model.loss.tree (a string or a model printed undefined). */
function requireTree(n: unknown, what: string): void {
  if (typeof n !== 'object' || n === null || typeof (n as { kind?: unknown }).kind !== 'string') {
    const hint = typeof n === 'object' && n !== null && 'model' in n ? ' (for a compiled model, pass model.model, or model.loss.tree)' : '';
    throw new TypeError(`${what}: expected an expression tree${hint}, got ${n === null ? 'null' : typeof n}`);
  }
}

function wrap(n: Node, paren: boolean): string {
  return paren ? `(${print(n)})` : print(n);
}

const LATEX_FN: Record<string, string> = {
  exp: '\\exp', log: '\\ln', sin: '\\sin', cos: '\\cos', tan: '\\tan', tanh: '\\tanh', atan: '\\arctan',
  min: '\\min', max: '\\max', sign: '\\operatorname{sign}', sigmoid: '\\sigma', softplus: '\\operatorname{softplus}',
  log1p: '\\operatorname{log1p}', huber: '\\operatorname{huber}', cauchy: '\\operatorname{cauchy}',
};

function latexName(name: string): string {
  if (name === 'yhat') return '\\hat{y}';
  if (name === 'pi') return '\\pi';
  const m = /^([A-Za-z]+)_?(\d+)$/.exec(name);
  if (m) return `${m[1].length > 1 ? `\\mathrm{${m[1]}}` : m[1]}_{${m[2]}}`;
  if (name.length === 1) return name;
  return uprightName(name);
}

const uprightName = (name: string) => `\\mathrm{${name.replace(/_/g, '\\_')}}`;

/** How a formula's names are typeset: a name maps to one TeX string, and no two names to the same one. */
export type LatexNames = (name: string) => string;

/**
 * The typesetting of a formula's names, given all of them: `x1` and `x_1` are both x₁ on paper, so where a
 * formula writes both (two different parameters), each is set upright as written instead.
 */
export function latexNames(names: Iterable<string>): LatexNames {
  const byTex = new Map<string, string[]>();
  for (const name of new Set(names)) {
    const tex = latexName(name);
    byTex.set(tex, [...(byTex.get(tex) ?? []), name]);
  }
  const ambiguous = new Set([...byTex.values()].filter((group) => group.length > 1).flat());
  return (name) => (ambiguous.has(name) ? uprightName(name) : latexName(name));
}

export function latex(n: Node, names: LatexNames = latexName): string {
  requireTree(n, 'formulaLatex');
  if (typeof names !== 'function') throw new TypeError(`formulaLatex: names must be a function from a name to TeX (formulaLatexNames), got ${typeof names}`);
  switch (n.kind) {
    case 'num': return n.name ? names(n.name) : formatNumber(n).replace(/e(-?\d+)$/, ' \\times 10^{$1}');
    case 'sym': return names(n.name);
    case 'neg': return `-${prec(n.arg) < PREC['*'] ? `\\left(${latex(n.arg, names)}\\right)` : latex(n.arg, names)}`;
    case 'call': {
      if (n.fn === 'abs') return `\\left|${latex(n.args[0], names)}\\right|`;
      if (n.fn === 'sqrt') return `\\sqrt{${latex(n.args[0], names)}}`;
      // Iverson's bracket, as written on paper: [y = 3].
      if (n.fn === 'eq') return `\\left[${latex(n.args[0], names)} = ${latex(n.args[1], names)}\\right]`;
      // u·ln(a) as on paper; its value at u = 0 (0, even where ln a is not finite) is the rule's note.
      if (n.fn === 'xlogy') {
        const u = prec(n.args[0]) < PREC['*'] ? `\\left(${latex(n.args[0], names)}\\right)` : latex(n.args[0], names);
        return `${u} \\cdot \\ln\\left(${latex(n.args[1], names)}\\right)`;
      }
      if (n.fn === 'ifle') {
        const [a, b, p, q] = n.args.map((arg) => latex(arg, names));
        return `\\begin{cases}${p} & ${a} \\le ${b}\\\\ ${q} & \\text{otherwise}\\end{cases}`;
      }
      return `${LATEX_FN[n.fn] ?? `\\operatorname{${n.fn}}`}\\left(${n.args.map((arg) => latex(arg, names)).join(', ')}\\right)`;
    }
    case 'bin': {
      if (n.op === '/') return `\\frac{${latex(n.left, names)}}{${latex(n.right, names)}}`;
      const p = PREC[n.op];
      const l = prec(n.left) < p || (n.op === '^' && prec(n.left) <= p) ? `\\left(${latex(n.left, names)}\\right)` : latex(n.left, names);
      if (n.op === '^') return `{${l}}^{${latex(n.right, names)}}`;
      const rParen = n.op === '-' ? prec(n.right) <= p : prec(n.right) < p;
      const r = rParen ? `\\left(${latex(n.right, names)}\\right)` : latex(n.right, names);
      return `${l} ${n.op === '*' ? '\\cdot' : n.op} ${r}`;
    }
  }
}
