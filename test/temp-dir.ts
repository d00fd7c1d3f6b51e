// Temporary folders for the Node tests, each removed with everything in it when the tests that made it are
// done, so that runs do not pile folders up in the OS temp dir. Two lifetimes, because Vitest takes a hook
// only where it can run it: afterAll while a file is being collected, onTestFinished inside a test.
import { afterAll, onTestFinished } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function makeTempDir(name: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `nabla-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A new folder `<tmpdir>/nabla-<name>-XXXXXX` for the tests of the file or describe block that calls this
 * (at the top of the file or in a describe body), removed after the last of them, passed or failed.
 */
export function suiteTempDir(name: string): string {
  const { dir, remove } = makeTempDir(name);
  afterAll(remove);
  return dir;
}

/** A new folder `<tmpdir>/nabla-<name>-XXXXXX` for the running test alone, removed when it ends, passed or failed. */
export function testTempDir(name: string): string {
  const { dir, remove } = makeTempDir(name);
  onTestFinished(remove);
  return dir;
}
