// The browser engine bundle (dist/engine/nabla-engine.js) the CLI loads into headless Chromium.
// Rebuilt with Vite when it is missing or older than the sources it is built from.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const engineBundlePath = join(projectRoot, 'dist', 'engine', 'nabla-engine.js');

/** The newest modification time of any file below dir (the test setup uses it for the compiled CLI too). */
export function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Folders of src/ the engine bundle never imports: a change there does not make it stale. */
const NOT_IN_BUNDLE = new Set(['cli', 'demo']);

export async function ensureEngineBundle(): Promise<string> {
  // An installed package ships the bundle and no sources: it is never rebuilt there (and vite is absent).
  // Every folder the bundle's entry (src/session/engine-entry.ts) can reach: the page's jobs (src/session), the
  // formula compiler, the fit, the training loop and the rest; the CLI and the demo are not in it.
  const src = join(projectRoot, 'src');
  const reached = existsSync(src) ? readdirSync(src, { withFileTypes: true }).filter((e) => e.isDirectory() && !NOT_IN_BUNDLE.has(e.name)).map((e) => `src/${e.name}`) : [];
  const sources = ['shaders', ...reached].map((d) => join(projectRoot, d)).filter((d) => existsSync(d));
  if (sources.length === 0) {
    if (!existsSync(engineBundlePath)) throw new Error(`the engine bundle ${engineBundlePath} is missing from this installation`);
    return engineBundlePath;
  }
  const stale = !existsSync(engineBundlePath)
    || Math.max(...sources.map(newestMtime)) > statSync(engineBundlePath).mtimeMs;
  if (stale) {
    const { build } = await import('vite');
    await build({ configFile: join(projectRoot, 'vite.engine.config.ts'), root: projectRoot, logLevel: 'error' });
  }
  return engineBundlePath;
}
