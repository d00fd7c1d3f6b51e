// A minimal WebAssembly emitter for the fast CPU path's kernels (wasm-gemm.ts, wasm-linear.ts): function
// bodies built instruction by instruction (methods named after the instructions, SIMD ones by lane
// type), and a module with one imported memory and exported functions of i32 parameters. No toolchain
// and no binary file: the bytes are made where they run, shaped for the problem at hand.

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

/** Bytes of a WebAssembly page. */
export const WASM_PAGE = 65536;

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

export class Body {
  readonly b: number[] = [];
  private op(...bytes: number[]) { this.b.push(...bytes); return this; }
  private simd(op: number) { this.b.push(0xfd); uleb(op, this.b); return this; }
  private mem(align: number, offset: number) { this.b.push(align); uleb(offset, this.b); return this; }
  get(i: number) { this.b.push(0x20); uleb(i, this.b); return this; }
  set(i: number) { this.b.push(0x21); uleb(i, this.b); return this; }
  i32(v: number) { this.b.push(0x41); sleb(v, this.b); return this; }
  add() { return this.op(0x6a); }
  sub() { return this.op(0x6b); }
  mul() { return this.op(0x6c); }
  ltU() { return this.op(0x49); }
  loop() { return this.op(0x03, 0x40); }
  if() { return this.op(0x04, 0x40); }
  else() { return this.op(0x05); }
  end() { return this.op(0x0b); }
  brIf(depth: number) { this.b.push(0x0d); uleb(depth, this.b); return this; }
  f32Load(offset: number) { return this.op(0x2a).mem(2, offset); }
  f64Load(offset: number) { return this.op(0x2b).mem(3, offset); }
  f64Store(offset: number) { return this.op(0x39).mem(3, offset); }
  f64PromoteF32() { return this.op(0xbb); }
  f64Add() { return this.op(0xa0); }
  f64Sub() { return this.op(0xa1); }
  f64Mul() { return this.op(0xa2); }
  vLoad(offset: number) { return this.simd(0x00).mem(4, offset); }
  vLoad64Zero(offset: number) { return this.simd(0x5d).mem(3, offset); }
  vStore(offset: number) { return this.simd(0x0b).mem(4, offset); }
  vZero() { this.simd(0x0c); for (let i = 0; i < 16; i++) this.b.push(0); return this; }
  /** v128.const with v (rounded to float32) in all four lanes. */
  f32x4Const(v: number) {
    const bytes = new Uint8Array(Float32Array.of(v).buffer);
    this.simd(0x0c);
    for (let i = 0; i < 4; i++) this.b.push(...bytes);
    return this;
  }
  vAnd() { return this.simd(0x4e); }
  /** The high two float32 lanes of the vector (given twice) moved to the low half. */
  f32x4HighToLow() { this.simd(0x0d); this.b.push(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7); return this; }
  f32x4Splat() { return this.simd(0x13); }
  f32x4Gt() { return this.simd(0x44); }
  f32x4Add() { return this.simd(0xe4); }
  f32x4Sub() { return this.simd(0xe5); }
  f32x4Mul() { return this.simd(0xe6); }
  f32x4Div() { return this.simd(0xe7); }
  f32x4Min() { return this.simd(0xe8); }
  f32x4Max() { return this.simd(0xe9); }
  f64x2Splat() { return this.simd(0x14); }
  f64x2Lane(i: number) { this.simd(0x21); this.b.push(i); return this; }
  f64x2PromoteLow() { return this.simd(0x5f); }
  f64x2Add() { return this.simd(0xf0); }
  f64x2Sub() { return this.simd(0xf1); }
  f64x2Mul() { return this.simd(0xf2); }
}

export interface WasmFunction {
  name: string;
  /** i32 parameters. */
  params: number;
  /** Locals after the parameters: [count, type] groups. */
  locals: [number, number][];
  body: Body;
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

/** A module importing env.memory (shared with maxPages when given) and exporting the functions by name. */
export function moduleBytes(funcs: readonly WasmFunction[], shared?: { maxPages: number }): Uint8Array<ArrayBuffer> {
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
  if (shared) {
    imports.push(0x02, 0x03, 1);
    uleb(shared.maxPages, imports);
  } else {
    imports.push(0x02, 0x00, 1);
  }
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
