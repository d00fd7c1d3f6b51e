// Shader variants: .wgsl files hold `${NAME}` placeholders and `#if ${FLAG}` blocks; this turns a file
// into the tagged-template call wgsl-preprocessor expects, so the WGSL stays in .wgsl files.
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';

export type WgslDefines = Record<string, number | boolean | string>;

export function specializeWgsl(source: string, defines: WgslDefines, name = 'shader'): string {
  const strings: string[] = [];
  const values: unknown[] = [];
  const pattern = /\$\{(\w+)\}/g;
  let last = 0;
  for (const match of source.matchAll(pattern)) {
    const key = match[1];
    if (!(key in defines)) throw new Error(`${name}: no value for placeholder \${${key}}`);
    strings.push(source.slice(last, match.index));
    values.push(defines[key]);
    last = match.index! + match[0].length;
  }
  strings.push(source.slice(last));
  const raw = Object.assign([...strings], { raw: strings }) as unknown as TemplateStringsArray;
  return wgsl(raw, ...values);
}

/** Shared structs first, then the stage. */
export function assembleWgsl(shared: readonly string[], stage: string): string {
  return [...shared, stage].join('\n');
}
