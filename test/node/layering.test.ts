// Layers point one way (issue 12, item 4): shared types live below both twins, so the GPU side and the models
// never import the float64 twins (src/cpu, src/cpu-fast); src/core imports nothing of ours; and nothing that
// needs Node is reachable from the browser entry (src/index.ts) through static imports. What composes both
// backends (the recovering trainer, the headless job, the engine bundle's entry) lives above them in src/session.
// The one training loop (src/train) sits between them: every backend implements its TrainingProgram and runs
// through it, so it imports no backend.
// Tolerated: type-only imports (erased by the compiler) and dynamic `await import('node:fs/promises')` inside the
// path-opening functions of src/data (a browser bundle never calls them, and the bundler leaves them lazy).
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');

/** Static value imports and re-exports of a TypeScript file (type-only ones skipped), as written. */
function staticImports(text: string): string[] {
  const found: string[] = [];
  const pattern = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^;'"]*?\s+from\s+)?['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(pattern)) {
    if (!m[2]) found.push(m[3]);
  }
  return found;
}

function tsFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFilesUnder(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Imports of every .ts file under src/<folder> that resolve into src/<forbidden> (any static or type import). */
function importsInto(folder: string, forbidden: (target: string) => boolean): string[] {
  const hits: string[] = [];
  for (const file of tsFilesUnder(join(SRC, folder))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)) {
      if (!m[1].startsWith('.')) continue;
      const target = relative(SRC, resolve(dirname(file), m[1])).replaceAll('\\', '/');
      if (forbidden(target)) hits.push(`${relative(SRC, file)} -> ${m[1]}`);
    }
  }
  return hits;
}

const isTwin = (target: string) => /^cpu(-fast)?\//.test(target);

describe('layering', () => {
  it('the import parser sees value imports and re-exports, and skips type-only ones', () => {
    const text = [
      "import { a } from './a.ts';",
      "import type { B } from './b.ts';",
      "export { c } from './c.ts';",
      "export type { D } from './d.ts';",
      "import {\n  e,\n  type F,\n} from './e.ts';",
      "import './side-effect.ts';",
      "const fs = await import('node:fs/promises');",
    ].join('\n');
    expect(staticImports(text)).toEqual(['./a.ts', './c.ts', './e.ts', './side-effect.ts']);
  });

  it('src/gpu does not import the float64 twins (src/cpu, src/cpu-fast)', () => {
    expect(importsInto('gpu', isTwin)).toEqual([]);
  });

  it('src/models does not import the float64 twins', () => {
    expect(importsInto('models', isTwin)).toEqual([]);
  });

  it('the float64 twins do not import the GPU side', () => {
    expect(importsInto('cpu', (t) => t.startsWith('gpu/'))).toEqual([]);
    expect(importsInto('cpu-fast', (t) => t.startsWith('gpu/'))).toEqual([]);
  });

  it('models, optimizers and core import no backend and no front end', () => {
    const upward = (t: string) => /^(gpu|cpu|cpu-fast|train|session|cli|demo)\//.test(t);
    for (const folder of ['models', 'optim', 'core']) expect(importsInto(folder, upward), folder).toEqual([]);
  });

  it('nothing below src/session (backends, the trainer, models, optim, data, core) imports it', () => {
    for (const folder of ['gpu', 'cpu', 'cpu-fast', 'train', 'models', 'optim', 'data', 'core']) {
      expect(importsInto(folder, (t) => t.startsWith('session/')), folder).toEqual([]);
    }
  });

  it('the one training loop (src/train) sits below both backends: it imports no backend', () => {
    expect(existsSync(join(SRC, 'train'))).toBe(true);
    expect(importsInto('train', (t) => isTwin(t) || /^(gpu|session|cli|demo)\//.test(t))).toEqual([]);
  });

  it('src/optim does not import the twins, the GPU side or the models', () => {
    expect(importsInto('optim', (t) => isTwin(t) || /^(gpu|models)\//.test(t))).toEqual([]);
  });

  // The formula compiler is a leaf library, like core: models and every backend compile through it, so it
  // may import nothing of theirs.
  it('src/formula imports nothing of ours but src/core', () => {
    expect(existsSync(join(SRC, 'formula'))).toBe(true);
    expect(importsInto('formula', (t) => !t.startsWith('formula/') && !t.startsWith('core/'))).toEqual([]);
  });

  it('src/core imports nothing of ours outside itself', () => {
    expect(existsSync(join(SRC, 'core'))).toBe(true);
    expect(importsInto('core', (t) => !t.startsWith('core/'))).toEqual([]);
  });

  // The browser entries: the package's, the engine bundle's (vite.engine.config.ts) and the demo page's.
  for (const entry of ['index.ts', 'session/engine-entry.ts', 'demo/main.ts']) {
    it(`nothing reachable from src/${entry} through static imports needs Node`, () => {
      const nodeOnly = new Set(['cpu-fast/node-pool.ts', 'cpu-fast/worker-main.ts', 'node.ts']);
      const seen = new Set<string>();
      const offences: string[] = [];
      const lazyNode: string[] = [];
      const walk = (file: string) => {
        const key = relative(SRC, file).replaceAll('\\', '/');
        if (seen.has(key)) return;
        seen.add(key);
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/import\(\s*['"](node:[^'"]+)['"]\s*\)/g)) lazyNode.push(`${key}: ${m[1]}`);
        for (const spec of staticImports(text)) {
          if (spec.startsWith('node:') || ['fs', 'path', 'url', 'worker_threads', 'os'].includes(spec)) {
            offences.push(`${key} imports ${spec}`);
          } else if (spec.startsWith('.') && spec.endsWith('.ts')) {
            const target = resolve(dirname(file), spec);
            const targetKey = relative(SRC, target).replaceAll('\\', '/');
            if (nodeOnly.has(targetKey)) offences.push(`${key} imports ${targetKey}`);
            walk(target);
          }
        }
      };
      walk(join(SRC, entry));
      expect(seen.size).toBeGreaterThan(5); // the walk really followed the entry's imports
      expect(offences).toEqual([]);
      // The tolerated lazy imports of Node modules are those of src/data's path-opening functions only.
      for (const lazy of lazyNode) expect(lazy).toMatch(/^data\//);
    });
  }
});
