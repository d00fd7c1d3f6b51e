// Vitest global setup of the Node project: the CLI tests run `node bin/nabla.mjs`, which runs the compiled
// dist/cli/nabla.js; rebuild it (Vite, about a second) when any source is newer, so a test never runs stale code.
import { build } from 'vite';
import { existsSync, statSync } from 'node:fs';
import { newestMtime } from '../../src/cli/engine-bundle.ts';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export default async function setup(): Promise<void> {
  const cli = join(ROOT, 'dist', 'cli', 'nabla.js');
  const newestSource = Math.max(newestMtime(join(ROOT, 'src')), newestMtime(join(ROOT, 'shaders')));
  if (existsSync(cli) && statSync(cli).mtimeMs >= newestSource) return;
  await build({ root: ROOT, configFile: join(ROOT, 'vite.lib.config.ts'), mode: 'node', logLevel: 'error' });
}
