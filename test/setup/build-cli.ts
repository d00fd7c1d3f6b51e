// Vitest global setup of the Node project: the CLI tests run `node bin/nabla.mjs`, which runs the compiled
// dist/cli/nabla.js; rebuild it (Vite, about a second) when any source is newer, so a test never runs stale code.
import { build } from 'vite';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export default async function setup(): Promise<void> {
  const cli = join(ROOT, 'dist', 'cli', 'nabla.js');
  const newestSource = Math.max(newestMtime(join(ROOT, 'src')), newestMtime(join(ROOT, 'shaders')));
  if (existsSync(cli) && statSync(cli).mtimeMs >= newestSource) return;
  await build({ root: ROOT, configFile: join(ROOT, 'vite.lib.config.ts'), mode: 'node', logLevel: 'error' });
}
