// Partial derivatives by the rules, with every other symbol held constant: constant, identity, sum,
// difference, constant multiple, product, quotient, power (constant exponent), exponential (constant base),
// the general power, and each function's own rule from functions.ts, carried through compositions by the
// chain rule. Each rule that does work is recorded as a step (the subexpression, the rule's name, the
// result), so that the derivation can be printed the way one works it on paper.
import { add, call, div, dependsOn, mul, neg, num, pow, sub, type Node } from './ast.ts';
import { FUNCTIONS } from './functions.ts';

export interface DerivationStep {
  /** The subexpression differentiated. */
  of: Node;
  rule: string;
  result: Node;
  /** The subgradient taken where the function has no derivative. */
  note?: string;
}

/**
 * A call's partials depend on its arguments only, not on the variable: kept per node, so that the K partials
 * of logsumexp(z0..zK−1) are built once for its K derivatives, not K times.
 */
const partialsOf = new WeakMap<Node, Node[]>();

export function derive(node: Node, v: string, steps: DerivationStep[] = []): Node {
  if (!dependsOn(node, v)) return num(0);
  const record = (rule: string, result: Node, note?: string): Node => {
    steps.push({ of: node, rule, result, ...(note && { note }) });
    return result;
  };
  const d = (n: Node) => derive(n, v, steps);
  switch (node.kind) {
    case 'num': return num(0);
    case 'sym': return num(1); // depends on v, so it is v: the identity
    case 'neg': return record('constant multiple (−1)', neg(d(node.arg)));
    case 'bin': {
      const { left: a, right: b } = node;
      const da = dependsOn(a, v);
      const db = dependsOn(b, v);
      switch (node.op) {
        case '+': return record('sum rule', add(d(a), d(b)));
        case '-': return record('difference rule', sub(d(a), d(b)));
        case '*':
          if (!da) return record('constant multiple', mul(a, d(b)));
          if (!db) return record('constant multiple', mul(d(a), b));
          return record('product rule', add(mul(d(a), b), mul(a, d(b))));
        case '/':
          if (!db) return record('constant multiple (1/c)', div(d(a), b));
          if (!da) return record('quotient rule (constant numerator)', neg(div(mul(a, d(b)), pow(b, num(2)))));
          return record('quotient rule', div(sub(mul(d(a), b), mul(a, d(b))), pow(b, num(2))));
        case '^':
          if (!db) return record('power rule', mul(mul(b, pow(a, sub(b, num(1)))), d(a)));
          if (!da) return record('exponential rule (constant base)', mul(call('xlogy', [node, a]), d(b)));
          return record('general power rule', add(mul(mul(b, pow(a, sub(b, num(1)))), d(a)), mul(call('xlogy', [node, a]), d(b))));
      }
    }
    // falls through never: every operator returns
    case 'call': {
      const { fn, args } = node;
      if (fn === 'min') return record(FUNCTIONS.min.rule, call('ifle', [args[0], args[1], d(args[0]), d(args[1])]), FUNCTIONS.min.note);
      if (fn === 'max') return record(FUNCTIONS.max.rule, call('ifle', [args[1], args[0], d(args[0]), d(args[1])]), FUNCTIONS.max.note);
      if (fn === 'ifle') return record(FUNCTIONS.ifle.rule, call('ifle', [args[0], args[1], d(args[2]), d(args[3])]));
      if (fn === 'xlogy') {
        // (u ln a)' = u' ln a + (u/a) a', each term 0 where its u' or u is: xlogy(u', a), and u/a taken only where u ≠ 0.
        const [u, a] = args;
        let total = dependsOn(u, v) ? call('xlogy', [d(u), a]) : num(0);
        if (dependsOn(a, v)) total = add(total, mul(call('ifle', [call('abs', [u]), num(0), num(0), div(u, a)]), d(a)));
        return record(FUNCTIONS.xlogy.rule, total, FUNCTIONS.xlogy.note);
      }
      const rule = FUNCTIONS[fn];
      if (!rule?.partials) throw new Error(`derive: no rule for ${fn}`);
      let partials = partialsOf.get(node);
      if (!partials) partialsOf.set(node, (partials = rule.partials(...args)));
      let total = num(0);
      args.forEach((a, k) => {
        if (dependsOn(a, v)) total = add(total, mul(partials[k], d(a)));
      });
      const inner = args.some((a) => a.kind !== 'sym');
      return record(inner ? `${rule.rule}, chain rule` : rule.rule, total, rule.note);
    }
  }
}
