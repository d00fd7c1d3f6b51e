#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx nabla` works from a checkout without a build step.
import { register } from 'tsx/esm/api';

register();
const { runFromBin } = await import('../src/cli/main.ts');
await runFromBin();
