// WebAssembly SIMD matrix products for the fast CPU path, emitted as bytecode at run time (no toolchain,
// no binary in the repository): C (M x N) = A (M x K) B (K x N) [+ C], float32, 128-bit SIMD. The kernel
// is specialised per shape: N and the three row strides are constants of the emitted code, so every
// address offset is an immediate. Micro-kernel: 4 rows x 8 columns of C in 8 f32x4 accumulators; per k,
// 4 splatted values of A and 2 vectors of B make 8 multiply-adds on 4 lanes (64 flops per 6 loads).
// M must be a multiple of 4, N of 8; K any count >= 1. Sums over k are float32 (K <= a few hundred
// here); callers add the products into float64 where sums get long.
import { Body, I32, moduleBytes, V128, type WasmFunction } from './wasm-emit.ts';

export { WASM_PAGE } from './wasm-emit.ts';

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
    f.get(PA).f32Load(r * lda4).f32x4Splat().set(AV);
    for (let h = 0; h < 2; h++) f.get(acc(r, h)).get(AV).get(h ? BV1 : BV0).f32x4Mul().f32x4Add().set(acc(r, h));
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
  if (kind === 'relu') f.get(0).vLoad(0).get(4).vZero().f32x4Gt().vAnd();
  else if (kind === 'tanh') f.get(0).vLoad(0).f32x4Const(1).get(4).get(4).f32x4Mul().f32x4Sub().f32x4Mul();
  else f.get(0).vLoad(0).get(4).f32x4Const(1).get(4).f32x4Sub().f32x4Mul().f32x4Mul();
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
  f.f32x4Const(-TANH_CLAMP).f32x4Max().f32x4Const(TANH_CLAMP).f32x4Min().set(x);
  f.get(x).get(x).f32x4Mul().set(x2);
  f.f32x4Const(TANH_P[6]);
  for (let k = 5; k >= 0; k--) f.get(x2).f32x4Mul().f32x4Const(TANH_P[k]).f32x4Add();
  f.get(x).f32x4Mul();
  f.f32x4Const(TANH_Q[3]);
  for (let k = 2; k >= 0; k--) f.get(x2).f32x4Mul().f32x4Const(TANH_Q[k]).f32x4Add();
  f.f32x4Div();
}

function biasBody(kind: 'relu' | 'identity' | 'tanh'): Body {
  // params: 0 z, 1 b, 2 rows, 3 width; locals: 4 i, 5 o, 6 pz (i32), 7 x, 8 x2 (v128)
  const f = new Body();
  f.get(0).set(6);
  f.i32(0).set(4);
  f.loop();
  f.i32(0).set(5);
  f.loop();
  f.get(6).get(6).vLoad(0).get(1).get(5).i32(4).mul().add().vLoad(0).f32x4Add();
  if (kind === 'relu') f.vZero().f32x4Max();
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
  return moduleBytes(funcs);
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
