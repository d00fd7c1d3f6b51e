// The expression tree every formula becomes: numbers, symbols (columns, parameters, y, yhat), the five
// operators and function calls. Nodes are immutable and built only through the constructors below, which
// simplify as they build (constant folding, x*1, x+0, --x, log(exp(u))), so that a derivative comes out in
// the form one would write on paper and equal subtrees have equal keys (shared by the emitters).

export type BinaryOp = '+' | '-' | '*' | '/' | '^';

export type Node =
  | { readonly kind: 'num'; readonly value: number; readonly name?: string; readonly key: string }
  | { readonly kind: 'sym'; readonly name: string; readonly key: string }
  | { readonly kind: 'neg'; readonly arg: Node; readonly key: string }
  | { readonly kind: 'bin'; readonly op: BinaryOp; readonly left: Node; readonly right: Node; readonly key: string }
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly Node[]; readonly key: string };

export function num(value: number, name?: string): Node {
  if (Object.is(value, -0)) value = 0;
  return name ? { kind: 'num', value, name, key: name } : { kind: 'num', value, key: `${value}` };
}

export function sym(name: string): Node {
  return { kind: 'sym', name, key: `$${name}` };
}

type Num = Extract<Node, { kind: 'num' }>;
// Not a type guard: isNum(a, 0) being false says nothing about a's kind.
// Constants fold only to finite values: 1e200 * 1e200 stays a product, since Infinity is no number a formula can spell.
const finite = (v: number): boolean => Number.isFinite(v);
const isNum = (a: Node, v?: number): boolean => a.kind === 'num' && (v === undefined || a.value === v);
const lit = (a: Node): Num => a as Num;

export function neg(a: Node): Node {
  if (isNum(a) && !lit(a).name) return num(-lit(a).value);
  if (a.kind === 'neg') return a.arg;
  if (a.kind === 'bin' && a.op === '-') return sub(a.right, a.left);
  if (a.kind === 'bin' && a.op === '*' && isNum(a.left) && !lit(a.left).name) return mul(num(-lit(a.left).value), a.right);
  return { kind: 'neg', arg: a, key: `(-${a.key})` };
}

function bin(op: BinaryOp, left: Node, right: Node): Node {
  return { kind: 'bin', op, left, right, key: `(${left.key}${op}${right.key})` };
}

export function add(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b) && !lit(a).name && !lit(b).name && finite(lit(a).value + lit(b).value)) return num(lit(a).value + lit(b).value);
  if (isNum(a, 0)) return b;
  if (isNum(b, 0)) return a;
  if (b.kind === 'neg') return sub(a, b.arg);
  if (isNum(b) && lit(b).value < 0) return sub(a, num(-lit(b).value));
  if (a.kind === 'neg') return sub(b, a.arg);
  return bin('+', a, b);
}

/**
 * Longest run of terms `sum` chains as written, t1 + t2 + … (a left-leaning tree, printed without parentheses).
 * Longer sums join such runs pairwise: every walk of a tree recurses by its depth, and a sum over thousands
 * of columns built as one chain is thousands deep (compileFormula overflowed the stack at 4,000 columns and
 * spent O(n²) building and searching its nested keys).
 */
export const SUM_RUN = 64;

/** t1 + t2 + … + tn, of depth at most SUM_RUN + log2(n / SUM_RUN). */
export function sum(terms: readonly Node[]): Node {
  return pairwise(terms, add, 0);
}

/** Operands joined in runs of SUM_RUN, left to right, the runs then pairwise; `identity` when there are none. */
function pairwise(operands: readonly Node[], join: (a: Node, b: Node) => Node, identity: number): Node {
  let runs: Node[] = [];
  for (let start = 0; start < operands.length; start += SUM_RUN) {
    runs.push(operands.slice(start, start + SUM_RUN).reduce((acc, t) => join(acc, t), num(identity)));
  }
  while (runs.length > 1) {
    const joined: Node[] = [];
    for (let k = 0; k < runs.length; k += 2) joined.push(k + 1 < runs.length ? join(runs[k], runs[k + 1]) : runs[k]);
    runs = joined;
  }
  return runs[0] ?? num(identity);
}

/**
 * first op1 t1 op2 t2 … of one precedence level (+ and −, or * and /), as written: left to right up to SUM_RUN
 * operands. A longer chain becomes a sum of signed terms or a product of factors and reciprocals joined as
 * `sum` joins terms, so that its depth stays bounded (a product of 3,000 factors overflowed the stack):
 * the same value, its roundings in another order.
 */
export function chain(first: Node, ops: readonly BinaryOp[], rest: readonly Node[]): Node {
  if (rest.length < SUM_RUN) return rest.reduce((left, t, k) => binary(ops[k], left, t), first);
  const additive = ops[0] === '+' || ops[0] === '-';
  const operands = [first, ...rest.map((t, k) => (ops[k] === '-' ? neg(t) : ops[k] === '/' ? div(num(1), t) : t))];
  return additive ? pairwise(operands, add, 0) : pairwise(operands, mul, 1);
}

/** The operands of a tree of '+', left to right (the tree itself when it is no sum). */
export function sumTerms(n: Node, into: Node[] = []): Node[] {
  if (n.kind === 'bin' && n.op === '+') {
    sumTerms(n.left, into);
    sumTerms(n.right, into);
  } else into.push(n);
  return into;
}

export function sub(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b) && !lit(a).name && !lit(b).name && finite(lit(a).value - lit(b).value)) return num(lit(a).value - lit(b).value);
  if (isNum(b, 0)) return a;
  if (isNum(a, 0)) return neg(b);
  if (a.key === b.key) return num(0);
  if (b.kind === 'neg') return add(a, b.arg);
  return bin('-', a, b);
}

export function mul(a: Node, b: Node): Node {
  if (isNum(a) && isNum(b) && !lit(a).name && !lit(b).name && finite(lit(a).value * lit(b).value)) return num(lit(a).value * lit(b).value);
  if (isNum(a, 0) || isNum(b, 0)) return num(0);
  if (isNum(a, 1)) return b;
  if (isNum(b, 1)) return a;
  if (isNum(a, -1)) return neg(b);
  if (isNum(b, -1)) return neg(a);
  if (isNum(b) && !isNum(a)) return mul(b, a); // constants first: 2*x, not x*2
  if (a.kind === 'neg') return neg(mul(a.arg, b));
  if (b.kind === 'neg') return neg(mul(a, b.arg));
  if (isNum(a) && !lit(a).name && b.kind === 'bin' && b.op === '*' && isNum(b.left) && !lit(b.left).name && finite(lit(a).value * lit(b.left).value)) return mul(num(lit(a).value * lit(b.left).value), b.right);
  if (a.key === b.key) return pow(a, num(2));
  if (b.kind === 'bin' && b.op === '/' && isNum(b.left, 1)) return div(a, b.right);
  if (a.kind === 'bin' && a.op === '/' && isNum(a.left, 1)) return div(b, a.right);
  return bin('*', a, b);
}

export function div(a: Node, b: Node): Node {
  if (isNum(b, 1)) return a;
  if (isNum(a, 0) && !isNum(b, 0)) return num(0);
  if (isNum(a) && isNum(b) && !lit(a).name && !lit(b).name && lit(b).value !== 0 && Number.isInteger(lit(a).value / lit(b).value)) return num(lit(a).value / lit(b).value);
  if (a.key === b.key) return num(1);
  if (a.kind === 'neg') return neg(div(a.arg, b));
  if (b.kind === 'neg') return neg(div(a, b.arg));
  return bin('/', a, b);
}

export function pow(a: Node, b: Node): Node {
  if (isNum(b, 1)) return a;
  if (isNum(b, 0)) return num(1);
  if (isNum(a) && isNum(b) && !lit(a).name && !lit(b).name && Number.isInteger(lit(a).value) && Number.isInteger(lit(b).value) && lit(b).value > 0 && finite(lit(a).value ** lit(b).value)) return num(lit(a).value ** lit(b).value);
  if (isNum(a) && lit(a).name === 'e') return call('exp', [b]);
  if (a.kind === 'bin' && a.op === '^' && isNum(a.right) && isNum(b) && Number.isInteger(lit(a.right).value) && Number.isInteger(lit(b).value)) return pow(a.left, num(lit(a.right).value * lit(b).value));
  return bin('^', a, b);
}

/** Calls are built here with their one algebraic identity each; arity is checked by the parser (functions.ts). */
export function call(fn: string, args: readonly Node[]): Node {
  const [u] = args;
  if (fn === 'log' && u.kind === 'call' && u.fn === 'exp') return u.args[0];
  if (fn === 'log' && u.kind === 'bin' && u.op === '+' && isNum(u.left, 1)) return call('log1p', [u.right]);
  if (fn === 'log' && u.kind === 'bin' && u.op === '+' && isNum(u.right, 1)) return call('log1p', [u.left]);
  if (fn === 'log' && u.kind === 'bin' && u.op === '-' && isNum(u.left, 1)) return call('log1p', [neg(u.right)]);
  if (fn === 'log' && isNum(u) && lit(u).name === 'e') return num(1);
  // The stable forms of the logs of a probability: ln σ(u) = −softplus(−u), ln(1 − σ(u)) = −softplus(u).
  if (fn === 'log' && u.kind === 'call' && u.fn === 'sigmoid') return neg(call('softplus', [neg(u.args[0])]));
  if (fn === 'log1p' && u.kind === 'neg' && u.arg.kind === 'call' && u.arg.fn === 'sigmoid') return neg(call('softplus', [u.arg.args[0]]));
  if (fn === 'pow') return pow(args[0], args[1]);
  if (fn === 'ifle' && args[2].key === args[3].key) return args[2];
  if (fn === 'sign' && u.kind === 'call' && u.fn === 'sign') return u;
  if (fn === 'logsumexp' && args.length === 1) return u;
  if (fn === 'eq' && isNum(args[0]) && isNum(args[1])) return num(lit(args[0]).value === lit(args[1]).value ? 1 : 0);
  if ((fn === 'exp' || fn === 'sigmoid' || fn === 'softplus') && isNum(u, 0) && args.length === 1) return num(fn === 'exp' ? 1 : fn === 'sigmoid' ? 0.5 : Math.LN2);
  return { kind: 'call', fn, args, key: `${fn}(${args.map((a) => a.key).join(',')})` };
}

export function binary(op: BinaryOp, a: Node, b: Node): Node {
  switch (op) {
    case '+': return add(a, b);
    case '-': return sub(a, b);
    case '*': return mul(a, b);
    case '/': return div(a, b);
    case '^': return pow(a, b);
  }
}

/** Replaces symbols by trees (e.g. yhat by the model); returns the same node where nothing changes. */
export function substitute(node: Node, by: (name: string) => Node | undefined): Node {
  switch (node.kind) {
    case 'num': return node;
    case 'sym': return by(node.name) ?? node;
    case 'neg': return neg(substitute(node.arg, by));
    case 'bin': return binary(node.op, substitute(node.left, by), substitute(node.right, by));
    case 'call': return call(node.fn, node.args.map((a) => substitute(a, by)));
  }
}

/** Every symbol name in the tree, in first-seen order. */
export function symbols(node: Node): string[] {
  const seen = new Set<string>();
  const visit = (n: Node): void => {
    switch (n.kind) {
      case 'num': break;
      case 'sym': seen.add(n.name); break;
      case 'neg': visit(n.arg); break;
      case 'bin': visit(n.left); visit(n.right); break;
      case 'call': n.args.forEach(visit); break;
    }
  };
  visit(node);
  return [...seen];
}

/** The symbols under each node, computed once per node: derive asks this at every node for every parameter. */
const symbolSets = new WeakMap<Node, ReadonlySet<string>>();

function symbolSet(node: Node): ReadonlySet<string> {
  let set = symbolSets.get(node);
  if (set) return set;
  switch (node.kind) {
    case 'num': set = new Set(); break;
    case 'sym': set = new Set([node.name]); break;
    case 'neg': set = symbolSet(node.arg); break;
    case 'bin': set = new Set([...symbolSet(node.left), ...symbolSet(node.right)]); break;
    case 'call': set = new Set(node.args.flatMap((a) => [...symbolSet(a)])); break;
  }
  symbolSets.set(node, set);
  return set;
}

export function dependsOn(node: Node, name: string): boolean {
  return symbolSet(node).has(name);
}
