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

export async function ensureEngineBundle(): Promise<string> {
  // An installed package ships the bundle and no sources: it is never rebuilt there (and vite is absent).
  const sources = ['shaders', 'src/gpu', 'src/cpu', 'src/models'].map((d) => join(projectRoot, d)).filter((d) => existsSync(d));
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
