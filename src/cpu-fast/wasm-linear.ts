// The linear model's shard sums (sum r x_j, sum r, sum r^2 with r = w.x + b - y) as WebAssembly SIMD,
// emitted at run time for one feature count d: float32 rows widened to float64 pairs (f64x2), the dot
// product and every sum in float64 as in the float64 twin (src/cpu/linear_partials.ts), with the weights
// and gradient sums held in locals. d = 1 takes 4 rows per step. The data, parameters and partials live in
// one shared WebAssembly memory that every thread's instance imports.
import { Body, F64, I32, moduleBytes, V128, WASM_PAGE } from './wasm-emit.ts';

// params: 0 x, 1 y, 2 rows, 3 params, 4 out (byte offsets; rows > 0)
const [X, Y, ROWS, PARAMS, OUT] = [0, 1, 2, 3, 4];

/** d = 1, rows a multiple of 4: two f64x2 halves per step, six f64x2 sums. */
function body1(): { body: Body; locals: number[] } {
  // locals: 5 end (i32); v128: 6 w, 7 b (splatted), 8 r, 9..14 sums (rA, rrA, rxA, rB, rrB, rxB), 15 xv, 16 yv, 17 xs, 18 ys
  const [END, W, B, R, XV, YV, XS, YS] = [5, 6, 7, 8, 15, 16, 17, 18];
  const sum = (k: number) => 9 + k;
  const f = new Body();
  f.get(X).get(ROWS).i32(4).mul().add().set(END);
  f.get(PARAMS).f64Load(0).f64x2Splat().set(W);
  f.get(PARAMS).f64Load(8).f64x2Splat().set(B);
  for (let k = 0; k < 6; k++) f.vZero().set(sum(k));
  f.loop();
  f.get(X).vLoad(0).set(XV);
  f.get(Y).vLoad(0).set(YV);
  for (const half of [0, 1]) {
    const s0 = half * 3;
    if (half) f.get(XV).get(XV).f32x4HighToLow().f64x2PromoteLow().set(XS).get(YV).get(YV).f32x4HighToLow().f64x2PromoteLow().set(YS);
    else f.get(XV).f64x2PromoteLow().set(XS).get(YV).f64x2PromoteLow().set(YS);
    f.get(W).get(XS).f64x2Mul().get(B).f64x2Add().get(YS).f64x2Sub().set(R);
    f.get(sum(s0)).get(R).f64x2Add().set(sum(s0));
    f.get(sum(s0 + 1)).get(R).get(R).f64x2Mul().f64x2Add().set(sum(s0 + 1));
    f.get(sum(s0 + 2)).get(R).get(XS).f64x2Mul().f64x2Add().set(sum(s0 + 2));
  }
  f.get(X).i32(16).add().set(X);
  f.get(Y).i32(16).add().set(Y);
  f.get(X).get(END).ltU().brIf(0);
  f.end();
  // out: sum r x, sum r, sum r^2 (lanes and halves added in a fixed order)
  const total = (k: number) => f.get(sum(k)).get(sum(k + 3)).f64x2Add().set(R).get(R).f64x2Lane(0).get(R).f64x2Lane(1).f64Add();
  f.get(OUT); total(2); f.f64Store(0);
  f.get(OUT); total(0); f.f64Store(8);
  f.get(OUT); total(1); f.f64Store(16);
  return { body: f, locals: [I32, ...Array(13).fill(V128)] };
}

/** d >= 2: per row, d/2 f64x2 pairs (and one scalar for odd d) for the dot product and the gradient sums. */
function bodyD(d: number): { body: Body; locals: number[] } {
  const pairs = d >> 1;
  const odd = d & 1;
  // locals: 5 end (i32), 6 b (f64), 7 r (f64), 8 sumR, 9 sumRR, 10 wOdd, 11 gOdd, 12 rv (v128), 13 dot0, 14 dot1, 15.. w pairs, then g pairs
  const [END, B, R, SR, SRR, WODD, GODD, RV, DOT0, DOT1] = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
  const w = (p: number) => 15 + p;
  const g = (p: number) => 15 + pairs + p;
  const f = new Body();
  const stride = d * 4;
  f.get(X).get(ROWS).i32(stride).mul().add().set(END);
  for (let p = 0; p < pairs; p++) f.get(PARAMS).vLoad(16 * p).set(w(p));
  if (odd) f.get(PARAMS).f64Load(8 * (d - 1)).set(WODD);
  f.get(PARAMS).f64Load(8 * d).set(B);
  f.loop();
  for (let p = 0; p < pairs; p++) {
    const dot = p % 2 ? DOT1 : DOT0;
    f.get(X).vLoad64Zero(8 * p).f64x2PromoteLow().get(w(p)).f64x2Mul();
    if (p < 2) f.set(dot);
    else f.get(dot).f64x2Add().set(dot);
  }
  if (pairs > 1) f.get(DOT0).get(DOT1).f64x2Add().set(DOT0);
  f.get(DOT0).f64x2Lane(0).get(DOT0).f64x2Lane(1).f64Add();
  if (odd) f.get(X).f32Load(4 * (d - 1)).f64PromoteF32().get(WODD).f64Mul().f64Add();
  f.get(B).f64Add().get(Y).f32Load(0).f64PromoteF32().f64Sub().set(R);
  f.get(SR).get(R).f64Add().set(SR);
  f.get(SRR).get(R).get(R).f64Mul().f64Add().set(SRR);
  f.get(R).f64x2Splat().set(RV);
  for (let p = 0; p < pairs; p++) f.get(g(p)).get(X).vLoad64Zero(8 * p).f64x2PromoteLow().get(RV).f64x2Mul().f64x2Add().set(g(p));
  if (odd) f.get(GODD).get(X).f32Load(4 * (d - 1)).f64PromoteF32().get(R).f64Mul().f64Add().set(GODD);
  f.get(X).i32(stride).add().set(X);
  f.get(Y).i32(4).add().set(Y);
  f.get(X).get(END).ltU().brIf(0);
  f.end();
  for (let p = 0; p < pairs; p++) {
    f.get(OUT).get(g(p)).f64x2Lane(0).f64Store(16 * p);
    f.get(OUT).get(g(p)).f64x2Lane(1).f64Store(16 * p + 8);
  }
  if (odd) f.get(OUT).get(GODD).f64Store(8 * (d - 1));
  f.get(OUT).get(SR).f64Store(8 * d);
  f.get(OUT).get(SRR).f64Store(8 * d + 8);
  const locals = [I32, F64, F64, F64, F64, F64, F64, V128, V128, V128, ...Array(2 * pairs).fill(V128)];
  return { body: f, locals };
}

/** Features up to which the kernel is emitted (its locals then fit the register file well enough). */
export const WASM_LINEAR_MAX_FEATURES = 64;

/** Module exporting sums(x, y, rows, params, out) for d features over a shared memory of maxPages. */
export function linearModuleBytes(d: number, maxPages: number): Uint8Array<ArrayBuffer> {
  const { body, locals } = d === 1 ? body1() : bodyD(d);
  return moduleBytes([{ name: 'sums', params: 5, locals: locals.map((t): [number, number] => [1, t]), body }], { maxPages });
}

export type LinearSums = (x: number, y: number, rows: number, params: number, out: number) => void;

export function instantiateLinear(d: number, memory: WebAssembly.Memory, maxPages: number): LinearSums {
  const module = new WebAssembly.Module(linearModuleBytes(d, maxPages));
  return new WebAssembly.Instance(module, { env: { memory } }).exports.sums as LinearSums;
}

/** Pages for `bytes`, or null where one 32-bit memory cannot hold them. */
export function pagesFor(bytes: number): number | null {
  const pages = Math.ceil(bytes / WASM_PAGE) + 1;
  return pages <= 65536 ? pages : null;
}
