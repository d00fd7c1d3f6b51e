// Derivatives by the rules (src/formula/derive.ts) checked three ways: against central finite differences at
// random points of random trees, against mathjs's independent derivative(), and on the paper example's
// derivation text. Then the named losses (losses.ts): their derivatives, values, stability and subgradients.
import fc from 'fast-check';
import { create, all, type MathNode } from 'mathjs';
import { describe, expect, it } from 'vitest';
import { call, sym, type Node } from '../../src/formula/ast.ts';
import { derive } from '../../src/formula/derive.ts';
import { FUNCTIONS } from '../../src/formula/functions.ts';
import { NAMED_LOSSES, parseLoss } from '../../src/formula/losses.ts';
import { compileFormula, derivation } from '../../src/formula/model.ts';
import { parseExpression } from '../../src/formula/parse.ts';
import { print } from '../../src/formula/print.ts';
import { gradientProgram } from '../../src/formula/program.ts';
import { compileRowSums } from '../../src/formula/emit-js.ts';
import { SAFE_CALLS, evaluate, functionsIn, kinks, safeTree, type Env } from '../formula-trees.ts';

const math = create(all);

// Central differences with Richardson extrapolation, R = (4 D(h/2) − D(h)) / 3 with h = 1e-4 max(1, |v|):
// truncation error ~ h^4 |f^(5)| / 480 ~ 2e-19 |f^(5)|, rounding ~ 3 eps |f| / h ~ 7e-12 |f|. Random trees reach
// |f^(5)| ~ 1e8 (exp(sin(u^3)) at u = 3.5: each derivative multiplies by ~3u^2 ~ 40), so both stay near 1e-11
// (1 + |f|); a wrong rule (a missing chain factor, a sign) is O(1) relative. 1e-7 leaves room between the two.
// Some random trees oscillate too fast for any step (sin(x^9)): the disagreement of the estimates at h and h/2
// detects those points, which are skipped (checkPartial).
const FD_REL_TOL = 1e-7;
/** Trees whose value or slope exceeds this at a point are skipped there: the error bound above assumes moderate sizes. */
const MODERATE = 1e6;

/** Richardson-extrapolated central differences at steps h and h/2: the estimate, and their disagreement as its error. */
function centralDifference(f: (v: number) => number, v: number): { value: number; error: number } {
  const h = 1e-4 * Math.max(1, Math.abs(v));
  const d = (s: number) => (f(v + s) - f(v - s)) / (2 * s);
  const [d1, d2, d4] = [d(h), d(h / 2), d(h / 4)];
  const coarse = (4 * d2 - d1) / 3;
  const fine = (4 * d4 - d2) / 3;
  return { value: fine, error: Math.abs(fine - coarse) };
}

/** The points a central difference at v evaluates. */
function stencil(v: number): number[] {
  const h = 1e-4 * Math.max(1, Math.abs(v));
  return [v - h, v - h / 2, v - h / 4, v, v + h / 4, v + h / 2, v + h];
}

type Check = { ok: true } | { ok: false; skipped: true } | { ok: false; skipped: false; message: string };

/**
 * derive(t, v) at env against the finite difference in v. Skipped where a kink of abs/sign/min/max/ifle lies
 * inside the stencil (its argument changes sign, or is zero, at one of the points): there the difference
 * straddles two pieces and says nothing about either one's derivative. Skipped too where values are not moderate.
 */
function checkPartial(t: Node, v: string, env: Env): Check {
  const at = (s: number) => ({ ...env, [v]: s });
  for (const s of stencil(env[v])) {
    const here = kinks(t, at(s));
    const there = kinks(t, env);
    if (here.some((k, i) => k === 0 || Math.sign(k) !== Math.sign(there[i]))) return { ok: false, skipped: true };
  }
  const f = evaluate(t, env);
  const analytic = evaluate(derive(t, v), env);
  const { value: numeric, error } = centralDifference((s) => evaluate(t, at(s)), env[v]);
  if (![f, analytic, numeric].every((x) => Number.isFinite(x) && Math.abs(x) <= MODERATE)) return { ok: false, skipped: true };
  const tol = FD_REL_TOL * (1 + Math.abs(f) + Math.abs(numeric));
  // Where the two step sizes disagree by a tenth of the tolerance the difference itself is not to be trusted
  // (sin(x^9) near x = 1.5 turns every ~0.01): such points are skipped, not failed.
  if (error > tol / 10) return { ok: false, skipped: true };
  if (Math.abs(analytic - numeric) <= tol) return { ok: true };
  return { ok: false, skipped: false, message: `d/d${v} ${print(t)} at ${JSON.stringify(env)}: rules ${analytic}, differences ${numeric} (tol ${tol.toExponential(1)}); derivative ${print(derive(t, v))}` };
}

// Uniform on a fine grid of [−2, 2]: fc.double favours 0, ±0 and the bounds, which are the kinks of abs(x), min(x, z)...
const coordinate = fc.integer({ min: -2_000_000, max: 2_000_000 }).map((i) => i / 1_000_000 + 1e-7 * Math.SQRT2);
const point = fc.record({ x: coordinate, z: coordinate }).map((p) => ({ ...p }));

describe('rules against central finite differences', () => {
  it('every function of the table has a domain-safe test entry', () => {
    expect(Object.keys(SAFE_CALLS).sort()).toEqual(Object.keys(FUNCTIONS).sort());
  });

  // Each function alone, at 200 random points, applied to an inner function of x and z (so the chain rule runs).
  it.each(Object.keys(FUNCTIONS))('%s', (fn) => {
    const inner = [sym('x'), call('sin', [sym('x')]), parseExpression('x*z - 0.3'), parseExpression('x^2/3 + z')];
    const trees = inner.flatMap((u) => [0, 1, 2, 3].map((k) => SAFE_CALLS[fn](u, parseExpression('z - x/2'), k)));
    let checked = 0;
    fc.assert(
      fc.property(point, fc.nat(trees.length - 1), (env, i) => {
        for (const v of ['x', 'z']) {
          const r = checkPartial(trees[i], v, env);
          if (!r.ok && !r.skipped) throw new Error(r.message);
          if (r.ok) checked++;
        }
      }),
      { numRuns: 200 },
    );
    // Kinks are rare at random points: most checks must have run.
    expect(checked).toBeGreaterThan(300);
  });

  it('random trees of every rule and function, at random points', () => {
    let checked = 0;
    let skipped = 0;
    fc.assert(
      fc.property(safeTree(4), point, (t, env) => {
        for (const v of ['x', 'z']) {
          const r = checkPartial(t, v, env);
          if (!r.ok && !r.skipped) throw new Error(r.message);
          if (r.ok) checked++;
          else skipped++;
        }
      }),
      { numRuns: 1500 },
    );
    expect(checked).toBeGreaterThan(4 * skipped);
  });

  it('subgradients: abs at 0 is 0, min and max at a tie take the first argument', () => {
    const at = (text: string, v: string, env: Env) => evaluate(derive(parseExpression(text), v), env);
    expect(at('abs(x)', 'x', { x: 0 })).toBe(0);
    expect(at('abs(x - z)', 'x', { x: 1, z: 1 })).toBe(0);
    expect(at('sign(x)', 'x', { x: 0 })).toBe(0);
    for (const fn of ['min', 'max']) {
      expect(at(`${fn}(x, z)`, 'x', { x: 1, z: 1 }), fn).toBe(1);
      expect(at(`${fn}(x, z)`, 'z', { x: 1, z: 1 }), fn).toBe(0);
      expect(at(`${fn}(2*x, z)`, 'x', { x: 1, z: 2 }), fn).toBe(2);
      expect(at(`${fn}(z, 3*x)`, 'x', { x: 1, z: 3 }), fn).toBe(0);
    }
    expect(at('min(x, z)', 'x', { x: 0.5, z: 1 })).toBe(1);
    expect(at('max(x, z)', 'x', { x: 0.5, z: 1 })).toBe(0);
  });
});

// mathjs's derivative() knows none of sigmoid, softplus, log1p, logsumexp and xlogy (they are rewritten below in its
// terms, naively: log(1 + exp(u)) overflows where our softplus does not, and such points are skipped), and
// cannot differentiate min, max, sign, eq, ifle or huber (made of min) at all ("the function is not
// supported"): trees with those are left to the finite differences above. Its abs rule is abs(u)/u, undefined at u = 0, where the kink check of
// the finite differences also keeps these points away.
const MATHJS_UNSUPPORTED = ['min', 'max', 'sign', 'ifle', 'eq', 'huber'];
const MATHJS_REWRITE: Readonly<Record<string, (...u: string[]) => string>> = {
  sigmoid: (u) => `1 / (1 + exp(-(${u})))`,
  softplus: (u) => `log(1 + exp(${u}))`,
  log1p: (u) => `log(1 + (${u}))`,
  logsumexp: (...u) => `log(${u.map((a) => `exp(${a})`).join(' + ')})`,
  xlogy: (u, a) => `(${u}) * log(${a})`,
  cauchy: (u, c) => `(${c})^2 / 2 * log(1 + ((${u}) / (${c}))^2)`,
};

/**
 * Whether a rewritten function would overflow inside mathjs at env (exp of an argument past ~709) while ours stays
 * finite: log(1 + exp(u)) is Infinity there, and an expression around it can still end finite (a quotient by it
 * is 0), so mathjs's value would be wrong rather than not finite.
 */
function overflowsInMathjs(n: Node, env: Record<string, number>): boolean {
  if (n.kind === 'neg') return overflowsInMathjs(n.arg, env);
  if (n.kind === 'bin') return overflowsInMathjs(n.left, env) || overflowsInMathjs(n.right, env);
  if (n.kind !== 'call') return false;
  if ((n.fn === 'softplus' || n.fn === 'logsumexp') && n.args.some((a) => evaluate(a, env) > 700)) return true;
  return n.args.some((a) => overflowsInMathjs(a, env));
}

/** Our printed formula parsed by mathjs, with our function names rewritten as mathjs expressions. */
function toMathjs(text: string): MathNode {
  const rewrite = (n: MathNode): MathNode => {
    const mapped = n.map((c) => rewrite(c));
    if (mapped.type === 'FunctionNode') {
      const f = mapped as unknown as { fn: { name: string }; args: MathNode[] };
      const r = MATHJS_REWRITE[f.fn.name];
      if (r) return math.parse(r(...f.args.map((a) => a.toString({ parenthesis: 'all' }))));
    }
    return mapped;
  };
  return rewrite(math.parse(text));
}

describe('rules against mathjs derivative()', () => {
  it('random trees without min, max, sign, ifle: the same partials at random points', () => {
    let compared = 0;
    fc.assert(
      fc.property(safeTree(4), point, (t, env) => {
        const fns = functionsIn(t);
        if (MATHJS_UNSUPPORTED.some((f) => fns.has(f))) return;
        if (kinks(t, env).some((k) => Math.abs(k) < 1e-9)) return;
        if (overflowsInMathjs(t, env)) return;
        const theirs = toMathjs(print(t));
        const theirValue = theirs.evaluate({ ...env }) as number;
        // log(1 + exp(u)) overflows past u ~ 710 where our softplus does not: nothing to compare there.
        if (!Number.isFinite(theirValue)) return;
        expect(theirValue, `value of ${print(t)}`).toBeCloseTo(evaluate(t, env), 6);
        for (const v of ['x', 'z']) {
          const ours = evaluate(derive(t, v), env);
          const ref = math.derivative(theirs, v, { simplify: false }).evaluate({ ...env }) as number;
          if (!Number.isFinite(ours) || Math.abs(ours) > MODERATE || !Number.isFinite(ref)) continue;
          // Two exact derivatives of the same function in float64: they differ by rounding only.
          expect(Math.abs(ours - ref), `d/d${v} ${print(t)} at ${JSON.stringify(env)}: ours ${ours}, mathjs ${ref}`).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(ref)));
          compared++;
        }
      }),
      { numRuns: 600 },
    );
    expect(compared).toBeGreaterThan(300);
  });

  it('every function mathjs can differentiate, one by one', () => {
    for (const fn of Object.keys(FUNCTIONS).filter((f) => !MATHJS_UNSUPPORTED.includes(f))) {
      const t = SAFE_CALLS[fn](parseExpression('x*z - 0.3'), parseExpression('z - x/2'), 0);
      const theirs = toMathjs(print(t));
      for (const env of [{ x: 0.7, z: -1.3 }, { x: -1.1, z: 0.4 }]) {
        for (const v of ['x', 'z']) {
          const ref = math.derivative(theirs, v).evaluate(env) as number;
          expect(evaluate(derive(t, v), env), `${fn}: d/d${v} ${print(t)}`).toBeCloseTo(ref, 10);
        }
      }
    }
  });
});

describe('the derivation of y ~ b1*(1-exp(-b2*x)) with mse', () => {
  const m = compileFormula({ formula: 'y ~ b1*(1-exp(-b2*x))', loss: 'mse' }, { columns: ['x', 'y'] });
  const d = derivation(m);

  it('names the rules it used', () => {
    expect(d.params.map((p) => p.name)).toEqual(['b1', 'b2']);
    const rules = (name: string) => d.params.find((p) => p.name === name)!.steps.map((s) => s.rule);
    expect(rules('b1')).toContain('constant multiple');
    const b2 = rules('b2');
    expect(b2).toContain('constant multiple');
    expect(b2).toContain('difference rule');
    expect(b2.some((r) => /^exponential rule/.test(r) && /chain rule$/.test(r)), b2.join('; ')).toBe(true);
    // Steps go from the inside out: the exponential before the difference that contains it.
    expect(b2.findIndex((r) => r.startsWith('exponential'))).toBeLessThan(b2.indexOf('difference rule'));
    expect(d.loss.steps.map((s) => s.rule)).toEqual(['difference rule', 'power rule']);
  });

  it('ends at 1 - exp(-b2*x) and b1*exp(-b2*x)*x', () => {
    const [db1, db2] = d.params.map((p) => p.dModel);
    const want1 = parseExpression('1 - exp(-b2*x)');
    const want2 = parseExpression('b1*exp(-b2*x)*x');
    fc.assert(
      fc.property(fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: -2, max: 2, noNaN: true }), fc.double({ min: -5, max: 5, noNaN: true }), (b1, b2, x) => {
        const env = { b1, b2, x };
        // Products in another order: equal up to a few roundings, relative.
        for (const [got, want] of [[db1, want1], [db2, want2]]) {
          const w = evaluate(want, env);
          expect(Math.abs(evaluate(got, env) - w), print(got)).toBeLessThanOrEqual(1e-13 * (1 + Math.abs(w)));
        }
      }),
    );
    expect(evaluate(d.loss.result, { yhat: 3, y: 1 })).toBe(4);
  });
});

describe('named losses', () => {
  /** (yhat, y) pairs inside each loss's domain. */
  const grid = (lo: number, hi: number) => fc.integer({ min: 0, max: 1_000_000 }).map((i) => lo + ((hi - lo) * (i + 0.5)) / 1_000_001);
  const domain: Record<string, fc.Arbitrary<{ yhat: number; y: number }>> = {
    poisson: fc.record({ yhat: grid(0.05, 20), y: fc.integer({ min: 0, max: 30 }) }),
    'cross-entropy': fc.record({ yhat: grid(0.01, 0.99), y: grid(0, 1) }),
    logistic: fc.record({ yhat: grid(-30, 30), y: fc.constantFrom(0, 1, 0.3) }),
  };
  const anywhere = fc.record({ yhat: grid(-10, 10), y: grid(-10, 10) });

  it.each(Object.keys(NAMED_LOSSES).flatMap((name) => (NAMED_LOSSES[name].arg ? [name, `${name}:0.3`, `${name}:2`].filter((s) => name !== 'quantile' || !s.endsWith(':2')) : [name])))(
    '%s: dℓ/dyhat against finite differences in yhat',
    (text) => {
      const loss = parseLoss(text);
      const dl = derive(loss.tree, 'yhat');
      let checked = 0;
      fc.assert(
        fc.property(domain[loss.name] ?? anywhere, (env) => {
          const r = checkPartial(loss.tree, 'yhat', env);
          if (!r.ok && !r.skipped) throw new Error(r.message);
          if (r.ok) checked++;
          expect(Number.isFinite(evaluate(dl, env))).toBe(true);
        }),
        { numRuns: 300 },
      );
      expect(checked).toBeGreaterThan(250);
    },
  );

  it('huber is r²/2 within δ and δ(|r| − δ/2) beyond', () => {
    for (const delta of [1, 0.5, 2.5]) {
      const tree = parseLoss(delta === 1 ? 'huber' : `huber:${delta}`).tree;
      for (const r of [-7, -2.5, -1, -0.3, 0, 0.2, 0.5, 1, 2.4, 9]) {
        const want = Math.abs(r) <= delta ? (r * r) / 2 : delta * (Math.abs(r) - delta / 2);
        expect(evaluate(tree, { yhat: 1 + r, y: 1 }), `δ = ${delta}, r = ${r}`).toBeCloseTo(want, 12);
      }
    }
  });

  it("huber's own rule agrees with the product rule on its piecewise form, in u and in δ, ties included", () => {
    const own = parseExpression('huber(x, z)');
    const piecewise = parseExpression('min(abs(x), z) * (abs(x) - min(abs(x), z) / 2)');
    for (const z of [0.5, 1, 2.5]) {
      for (const x of [-7, -2.5, -z, -1, -0.3, 0, 0.2, 0.5, z, 1, 2.4, 9]) {
        for (const v of ['x', 'z']) {
          const env = { x, z };
          expect(evaluate(derive(own, v), env), `d/d${v} at x = ${x}, δ = ${z}`).toBeCloseTo(evaluate(derive(piecewise, v), env), 12);
        }
        expect(evaluate(own, { x, z })).toBeCloseTo(evaluate(piecewise, { x, z }), 12);
      }
    }
  });

  it("cauchy's own rule agrees with the product rule on its naive form, in u and in c, and is finite where (u/c)² overflows", () => {
    const own = parseExpression('cauchy(x, z)');
    const naive = parseExpression('z^2 / 2 * log(1 + (x / z)^2)');
    for (const z of [0.3, 1, 2.5]) {
      for (const x of [-7, -2.5, -z, -0.3, 0, 0.2, z, 2.4, 9, 1e3]) {
        const env = { x, z };
        expect(evaluate(own, env), `at x = ${x}, c = ${z}`).toBeCloseTo(evaluate(naive, env), 12);
        for (const v of ['x', 'z']) expect(evaluate(derive(own, v), env), `d/d${v} at x = ${x}, c = ${z}`).toBeCloseTo(evaluate(derive(naive, v), env), 12);
      }
    }
    // Past |u/c| ~ 1.3e154, (u/c)² overflows float64 (float32's edge, 1.8e19, is the GPU's): the naive form is ∞.
    const env = { x: 1e160, z: 2 };
    expect(evaluate(naive, env)).toBe(Infinity);
    expect(evaluate(own, env)).toBeCloseTo(4 * Math.log(5e159), 10);
    expect(evaluate(derive(own, 'x'), env)).toBe(0);
    expect(evaluate(derive(own, 'z'), env)).toBeCloseTo(2 * evaluate(own, env) / 2 - 2, 10);
  });

  it('quantile is the pinball loss', () => {
    for (const tau of [0.1, 0.5, 0.9]) {
      const tree = parseLoss(`quantile:${tau}`).tree;
      for (const r of [-3, -0.5, 0, 0.25, 4]) {
        // r = y − yhat: τ r above the prediction, (τ − 1) r below.
        const want = r >= 0 ? tau * r : (tau - 1) * r;
        expect(evaluate(tree, { yhat: 2 - r, y: 2 }), `τ = ${tau}, r = ${r}`).toBeCloseTo(want, 12);
      }
    }
  });

  it('logcosh is log(cosh(r)), and finite at r = 1000 where cosh overflows', () => {
    const tree = parseLoss('logcosh').tree;
    for (const r of [-5, -1, -0.01, 0, 0.3, 2, 20]) expect(evaluate(tree, { yhat: r, y: 0 })).toBeCloseTo(Math.log(Math.cosh(r)), 12);
    expect(Math.log(Math.cosh(1000))).toBe(Infinity);
    // log cosh r = |r| − ln 2 + log(1 + e^(−2|r|)): exactly |r| − ln 2 in float64 at r = 1000.
    expect(evaluate(tree, { yhat: 1000, y: 0 })).toBeCloseTo(1000 - Math.LN2, 10);
    expect(evaluate(tree, { yhat: -1000, y: 0 })).toBeCloseTo(1000 - Math.LN2, 10);
    expect(evaluate(derive(tree, 'yhat'), { yhat: 1000, y: 0 })).toBeCloseTo(1, 12);
  });

  it('cross-entropy of a sigmoid model stays finite at logits ±100 (the stable composed form)', () => {
    const m = compileFormula({ formula: 'y ~ sigmoid(a*x + b)', loss: 'cross-entropy' }, { columns: ['x', 'y'] });
    const sums = compileRowSums(gradientProgram(m));
    for (const [logit, y] of [[100, 0], [-100, 1], [100, 1], [-100, 0]]) {
      const out = new Float64Array(3);
      // a*x + b = logit with x = 1, a = logit − 0.5, b = 0.5.
      sums([logit - 0.5, 0.5], [1], [y], 0, 1, out);
      expect(out.every(Number.isFinite), `logit ${logit}, y ${y}: ${out}`).toBe(true);
      // ℓ = softplus(z) − y z; dℓ/dz = σ(z) − y, times x = 1 for a and 1 for b.
      const wrong = (logit > 0) !== (y === 1);
      expect(out[2]).toBeCloseTo(wrong ? 100 : 0, 10);
      const g = (logit > 0 ? 1 : 0) - y;
      expect(out[0]).toBeCloseTo(g, 10);
      expect(out[1]).toBeCloseTo(g, 10);
    }
    // Through the uncomposed form, log(σ(−100)) would be log of 3.7e-44 (fine) but 1 − σ(100) is 0: log(0).
    expect(evaluate(parseLoss('cross-entropy').tree, { yhat: FUNCTIONS.sigmoid.value(100), y: 0 })).toBe(Infinity);
  });
});
