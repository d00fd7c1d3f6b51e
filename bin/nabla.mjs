#!/usr/bin/env node
// The `nabla` command: compiled JavaScript (dist/cli/nabla.js, built by `npm run build:lib`, which `npm ci`,
// `npm install` and `npm pack` run as `prepare`), so no TypeScript compiler runs at run time.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli/nabla.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('nabla: the compiled CLI (dist/cli/nabla.js) is missing: run `npm run build:lib` in this checkout\n');
  process.exit(1);
}
const { runFromBin } = await import(cli.href);
await runFromBin();
