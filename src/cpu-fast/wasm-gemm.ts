// WebAssembly SIMD matrix products for the fast CPU path, emitted as bytecode at run time (no toolchain,
// no binary in the repository): C (M x N) = A (M x K) B (K x N) [+ C], float32, 128-bit SIMD. The kernel
// is specialised per shape: N and the three row strides are constants of the emitted code, so every
// address offset is an immediate. Micro-kernel: 4 rows x 8 columns of C in 8 f32x4 accumulators; per k,
// 4 splatted values of A and 2 vectors of B make 8 multiply-adds on 4 lanes (64 flops per 6 loads).
// M must be a multiple of 4, N of 8; K any count >= 1. Sums over k are float32 (K <= a few hundred
// here); callers add the products into float64 where sums get long.

/** Bytes of a WebAssembly page. */
export const WASM_PAGE = 65536;

const I32 = 0x7f;
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

/** A function body under construction: helpers named after the instructions they emit. */
class Body {
  readonly b: number[] = [];
  get(i: number) { this.b.push(0x20); uleb(i, this.b); return this; }
  set(i: number) { this.b.push(0x21); uleb(i, this.b); return this; }
  i32(v: number) { this.b.push(0x41); sleb(v, this.b); return this; }
  add() { this.b.push(0x6a); return this; }
  sub() { this.b.push(0x6b); return this; }
  mul() { this.b.push(0x6c); return this; }
  ltU() { this.b.push(0x49); return this; }
  ne() { this.b.push(0x47); return this; }
  loop() { this.b.push(0x03, 0x40); return this; }
  if() { this.b.push(0x04, 0x40); return this; }
  else() { this.b.push(0x05); return this; }
  end() { this.b.push(0x0b); return this; }
  brIf(depth: number) { this.b.push(0x0d); uleb(depth, this.b); return this; }
  f32Load(offset: number) { this.b.push(0x2a, 2); uleb(offset, this.b); return this; }
  private simd(op: number) { this.b.push(0xfd); uleb(op, this.b); return this; }
  vLoad(offset: number) { this.simd(0x00); this.b.push(4); uleb(offset, this.b); return this; }
  vStore(offset: number) { this.simd(0x0b); this.b.push(4); uleb(offset, this.b); return this; }
  vZero() { this.simd(0x0c); for (let i = 0; i < 16; i++) this.b.push(0); return this; }
  splat() { return this.simd(0x13); }
  fAdd() { return this.simd(0xe4); }
  fSub() { return this.simd(0xe5); }
  fMul() { return this.simd(0xe6); }
  fMax() { return this.simd(0xe9); }
  fGt() { return this.simd(0x44); }
  vAnd() { return this.simd(0x4e); }
  vOne() { return this.vConst(1); }
  /** v128.const with v (rounded to float32) in all four lanes. */
  vConst(v: number) {
    const bytes = new Uint8Array(Float32Array.of(v).buffer);
    this.simd(0x0c);
    for (let i = 0; i < 4; i++) this.b.push(...bytes);
    return this;
  }
  fDiv() { return this.simd(0xe7); }
  fMin() { return this.simd(0xe8); }
}

export interface GemmShape {
  /** Columns of B and C (multiple of 8). */
  n: number;
  /** Row strides in floats. */
  lda: number;
  ldb: number;
  ldc: number;
}

const shapeKey = (s: GemmShape) => `gemm_${s.n}_${s.lda}_${s.ldb}_${s.ldc}`;

/** gemm(m, k, a, b, c, accumulate): C = A B (+ C if accumulate != 0); a, b, c byte offsets. */
function gemmBody(s: GemmShape): Body {
  // params: 0 m, 1 k, 2 a, 3 b, 4 c, 5 acc; locals: 6 i, 7 j, 8 kk, 9 pa, 10 pb, 11 pc, 12..19 acc (v128), 20 bv0, 21 bv1, 22 av
  const [M, K, A, B, C, ACC, I, J, KK, PA, PB, PC] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const acc = (r: number, h: number) => 12 + r * 2 + h;
  const [BV0, BV1, AV] = [20, 21, 22];
  const lda4 = s.lda * 4;
  const ldb4 = s.ldb * 4;
  const ldc4 = s.ldc * 4;
  const f = new Body();
  f.i32(0).set(I);
  f.loop(); // rows, 4 at a time
  f.i32(0).set(J);
  f.loop(); // columns, 8 at a time
  // pc = c + (i * ldc + j) * 4
  f.get(C).get(I).i32(ldc4).mul().add().get(J).i32(4).mul().add().set(PC);
  f.get(ACC).if();
  for (let r = 0; r < 4; r++) for (let h = 0; h < 2; h++) f.get(PC).vLoad(r * ldc4 + h * 16).set(acc(r, h));
  f.else();
  for (let r = 0; r < 4; r++) for (let h = 0; h < 2; h++) f.vZero().set(acc(r, h));
  f.end();
  f.get(A).get(I).i32(lda4).mul().add().set(PA);
  f.get(B).get(J).i32(4).mul().add().set(PB);
  f.get(K).set(KK);
  f.loop(); // k
  f.get(PB).vLoad(0).set(BV0);
  f.get(PB).vLoad(16).set(BV1);
  for (let r = 0; r < 4; r++) {
    f.get(PA).f32Load(r * lda4).splat().set(AV);
    for (let h = 0; h < 2; h++) f.get(acc(r, h)).get(AV).get(h ? BV1 : BV0).fMul().fAdd().set(acc(r, h));
  }
  f.get(PA).i32(4).add().set(PA);
  f.get(PB).i32(ldb4).add().set(PB);
  f.get(KK).i32(1).sub().set(KK);
  f.get(KK).brIf(0);
  f.end();
  for (let r = 0; r < 4; r++) for (let h = 0; h < 2; h++) f.get(PC).get(acc(r, h)).vStore(r * ldc4 + h * 16);
  f.get(J).i32(8).add().set(J);
  f.get(J).i32(s.n).ltU().brIf(0);
  f.end();
  f.get(I).i32(4).add().set(I);
  f.get(I).get(M).ltU().brIf(0);
  f.end();
  return f;
}

function section(id: number, content: number[], out: number[]): void {
  out.push(id);
  uleb(content.length, out);
  out.push(...content);
}

function name(s: string, out: number[]): void {
  const bytes = new TextEncoder().encode(s);
  uleb(bytes.length, out);
  out.push(...bytes);
}

interface WasmFunction {
  name: string;
  /** i32 parameters. */
  params: number;
  /** Locals after the parameters: [count, type] groups. */
  locals: [number, number][];
  body: Body;
}

/** Element-wise steps of a tile on 4 lanes (counts are multiples of 4): the activation slope times P, and bias + activation. */
export type ElementKernels = {
  /** P *= act'(A) over count floats (a = act(z) kept from the forward pass). */
  slope(kind: 'relu' | 'tanh' | 'sigmoid'): (p: number, a: number, count: number) => void;
  /** Z = act(Z + b) over rows x width (b: width floats), for relu, identity and tanh (see emitTanh). */
  bias(kind: 'relu' | 'identity' | 'tanh'): (z: number, b: number, rows: number, width: number) => void;
};

function slopeBody(kind: 'relu' | 'tanh' | 'sigmoid'): Body {
  // params: 0 p, 1 a, 2 count; locals: 3 end (i32), 4 av (v128)
  const f = new Body();
  f.get(0).get(2).i32(4).mul().add().set(3);
  f.loop();
  f.get(1).vLoad(0).set(4);
  f.get(0); // store address
  if (kind === 'relu') f.get(0).vLoad(0).get(4).vZero().fGt().vAnd();
  else if (kind === 'tanh') f.get(0).vLoad(0).vOne().get(4).get(4).fMul().fSub().fMul();
  else f.get(0).vLoad(0).get(4).vOne().get(4).fSub().fMul().fMul();
  f.vStore(0);
  f.get(0).i32(16).add().set(0);
  f.get(1).i32(16).add().set(1);
  f.get(0).get(3).ltU().brIf(0);
  f.end();
  return f;
}

/**
 * tanh on 4 float32 lanes: x P(x^2) / Q(x^2) on x clamped to +-7.905 (the rational approximation Eigen
 * uses for float). Measured against Math.tanh over 2e6 points spread over |x| in [3e-4, 3e1]: relative
 * error <= 2.9e-7, absolute <= 2.6e-7 (float32 spacing near 1 is 6e-8 to 1.2e-7).
 */
const TANH_CLAMP = 7.90531110763549805;
const TANH_P = [4.89352455891786e-3, 6.37261928875436e-4, 1.48572235717979e-5, 5.12229709037114e-8, -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16];
const TANH_Q = [4.89352518554385e-3, 2.26843463243900e-3, 1.18534705686654e-4, 1.19825839466702e-6];

/** Pops x, pushes tanh(x); uses locals x and x2 (v128). */
function emitTanh(f: Body, x: number, x2: number): void {
  f.vConst(-TANH_CLAMP).fMax().vConst(TANH_CLAMP).fMin().set(x);
  f.get(x).get(x).fMul().set(x2);
  f.vConst(TANH_P[6]);
  for (let k = 5; k >= 0; k--) f.get(x2).fMul().vConst(TANH_P[k]).fAdd();
  f.get(x).fMul();
  f.vConst(TANH_Q[3]);
  for (let k = 2; k >= 0; k--) f.get(x2).fMul().vConst(TANH_Q[k]).fAdd();
  f.fDiv();
}

function biasBody(kind: 'relu' | 'identity' | 'tanh'): Body {
  // params: 0 z, 1 b, 2 rows, 3 width; locals: 4 i, 5 o, 6 pz (i32), 7 x, 8 x2 (v128)
  const f = new Body();
  f.get(0).set(6);
  f.i32(0).set(4);
  f.loop();
  f.i32(0).set(5);
  f.loop();
  f.get(6).get(6).vLoad(0).get(1).get(5).i32(4).mul().add().vLoad(0).fAdd();
  if (kind === 'relu') f.vZero().fMax();
  else if (kind === 'tanh') emitTanh(f, 7, 8);
  f.vStore(0);
  f.get(6).i32(16).add().set(6);
  f.get(5).i32(4).add().set(5);
  f.get(5).get(3).ltU().brIf(0);
  f.end();
  f.get(4).i32(1).add().set(4);
  f.get(4).get(2).ltU().brIf(0);
  f.end();
  return f;
}

/** A module importing env.memory and exporting one gemm per distinct shape (named by shapeKey) and the element-wise kernels. */
export function gemmModuleBytes(shapes: readonly GemmShape[]): Uint8Array<ArrayBuffer> {
  const unique = [...new Map(shapes.map((s) => [shapeKey(s), s])).values()];
  const funcs: WasmFunction[] = [
    ...unique.map((s) => ({ name: shapeKey(s), params: 6, locals: [[6, I32], [11, V128]] as [number, number][], body: gemmBody(s) })),
    ...(['relu', 'tanh', 'sigmoid'] as const).map((k) => ({ name: `slope_${k}`, params: 3, locals: [[1, I32], [1, V128]] as [number, number][], body: slopeBody(k) })),
    ...(['relu', 'identity', 'tanh'] as const).map((k) => ({ name: `bias_${k}`, params: 4, locals: [[3, I32], [2, V128]] as [number, number][], body: biasBody(k) })),
  ];
  const arities = [...new Set(funcs.map((f) => f.params))];
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(arities.length, types);
  for (const a of arities) types.push(0x60, a, ...Array(a).fill(I32), 0);
  section(1, types, out);
  const imports: number[] = [];
  uleb(1, imports);
  name('env', imports);
  name('memory', imports);
  imports.push(0x02, 0x00, 1); // memory, min 1 page, no max
  section(2, imports, out);
  const decl: number[] = [];
  uleb(funcs.length, decl);
  for (const f of funcs) uleb(arities.indexOf(f.params), decl);
  section(3, decl, out);
  const exps: number[] = [];
  uleb(funcs.length, exps);
  funcs.forEach((f, i) => {
    name(f.name, exps);
    exps.push(0x00);
    uleb(i, exps);
  });
  section(7, exps, out);
  const code: number[] = [];
  uleb(funcs.length, code);
  for (const f of funcs) {
    const body: number[] = [];
    uleb(f.locals.length, body);
    for (const [count, type] of f.locals) {
      uleb(count, body);
      body.push(type);
    }
    body.push(...f.body.b, 0x0b);
    uleb(body.length, code);
    code.push(...body);
  }
  section(10, code, out);
  const bytes = new Uint8Array(out.length);
  bytes.set(out);
  return bytes;
}

export type Gemm = (m: number, k: number, a: number, b: number, c: number, accumulate: number) => void;

/** Whether this engine runs WebAssembly with 128-bit SIMD (checked by compiling a small kernel). */
export function wasmSimdAvailable(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(gemmModuleBytes([{ n: 8, lda: 4, ldb: 8, ldc: 8 }]));
  } catch {
    return false;
  }
}

/** Instantiates the kernels for `shapes` over `memory`: gemm(shape) returns the one for that shape. */
export function instantiateGemms(shapes: readonly GemmShape[], memory: WebAssembly.Memory): { gemm: (s: GemmShape) => Gemm } & ElementKernels {
  const module = new WebAssembly.Module(gemmModuleBytes(shapes));
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as Record<string, unknown>;
  return {
    gemm: (s) => {
      const fn = exports[shapeKey(s)] as Gemm | undefined;
      if (!fn) throw new Error(`wasm gemm: no kernel for shape ${shapeKey(s)}`);
      return fn;
    },
    slope: (kind) => exports[`slope_${kind}`] as (p: number, a: number, count: number) => void,
    bias: (kind) => exports[`bias_${kind}`] as (z: number, b: number, rows: number, width: number) => void,
  };
}
