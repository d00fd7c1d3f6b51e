// Vitest global setup of the Node project: the CLI tests run `node bin/nabla.mjs`, which runs the compiled
// dist/cli/nabla.js; rebuild it (Vite, about a second) when any source is newer, so a test never runs stale code.
// Its teardown removes the run's tuning cache file (NABLA_TUNING_CACHE, set per run in vite.config.ts).
import { build } from 'vite';
import type { TestProject } from 'vitest/node';
import { existsSync, rmSync, statSync } from 'node:fs';
import { newestMtime } from '../../src/cli/engine-bundle.ts';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export default async function setup(project: TestProject): Promise<() => void> {
  const tuningCache = project.config.env.NABLA_TUNING_CACHE;
  const teardown = () => {
    if (tuningCache) rmSync(tuningCache, { force: true });
  };
  const cli = join(ROOT, 'dist', 'cli', 'nabla.js');
  const newestSource = Math.max(newestMtime(join(ROOT, 'src')), newestMtime(join(ROOT, 'shaders')));
  if (existsSync(cli) && statSync(cli).mtimeMs >= newestSource) return teardown;
  await build({ root: ROOT, configFile: join(ROOT, 'vite.lib.config.ts'), mode: 'node', logLevel: 'error' });
  return teardown;
}
