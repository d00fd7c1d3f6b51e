// The one shader registry (src/gpu/shaders.ts) lists every WGSL file under shaders/, and for every stage the
// variants it declares are exactly those in the file: its `${NAME}` defines (placeholders and `#if` flags) and
// its `override` constants; the shared pieces it names exist and are not stages themselves.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SHADER_STAGES, SHARED_PIECES, shaderSources, type ShaderName } from '../../src/gpu/shaders.ts';

const SHADERS = fileURLToPath(new URL('../../shaders/', import.meta.url));
const read = (file: string) => readFileSync(`${SHADERS}${file}`, 'utf8');
const code = (wgsl: string) => wgsl.replace(/\/\/.*$/gm, '');
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

describe('shader registry', () => {
  const files: Record<string, string> = { ...SHARED_PIECES, ...Object.fromEntries(Object.entries(SHADER_STAGES).map(([k, v]) => [k, v.file])) };

  it('lists every .wgsl file under shaders/ once, as a shared piece or a stage', () => {
    const onDisk = [
      ...readdirSync(SHADERS).filter((f) => f.endsWith('.wgsl')),
      ...readdirSync(`${SHADERS}shared`).filter((f) => f.endsWith('.wgsl')).map((f) => `shared/${f}`),
    ];
    expect(sorted(Object.values(files))).toEqual(sorted(onDisk));
    expect(Object.values(files)).toHaveLength(onDisk.length);
    expect(sorted(Object.keys(files))).toEqual(sorted(Object.keys(shaderSources)));
  });

  it('every source string is the file it names', () => {
    for (const [name, file] of Object.entries(files)) expect(shaderSources[name as ShaderName], name).toBe(read(file));
  });

  for (const [name, stage] of Object.entries(SHADER_STAGES)) {
    it(`${name}: defines and overrides match ${stage.file}`, () => {
      const source = read(stage.file);
      expect(sorted(stage.defines), 'defines').toEqual(sorted([...code(source).matchAll(/\$\{(\w+)\}/g)].map((m) => m[1])));
      expect(sorted(stage.overrides), 'overrides').toEqual(sorted([...code(source).matchAll(/^\s*override\s+(\w+)/gm)].map((m) => m[1])));
      for (const piece of stage.shared) expect(Object.keys(SHARED_PIECES)).toContain(piece);
    });
  }

  it('shared pieces declare no entry point, defines or overrides', () => {
    for (const file of Object.values(SHARED_PIECES)) {
      const source = code(read(file));
      expect(source, file).not.toMatch(/@compute/);
      expect(source, file).not.toMatch(/\$\{\w+\}|^\s*override\s/m);
    }
  });
});
