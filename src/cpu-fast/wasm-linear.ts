// The linear model's shard sums (sum r x_j, sum r, sum r^2 with r = w.x + b - y) as WebAssembly SIMD,
// emitted at run time for one feature count d: float32 rows widened to float64 pairs (f64x2), the dot
// product and every sum in float64 as in the float64 twin (src/cpu/linear_partials.ts), with the weights
// and gradient sums held in locals. d = 1 takes 4 rows per step. The data, parameters and partials live in
// one shared WebAssembly memory that every thread's instance imports.
import { WASM_PAGE } from './wasm-gemm.ts';

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

function uleb(v: number, out: number[]): void {
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
}

function sleb(v: number, out: number[]): void {
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) return void out.push(b);
    out.push(b | 0x80);
  }
}

class Body {
  readonly b: number[] = [];
  get(i: number) { this.b.push(0x20); uleb(i, this.b); return this; }
  set(i: number) { this.b.push(0x21); uleb(i, this.b); return this; }
  i32(v: number) { this.b.push(0x41); sleb(v, this.b); return this; }
  mul() { this.b.push(0x6c); return this; }
  add() { this.b.push(0x6a); return this; }
  ltU() { this.b.push(0x49); return this; }
  loop() { this.b.push(0x03, 0x40); return this; }
  end() { this.b.push(0x0b); return this; }
  brIf(depth: number) { this.b.push(0x0d); uleb(depth, this.b); return this; }
  f64Load(offset: number) { this.b.push(0x2b, 3); uleb(offset, this.b); return this; }
  f64Store(offset: number) { this.b.push(0x39, 3); uleb(offset, this.b); return this; }
  f32Load(offset: number) { this.b.push(0x2a, 2); uleb(offset, this.b); return this; }
  promote() { this.b.push(0xbb); return this; }
  fAdd() { this.b.push(0xa0); return this; }
  fSub() { this.b.push(0xa1); return this; }
  fMul() { this.b.push(0xa2); return this; }
  private simd(op: number) { this.b.push(0xfd); uleb(op, this.b); return this; }
  vLoad(offset: number) { this.simd(0x00); this.b.push(4); uleb(offset, this.b); return this; }
  load64Zero(offset: number) { this.simd(0x5d); this.b.push(3); uleb(offset, this.b); return this; }
  vZero() { this.simd(0x0c); for (let i = 0; i < 16; i++) this.b.push(0); return this; }
  /** The high two float32 lanes of the vector (given twice) moved to the low half. */
  highToLow() { this.simd(0x0d); this.b.push(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7); return this; }
  widen() { return this.simd(0x5f); } // f64x2.promote_low_f32x4
  splat() { return this.simd(0x14); } // f64x2.splat
  lane(i: number) { this.simd(0x21); this.b.push(i); return this; } // f64x2.extract_lane
  vAdd() { return this.simd(0xf0); }
  vSub() { return this.simd(0xf1); }
  vMul() { return this.simd(0xf2); }
}

// params: 0 x, 1 y, 2 rows, 3 params, 4 out (byte offsets; rows > 0)
const [X, Y, ROWS, PARAMS, OUT] = [0, 1, 2, 3, 4];

/** d = 1, rows a multiple of 4: two f64x2 halves per step, six f64x2 sums. */
function body1(): { body: Body; locals: number[] } {
  // locals: 5 end (i32); v128: 6 w, 7 b (splatted), 8 r, 9..14 sums (rA, rrA, rxA, rB, rrB, rxB), 15 xv, 16 yv, 17 xs, 18 ys
  const [END, W, B, R, XV, YV, XS, YS] = [5, 6, 7, 8, 15, 16, 17, 18];
  const sum = (k: number) => 9 + k;
  const f = new Body();
  f.get(X).get(ROWS).i32(4).mul().add().set(END);
  f.get(PARAMS).f64Load(0).splat().set(W);
  f.get(PARAMS).f64Load(8).splat().set(B);
  for (let k = 0; k < 6; k++) f.vZero().set(sum(k));
  f.loop();
  f.get(X).vLoad(0).set(XV);
  f.get(Y).vLoad(0).set(YV);
  for (const half of [0, 1]) {
    const s0 = half * 3;
    if (half) f.get(XV).get(XV).highToLow().widen().set(XS).get(YV).get(YV).highToLow().widen().set(YS);
    else f.get(XV).widen().set(XS).get(YV).widen().set(YS);
    f.get(W).get(XS).vMul().get(B).vAdd().get(YS).vSub().set(R);
    f.get(sum(s0)).get(R).vAdd().set(sum(s0));
    f.get(sum(s0 + 1)).get(R).get(R).vMul().vAdd().set(sum(s0 + 1));
    f.get(sum(s0 + 2)).get(R).get(XS).vMul().vAdd().set(sum(s0 + 2));
  }
  f.get(X).i32(16).add().set(X);
  f.get(Y).i32(16).add().set(Y);
  f.get(X).get(END).ltU().brIf(0);
  f.end();
  // out: sum r x, sum r, sum r^2 (lanes and halves added in a fixed order)
  const total = (k: number) => f.get(sum(k)).get(sum(k + 3)).vAdd().set(R).get(R).lane(0).get(R).lane(1).fAdd();
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
    f.get(X).load64Zero(8 * p).widen().get(w(p)).vMul();
    if (p < 2) f.set(dot);
    else f.get(dot).vAdd().set(dot);
  }
  if (pairs > 1) f.get(DOT0).get(DOT1).vAdd().set(DOT0);
  f.get(DOT0).lane(0).get(DOT0).lane(1).fAdd();
  if (odd) f.get(X).f32Load(4 * (d - 1)).promote().get(WODD).fMul().fAdd();
  f.get(B).fAdd().get(Y).f32Load(0).promote().fSub().set(R);
  f.get(SR).get(R).fAdd().set(SR);
  f.get(SRR).get(R).get(R).fMul().fAdd().set(SRR);
  f.get(R).splat().set(RV);
  for (let p = 0; p < pairs; p++) f.get(g(p)).get(X).load64Zero(8 * p).widen().get(RV).vMul().vAdd().set(g(p));
  if (odd) f.get(GODD).get(X).f32Load(4 * (d - 1)).promote().get(R).fMul().fAdd().set(GODD);
  f.get(X).i32(stride).add().set(X);
  f.get(Y).i32(4).add().set(Y);
  f.get(X).get(END).ltU().brIf(0);
  f.end();
  for (let p = 0; p < pairs; p++) {
    f.get(OUT).get(g(p)).lane(0).f64Store(16 * p);
    f.get(OUT).get(g(p)).lane(1).f64Store(16 * p + 8);
  }
  if (odd) f.get(OUT).get(GODD).f64Store(8 * (d - 1));
  f.get(OUT).get(SR).f64Store(8 * d);
  f.get(OUT).get(SRR).f64Store(8 * d + 8);
  const locals = [I32, F64, F64, F64, F64, F64, F64, V128, V128, V128, ...Array(2 * pairs).fill(V128)];
  return { body: f, locals };
}

function name(s: string, out: number[]): void {
  const bytes = new TextEncoder().encode(s);
  uleb(bytes.length, out);
  out.push(...bytes);
}

function section(id: number, content: number[], out: number[]): void {
  out.push(id);
  uleb(content.length, out);
  out.push(...content);
}

/** Features up to which the kernel is emitted (its locals then fit the register file well enough). */
export const WASM_LINEAR_MAX_FEATURES = 64;

/** Module exporting sums(x, y, rows, params, out) for d features over a shared memory of maxPages. */
export function linearModuleBytes(d: number, maxPages: number): Uint8Array<ArrayBuffer> {
  const { body, locals } = d === 1 ? body1() : bodyD(d);
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  section(1, [1, 0x60, 5, I32, I32, I32, I32, I32, 0], out);
  const imports: number[] = [1];
  name('env', imports);
  name('memory', imports);
  imports.push(0x02, 0x03);
  uleb(1, imports);
  uleb(maxPages, imports);
  section(2, imports, out);
  section(3, [1, 0], out);
  const exps: number[] = [1];
  name('sums', exps);
  exps.push(0x00, 0);
  section(7, exps, out);
  const fn: number[] = [];
  uleb(locals.length, fn);
  for (const t of locals) fn.push(1, t);
  fn.push(...body.b, 0x0b);
  const code: number[] = [1];
  uleb(fn.length, code);
  code.push(...fn);
  section(10, code, out);
  const bytes = new Uint8Array(out.length);
  bytes.set(out);
  return bytes;
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
