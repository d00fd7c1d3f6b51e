// The one table of functions a formula may call: per function its arity, its value (float64), its
// derivative rule (the derivative of f at u, to be multiplied by du by the chain rule), the rule's name for
// the derivation text, and its spelling in JavaScript and WGSL. Numerically fragile functions are spelled
// through stable helpers (WGSL_HELPERS, JS_HELPERS; a function of any number of arguments brings its WGSL
// helper per argument count, wgslHelper, since WGSL has no variadic functions). Adding a function means one
// entry here and its test.
import { add, call, div, mul, neg, num, pow, sub, type Node } from './ast.ts';

export interface FunctionRule {
  /** The number of arguments; the least number where `variadic`. */
  arity: number;
  variadic?: boolean;
  /** Float64 value; the JS emitter and the constant folder use it. */
  value: (...a: number[]) => number;
  /**
   * Partial derivatives of f with respect to each argument, as trees of the arguments; the chain rule
   * multiplies each by its argument's derivative. A subgradient where f has no derivative is stated in `note`.
   * Absent for the piecewise functions (min, max, ifle), pow and xlogy, whose rules derive.ts spells out.
   */
  partials?: (...a: Node[]) => Node[];
  rule: string;
  note?: string;
  js: (...a: string[]) => string;
  wgsl: (...a: string[]) => string;
  /** What is wrong with arguments the parser can judge (a literal outside the domain), or null. */
  checkArgs?: (...a: Node[]) => string | null;
  /** The WGSL function that `wgsl` calls for `count` arguments, where it is not in WGSL_HELPERS. */
  wgslHelper?: (count: number) => string;
}

const sigmoid64 = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
const softplus64 = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
const f1 = (name: string) => (a: string) => `${name}(${a})`;
/**
 * min(|u|, δ)(|u| − min(|u|, δ)/2): u²/2 within δ of 0, δ(|u| − δ/2) beyond. Defined for δ > 0 only: a δ that
 * training moves to 0 or below (a parameter) makes it NaN, a divergence, as a log of a negative number does.
 */
const huber64 = (u: number, d: number) => {
  if (!(d > 0)) return NaN;
  const a = Math.abs(u);
  const m = Math.min(a, d);
  return m * (a - 0.5 * m);
};

/**
 * (c²/2) ln(1 + (u/c)²), the Cauchy (Lorentzian) loss of a residual u at scale c > 0. Beyond |u/c| = 1 it is
 * taken as c²(ln|u/c| + ln(1 + (c/u)²)/2), so that (u/c)² never overflows: in float32 it would past |u/c| ~ 1.8e19,
 * where the loss is still a modest c²·44. NaN for c <= 0, as huber's δ.
 */
const cauchy64 = (u: number, c: number) => {
  if (!(c > 0)) return NaN;
  const t = Math.abs(u / c);
  return t <= 1 ? 0.5 * c * c * Math.log1p(t * t) : c * c * (Math.log(t) + 0.5 * Math.log1p(1 / (t * t)));
};

/** log Σ e^{a_k} with the largest a_k taken out first, so that no exp overflows (float64). */
function logSumExp64(...a: number[]): number {
  let m = -Infinity;
  for (const v of a) m = Math.max(m, v);
  if (!Number.isFinite(m)) return m; // all −∞ (or one +∞, or a NaN): a − m would be NaN
  let s = 0;
  for (const v of a) s += Math.exp(v - m);
  return m + Math.log(s);
}

/** WGSL's log-sum-exp over `count` values, passed as one array (a function of K parameters would be unwieldy for large K). */
function logSumExpWgsl(count: number): string {
  return `
fn nabla_logsumexp${count}(values: array<f32, ${count}>) -> f32 {
  // The largest value taken out first: every exp() argument is <= 0, so none overflows.
  var v = values;
  var m = v[0];
  for (var k = 1u; k < ${count}u; k = k + 1u) {
    m = max(m, v[k]);
  }
  var s = 0.0;
  for (var k = 0u; k < ${count}u; k = k + 1u) {
    s = s + exp(v[k] - m);
  }
  return m + log(s);
}
`;
}

export const FUNCTIONS: Readonly<Record<string, FunctionRule>> = {
  exp: { arity: 1, value: Math.exp, partials: (u) => [call('exp', [u])], rule: 'exponential rule: (e^u)\' = e^u u\'', js: f1('Math.exp'), wgsl: f1('exp') },
  log: { arity: 1, value: Math.log, partials: (u) => [div(num(1), u)], rule: 'logarithm rule: (ln u)\' = u\'/u', js: f1('Math.log'), wgsl: f1('nabla_log') },
  log1p: { arity: 1, value: Math.log1p, partials: (u) => [div(num(1), add(num(1), u))], rule: 'logarithm rule: (ln(1+u))\' = u\'/(1+u)', js: f1('Math.log1p'), wgsl: f1('nabla_log1p') },
  sqrt: { arity: 1, value: Math.sqrt, partials: (u) => [div(num(1), mul(num(2), call('sqrt', [u])))], rule: 'power rule: (√u)\' = u\'/(2√u)', js: f1('Math.sqrt'), wgsl: f1('nabla_sqrt') },
  abs: {
    arity: 1, value: Math.abs, partials: (u) => [call('sign', [u])], rule: 'absolute value: |u|\' = sign(u) u\'',
    note: 'at u = 0 the subgradient 0 is taken', js: f1('Math.abs'), wgsl: f1('abs'),
  },
  sign: { arity: 1, value: Math.sign, partials: () => [num(0)], rule: 'sign is constant where it has a derivative (0 taken at u = 0)', js: f1('Math.sign'), wgsl: f1('sign') },
  sin: { arity: 1, value: Math.sin, partials: (u) => [call('cos', [u])], rule: 'sine rule: (sin u)\' = cos(u) u\'', js: f1('Math.sin'), wgsl: f1('nabla_sin') },
  cos: { arity: 1, value: Math.cos, partials: (u) => [neg(call('sin', [u]))], rule: 'cosine rule: (cos u)\' = −sin(u) u\'', js: f1('Math.cos'), wgsl: f1('nabla_cos') },
  tan: { arity: 1, value: Math.tan, partials: (u) => [add(num(1), pow(call('tan', [u]), num(2)))], rule: 'tangent rule: (tan u)\' = (1 + tan²u) u\'', js: f1('Math.tan'), wgsl: f1('nabla_tan') },
  atan: { arity: 1, value: Math.atan, partials: (u) => [div(num(1), add(num(1), pow(u, num(2))))], rule: 'arctangent rule: (atan u)\' = u\'/(1 + u²)', js: f1('Math.atan'), wgsl: f1('atan') },
  tanh: { arity: 1, value: Math.tanh, partials: (u) => [sub(num(1), pow(call('tanh', [u]), num(2)))], rule: 'tanh rule: (tanh u)\' = (1 − tanh²u) u\'', js: f1('Math.tanh'), wgsl: f1('nabla_tanh') },
  sigmoid: {
    arity: 1, value: sigmoid64, partials: (u) => [mul(call('sigmoid', [u]), sub(num(1), call('sigmoid', [u])))],
    rule: 'logistic rule: σ(u)\' = σ(u)(1 − σ(u)) u\'', js: f1('nabla_sigmoid'), wgsl: f1('nabla_sigmoid'),
  },
  softplus: { arity: 1, value: softplus64, partials: (u) => [call('sigmoid', [u])], rule: 'softplus rule: (ln(1 + e^u))\' = σ(u) u\'', js: f1('nabla_softplus'), wgsl: f1('nabla_softplus') },
  min: {
    arity: 2, value: Math.min,
    rule: 'minimum: the derivative of the smaller argument', note: 'at a tie, the first argument\'s derivative', js: (a, b) => `Math.min(${a}, ${b})`, wgsl: (a, b) => `min(${a}, ${b})`,
  },
  max: {
    arity: 2, value: Math.max,
    rule: 'maximum: the derivative of the larger argument', note: 'at a tie, the first argument\'s derivative', js: (a, b) => `Math.max(${a}, ${b})`, wgsl: (a, b) => `max(${a}, ${b})`,
  },
  // Huber's function of a residual u: quadratic within δ > 0, linear beyond. Its own rule gives u clipped to
  // [−δ, δ], one max and one min; the piecewise product it equals, min(|u|, δ)(|u| − min(|u|, δ)/2), comes
  // out of the product rule as two branches that agree (an abs, a sign, a select and five more operations a row).
  huber: {
    arity: 2, value: huber64,
    partials: (u, d) => [call('max', [call('min', [u, d]), neg(d)]), call('max', [sub(call('abs', [u]), d), num(0)])],
    rule: 'Huber rule: ∂/∂u huber(u, δ) = max(min(u, δ), −δ) u\', ∂/∂δ = max(|u| − δ, 0) δ\'',
    js: (u, d) => `nabla_huber(${u}, ${d})`, wgsl: (u, d) => `nabla_huber(${u}, ${d})`,
    checkArgs: (_u, d) => (d.kind === 'num' && !(d.value > 0) ? `huber(u, δ) needs a positive δ, got ${d.value}` : null),
  },
  // The Cauchy loss of a residual u at scale c, its value spelled stably (cauchy64). The slope in u,
  // u/(1 + (u/c)²), only underflows to 0 where (u/c)² overflows. The slope in c, c ln(1 + t²) − c t²/(1 + t²)
  // with t = u/c, is written through the value itself and t²/(1 + t²) as 1/(1 + (c/u)²): finite wherever the
  // value is, and without 1 − 1/(1 + t²), which loses every digit of a small t.
  cauchy: {
    arity: 2, value: cauchy64,
    partials: (u, c) => [
      div(u, add(num(1), pow(div(u, c), num(2)))),
      sub(div(mul(num(2), call('cauchy', [u, c])), c), div(c, add(num(1), pow(div(c, u), num(2))))),
    ],
    rule: 'Cauchy rule: ∂/∂u cauchy(u, c) = u/(1 + (u/c)²) u\', ∂/∂c = (2 cauchy(u, c)/c − c/(1 + (c/u)²)) c\'',
    js: (u, c) => `nabla_cauchy(${u}, ${c})`, wgsl: (u, c) => `nabla_cauchy(${u}, ${c})`,
    checkArgs: (_u, c) => (c.kind === 'num' && !(c.value > 0) ? `cauchy(u, c) needs a positive c, got ${c.value}` : null),
  },
  // ∂/∂u_k log Σ e^{u_j} = e^{u_k − logsumexp(u)}: the softmax, each term <= 1. The partials share one
  // logsumexp node (its key is as long as all K keys), and the emitted program computes it once for all.
  logsumexp: {
    arity: 1, variadic: true, value: logSumExp64,
    partials: (...u) => {
      const lse = call('logsumexp', u);
      return u.map((uk) => call('exp', [sub(uk, lse)]));
    },
    rule: 'log-sum-exp rule: ∂/∂u_k ln Σ_j e^(u_j) = e^(u_k − logsumexp(u)) u_k\'',
    js: (...a) => `nabla_logsumexp(${a.join(', ')})`,
    wgsl: (...a) => `nabla_logsumexp${a.length}(array<f32, ${a.length}>(${a.join(', ')}))`,
    wgslHelper: logSumExpWgsl,
  },
  // The indicator [a = b] (Iverson's bracket): 1 where a equals b, else 0, e.g. eq(y, 3) picks class 3's term.
  // Compared in float32, the data's precision, on every device: eq(z, 0.1) holds where z was written 0.1.
  eq: {
    arity: 2, value: (a, b) => (Math.fround(a) === Math.fround(b) ? 1 : 0), partials: () => [num(0), num(0)],
    rule: 'indicator: [a = b] is constant where it has a derivative', note: 'at a = b, where it jumps, the derivative 0 is taken',
    js: (a, b) => `(Math.fround(${a}) === Math.fround(${b}) ? 1 : 0)`, wgsl: (a, b) => `select(0.0, 1.0, ${a} == ${b})`,
  },
  pow: { arity: 2, value: Math.pow, rule: 'power rule', js: (a, b) => `Math.pow(${a}, ${b})`, wgsl: (a, b) => `nabla_pow(${a}, ${b})` },
  // ifle(a, b, p, q) = p where a <= b, else q: what the derivatives of min and max are made of. Compared at
  // the device's precision, as min and max themselves are, so that the branch is the one the value took.
  ifle: {
    arity: 4, value: (a, b, p, q) => (a <= b ? p : q),
    rule: 'piecewise: the derivative of the branch taken', js: (a, b, p, q) => `(${a} <= ${b} ? ${p} : ${q})`, wgsl: (a, b, p, q) => `select(${q}, ${p}, ${a} <= ${b})`,
  },
  // u·ln(a), and 0 where u = 0 even at a = 0: the exponential rule's factor a^b·ln(a), whose limit as a → 0
  // (b > 0) is 0, so that d/dp x^p is 0 on a row where x = 0, not 0·(−∞).
  // Its rule keeps the convention (derive.ts spells it out): (u ln a)' = xlogy(u', a) + (u/a) a', the last
  // term 0 where u = 0, so that the Poisson deviance xlogy(y, y/yhat) has a slope on rows where y = 0.
  xlogy: {
    arity: 2, value: (u, a) => (u === 0 ? 0 : u * Math.log(a)),
    rule: 'xlogy rule: (u ln a)\' = u\' ln a + (u/a) a\'', note: 'each term is 0 where its factor u\' or u is 0',
    js: (u, a) => `nabla_xlogy(${u}, ${a})`, wgsl: (u, a) => `nabla_xlogy(${u}, ${a})`,
  },
};

/** Functions a user may write (ifle and sign are what derivatives are made of, but also callable). */
export const USER_FUNCTIONS = Object.keys(FUNCTIONS);

export const CONSTANTS: Readonly<Record<string, number>> = { pi: Math.PI, e: Math.E };

/** Stable spellings, prepended to generated JavaScript. */
export const JS_HELPERS = `
const nabla_sigmoid = (z) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));
const nabla_softplus = (z) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
const nabla_xlogy = (u, a) => (u === 0 ? 0 : u * Math.log(a));
const nabla_huber = (u, d) => {
  if (!(d > 0)) return NaN;
  const a = Math.abs(u);
  const m = Math.min(a, d);
  return m * (a - 0.5 * m);
};
const nabla_cauchy = (u, c) => {
  if (!(c > 0)) return NaN;
  const t = Math.abs(u / c);
  return t <= 1 ? 0.5 * c * c * Math.log1p(t * t) : c * c * (Math.log(t) + 0.5 * Math.log1p(1 / (t * t)));
};
const nabla_logsumexp = (...v) => {
  let m = -Infinity;
  for (let k = 0; k < v.length; k++) if (v[k] > m) m = v[k];
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (let k = 0; k < v.length; k++) s += Math.exp(v[k] - m);
  return m + Math.log(s);
};
`;

/**
 * Stable spellings, prepended to generated WGSL. WGSL leaves log, sqrt and pow outside their domains
 * indeterminate (SwiftShader's log of a negative number is finite): nabla_log, nabla_sqrt and nabla_pow give
 * what Math.log, Math.sqrt and Math.pow give there, NaN or ±∞, so that a formula undefined on a row makes a
 * non-finite loss on every device, as on the CPU. NaN and ∞ are made from the argument's bits: a constant
 * NaN or ∞ is a WGSL shader-creation error.
 */
export const WGSL_HELPERS = `
fn nabla_nan(v: f32) -> f32 {
  return bitcast<f32>(bitcast<u32>(v) | 0x7fc00000u);
}
fn nabla_inf(v: f32) -> f32 {
  return bitcast<f32>((bitcast<u32>(v) & 0x80000000u) | 0x7f800000u);
}
fn nabla_log(u: f32) -> f32 {
  if (u > 0.0) {
    return log(u);
  }
  if (u == 0.0) {
    return nabla_inf(-1.0 + u);
  }
  return nabla_nan(u);
}
fn nabla_sqrt(u: f32) -> f32 {
  return select(sqrt(u), nabla_nan(u), u < 0.0);
}
fn nabla_pow(a: f32, b: f32) -> f32 {
  if (a > 0.0) {
    return pow(a, b);
  }
  if (a == 0.0) {
    return select(select(1.0, 0.0, b > 0.0), nabla_inf(1.0 + a), b < 0.0);
  }
  // A negative base: defined for a whole exponent, with the base's sign when it is odd.
  if (b != round(b)) {
    return nabla_nan(a);
  }
  let m = pow(-a, b);
  return select(m, -m, abs(b % 2.0) == 1.0);
}
fn nabla_xlogy(u: f32, a: f32) -> f32 {
  if (u == 0.0) {
    return 0.0;
  }
  return u * nabla_log(a);
}
fn nabla_log1p(x: f32) -> f32 {
  // WGSL has no log1p; log(1 + x) loses x below 2^-24. Goldberg's correction makes it accurate to f32.
  let u = 1.0 + x;
  if (u == 1.0) {
    return x;
  }
  if (u <= 0.0) {
    return nabla_log(u);
  }
  return log(u) * (x / (u - 1.0));
}
fn nabla_sigmoid(z: f32) -> f32 {
  // Never exp() of a large positive number.
  if (z >= 0.0) {
    return 1.0 / (1.0 + exp(-z));
  }
  let e = exp(z);
  return e / (1.0 + e);
}
fn nabla_softplus(z: f32) -> f32 {
  return max(z, 0.0) + nabla_log1p(exp(-abs(z)));
}
fn nabla_huber(u: f32, d: f32) -> f32 {
  if (d <= 0.0) {
    return nabla_nan(d);
  }
  let a = abs(u);
  let m = min(a, d);
  return m * (a - 0.5 * m);
}
fn nabla_cauchy(u: f32, c: f32) -> f32 {
  if (c <= 0.0) {
    return nabla_nan(c);
  }
  let t = abs(u / c);
  if (t <= 1.0) {
    return 0.5 * c * c * nabla_log1p(t * t);
  }
  return c * c * (log(t) + 0.5 * nabla_log1p(1.0 / (t * t)));
}
fn nabla_sin_poly(r: f32) -> f32 {
  let z = r * r;
  return r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
}
fn nabla_cos_poly(r: f32) -> f32 {
  let z = r * r;
  return 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
}
// Built-in sin and cos need only be within 2^-11 of the truth (SwiftShader's were 1.9e-4 off on [0, π]):
// the argument less the nearest multiple k of π/2 in three parts (Cody and Waite: k times the first is exact
// for |k| < 2^16), then Cephes' float32 polynomials on [-π/4, π/4], a few ulps, on every adapter.
fn nabla_quadrant(v: f32) -> vec2<f32> {
  let k = round(v * 0.63661977236758134);
  return vec2<f32>(((v - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.54978995489188216e-8, k);
}
fn nabla_sin(v: f32) -> f32 {
  let q = nabla_quadrant(v);
  let k = i32(q.y) & 3;
  let s = select(nabla_sin_poly(q.x), nabla_cos_poly(q.x), (k & 1) == 1);
  return select(s, -s, k >= 2);
}
fn nabla_cos(v: f32) -> f32 {
  let q = nabla_quadrant(v);
  let k = (i32(q.y) + 1) & 3;
  let s = select(nabla_sin_poly(q.x), nabla_cos_poly(q.x), (k & 1) == 1);
  return select(s, -s, k >= 2);
}
fn nabla_tan(v: f32) -> f32 {
  let q = nabla_quadrant(v);
  let s = nabla_sin_poly(q.x);
  let c = nabla_cos_poly(q.x);
  return select(s / c, -c / s, (i32(q.y) & 1) == 1);
}
fn nabla_tanh(z: f32) -> f32 {
  // Built-in tanh may return NaN for large |z| on some backends (it is specified through exp).
  let e = exp(-2.0 * abs(z));
  return sign(z) * (1.0 - e) / (1.0 + e);
}
`;
