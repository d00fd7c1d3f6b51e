// Layers point one way: src/data/ reads files into samples and knows nothing of models, engines or the
// CLI, so a model, a backend or a front end can use it without a cycle (issue 12, item 4). Only src/core lies
// below it: core imports nothing of ours (layering.test.ts), so no cycle can pass through it.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DATA = fileURLToPath(new URL('../../src/data/', import.meta.url));

describe('src/data imports', () => {
  it('only its own modules, src/core and packages (no ../models, ../cpu, ../gpu, ../cli)', () => {
    const outside: string[] = [];
    for (const file of readdirSync(DATA).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(`${DATA}${file}`, 'utf8');
      for (const m of text.matchAll(/(?:from|import\()\s*'([^']+)'/g)) {
        if (m[1].startsWith('../') && !m[1].startsWith('../core/')) outside.push(`${file}: ${m[1]}`);
      }
    }
    expect(outside).toEqual([]);
  });
});
