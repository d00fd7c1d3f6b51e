// Reading WGSL struct layouts in tests, so that host packing is checked against the shaders themselves
// (test/node/uniforms.test.ts, test/node/wgsl-structs.test.ts): a field added, removed or reordered in a
// .wgsl file fails there.

export interface Field { name: string; type: string; offset: number }

/** Fields of `struct NAME { ... }` with their WGSL offsets; every packed field is a 4-byte scalar (align 4). */
export function wgslStruct(name: string, source: string): { fields: Field[]; size: number } {
  const m = new RegExp(`struct\\s+${name}\\s*\\{([^}]*)\\}`).exec(source);
  if (!m) throw new Error(`struct ${name} not found`);
  const fields: Field[] = [];
  let offset = 0;
  for (const decl of m[1].replace(/\/\/.*$/gm, '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [fname, type] = decl.split(':').map((s) => s.trim());
    if (!['u32', 'i32', 'f32'].includes(type)) throw new Error(`${name}.${fname}: ${type} is not a 4-byte scalar`);
    fields.push({ name: fname, type, offset });
    offset += 4;
  }
  // A uniform-buffer struct's size rounds up to 16 (its alignment there); the storage structs checked are 16 already.
  return { fields, size: Math.ceil(offset / 16) * 16 };
}

/** The fields' values in a packed buffer (WebGPU buffers are little-endian). */
export function readStruct(buf: ArrayBuffer, s: { fields: Field[] }): Record<string, number> {
  const view = new DataView(buf);
  return Object.fromEntries(s.fields.map((f) => [f.name,
    f.type === 'f32' ? view.getFloat32(f.offset, true) : f.type === 'i32' ? view.getInt32(f.offset, true) : view.getUint32(f.offset, true)]));
}
