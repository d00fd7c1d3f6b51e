// Helpers of the formula tests (test/node/formula-*.test.ts): a plain float64 evaluator of expression trees,
// the kinks of a tree at a point, and fast-check arbitraries of random trees built through the simplifying
// constructors: any tree (for printing and parsing), and domain-safe trees (for derivatives at random points).
import fc from 'fast-check';
import { add, binary, call, div, mul, neg, num, pow, sub, sym, type BinaryOp, type Node } from '../src/formula/ast.ts';
import { FUNCTIONS } from '../src/formula/functions.ts';

export type Env = Readonly<Record<string, number>>;

/**
 * The tree's value: the operators by their definitions, each function by its float64 value in the table;
 * `literal` gives a number's value (heldLiteral: as the generated code holds it).
 */
export function evaluate(n: Node, env: Env, literal: (v: number) => number = (v) => v): number {
  const evaluate_ = (m: Node) => evaluate(m, env, literal);
  switch (n.kind) {
    case 'num': return literal(n.value);
    case 'sym': {
      const v = env[n.name];
      if (v === undefined) throw new Error(`evaluate: no value for ${n.name}`);
      return v;
    }
    case 'neg': return -evaluate_(n.arg);
    case 'bin': {
      const a = evaluate_(n.left);
      const b = evaluate_(n.right);
      switch (n.op) {
        case '+': return a + b;
        case '-': return a - b;
        case '*': return a * b;
        case '/': return a / b;
        case '^': return a ** b;
      }
    }
    // falls through never
    case 'call': return FUNCTIONS[n.fn].value(...n.args.map(evaluate_));
  }
}

/**
 * Where the tree is not differentiable, as signed distances at env: the argument of abs and sign, a − b of
 * min(a, b), max(a, b) and ifle(a, b, ...), |u| − δ of huber(u, δ) (its slope has a kink there). A finite
 * difference is trusted only where none changes sign.
 */
export function kinks(n: Node, env: Env, into: number[] = []): number[] {
  if (n.kind === 'neg') kinks(n.arg, env, into);
  else if (n.kind === 'bin') {
    kinks(n.left, env, into);
    kinks(n.right, env, into);
  } else if (n.kind === 'call') {
    n.args.forEach((a) => kinks(a, env, into));
    if (n.fn === 'abs' || n.fn === 'sign') into.push(evaluate(n.args[0], env));
    if (n.fn === 'min' || n.fn === 'max' || n.fn === 'ifle') into.push(evaluate(n.args[0], env) - evaluate(n.args[1], env));
    if (n.fn === 'huber') into.push(Math.abs(evaluate(n.args[0], env)) - evaluate(n.args[1], env));
  }
  return into;
}

/** Every function name a tree calls. */
export function functionsIn(n: Node, into = new Set<string>()): Set<string> {
  if (n.kind === 'neg') functionsIn(n.arg, into);
  else if (n.kind === 'bin') {
    functionsIn(n.left, into);
    functionsIn(n.right, into);
  } else if (n.kind === 'call') {
    into.add(n.fn);
    n.args.forEach((a) => functionsIn(a, into));
  }
  return into;
}

const OPS: readonly BinaryOp[] = ['+', '-', '*', '/', '^'];

/** Numbers as the printer must write them: integers, decimals, negatives, tiny and huge ones, pi and e. */
const anyNumber: fc.Arbitrary<Node> = fc.oneof(
  fc.integer({ min: -5, max: 9 }).map((v) => num(v)),
  fc.constantFrom(0.5, 0.1, 2.5, -0.75, 1e-7, 3.25e-12, 1e21, 6.02e23, 1 / 3).map((v) => num(v)),
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).map((v) => num(v)),
  fc.constantFrom(num(Math.PI, 'pi'), num(Math.E, 'e')),
);

/** The parser refuses arguments a function's checkArgs rejects (huber's literal δ <= 0): such a threshold is made positive. */
function parsable(fn: string, args: Node[]): Node[] {
  return (fn === 'huber' || fn === 'cauchy') && FUNCTIONS[fn].checkArgs?.(...args) ? [args[0], num(0.5)] : args;
}

/** Any tree over a, b, x1, z_2 and numbers: every operator and every function of the table, arity respected. */
export const anyTree: fc.Arbitrary<Node> = fc.letrec<{ tree: Node }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('a', 'b', 'x1', 'z_2').map(sym),
    anyNumber,
    tie('tree').map(neg),
    fc.tuple(fc.constantFrom(...OPS), tie('tree'), tie('tree')).map(([op, l, r]) => binary(op, l, r)),
    fc.constantFrom(...Object.keys(FUNCTIONS)).chain((fn) =>
      fc.array(tie('tree'), { minLength: FUNCTIONS[fn].arity, maxLength: FUNCTIONS[fn].arity + (FUNCTIONS[fn].variadic ? 3 : 0) }).map((args) => call(fn, parsable(fn, args))),
    ),
  ),
})).tree;

const one = num(1);
const sq = (u: Node) => pow(u, num(2));
/** Positive and moderate wherever u is finite: for log, sqrt, a base of a real power, a denominator. */
const positive = (u: Node, k: number): Node => [add(one, sq(u)), call('exp', [call('sin', [u])]), add(num(0.5), call('softplus', [u])), add(one, call('sigmoid', [u]))][k % 4];

/**
 * Each function applied to arguments inside its domain (log and sqrt of something positive, tan inside
 * (−π/2, π/2)). Every function of the table has an entry: a function added without one fails the derivative
 * test's coverage check.
 */
export const SAFE_CALLS: Readonly<Record<string, (u: Node, v: Node, k: number) => Node>> = {
  exp: (u) => call('exp', [call('sin', [u])]),
  log: (u, _v, k) => call('log', [positive(u, k)]),
  log1p: (u) => call('log1p', [sq(u)]),
  sqrt: (u, _v, k) => call('sqrt', [positive(u, k)]),
  abs: (u) => call('abs', [u]),
  sign: (u, v) => mul(call('sign', [u]), v),
  sin: (u) => call('sin', [u]),
  cos: (u) => call('cos', [u]),
  tan: (u) => call('tan', [div(call('atan', [u]), num(2))]),
  atan: (u) => call('atan', [u]),
  tanh: (u) => call('tanh', [u]),
  sigmoid: (u) => call('sigmoid', [u]),
  softplus: (u) => call('softplus', [u]),
  min: (u, v) => call('min', [u, v]),
  max: (u, v) => call('max', [u, v]),
  huber: (u, v, k) => call('huber', [u, positive(v, k)]),
  cauchy: (u, v, k) => call('cauchy', [u, positive(v, k)]),
  pow: (u, v, k) => call('pow', [positive(u, k), call('sin', [v])]),
  ifle: (u, v) => call('ifle', [u, v, mul(u, v), sub(u, v)]),
  // Two to four arguments (logsumexp of one is its argument): the chain rule runs through each.
  logsumexp: (u, v, k) => call('logsumexp', [u, v, call('sin', [u]), mul(num(2), v)].slice(0, 2 + (k % 3))),
  // eq of continuous arguments is 0 almost everywhere: compared with a constant sign, both of its values occur.
  eq: (u, v, k) => mul(call('eq', [call('sign', [u]), num(k % 2 ? 1 : -1)]), v),
  xlogy: (u, v, k) => call('xlogy', [u, positive(v, k)]),
};

/** Operators with arguments in their domain: a quotient by something positive, integer and real powers. */
const SAFE_OPS: ReadonlyArray<(u: Node, v: Node, k: number) => Node> = [
  (u, v) => add(u, v),
  (u, v) => sub(u, v),
  (u, v) => mul(u, v),
  (u, v, k) => div(u, positive(v, k)),
  (u) => sq(u),
  (u) => pow(u, num(3)),
  (u, _v, k) => pow(positive(u, k), num(-2)),
  (u, _v, k) => pow(positive(u, k), num(0.5)),
  (u) => neg(u),
];

/**
 * Trees of x and z (and named constants) that are finite at every point of [−2, 2]² and stay moderate: each
 * function's argument is made safe as in SAFE_CALLS. Depth at most `depth` applications.
 */
export function safeTree(depth: number): fc.Arbitrary<Node> {
  const leaf = fc.oneof(
    fc.constantFrom(sym('x'), sym('z'), sym('x'), sym('z')),
    fc.constantFrom(-2, -1, 0.5, 1.5, 3).map((v) => num(v)),
    fc.constant(num(Math.PI, 'pi')),
  );
  if (depth === 0) return leaf;
  const inner = safeTree(depth - 1);
  const k = fc.nat(3);
  return fc.oneof(
    { weight: 1, arbitrary: leaf },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...Object.keys(SAFE_CALLS)), inner, inner, k).map(([fn, u, v, i]) => SAFE_CALLS[fn](u, v, i)) },
    { weight: 3, arbitrary: fc.tuple(fc.nat(SAFE_OPS.length - 1), inner, inner, k).map(([op, u, v, i]) => SAFE_OPS[op](u, v, i)) },
  );
}
