// Output files are checked before any work starts (a missing or read-only folder found after an hour of
// training loses the hour), and written through a temporary file in the same folder that is renamed at
// the end, so a crash or a full disk never leaves a half-written file under the real name.
import { closeSync, openSync, statSync, unlinkSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './args.ts';

/** Throws a UsageError naming `flag` and the path when `path` cannot be written as a file. */
export function checkOutputPath(flag: string, path: string): void {
  const folder = dirname(resolve(path));
  let isFolder = false;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    throw new UsageError(`${flag}: cannot write "${path}": the folder "${dirname(path)}" does not exist`);
  }
  if (!isFolder) throw new UsageError(`${flag}: cannot write "${path}": "${dirname(path)}" is not a folder`);
  // A file made and removed, not access(W_OK): root passes that check in folders nothing can be written to
  // (/proc, /sys, a read-only mount), and would learn it only after the work.
  const probe = temporaryBeside(path);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${flag}: cannot write "${path}": the folder "${dirname(path)}" is not writable${why ? ` (${why})` : ''}`);
  }
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`${flag}: cannot write "${path}": it is a folder`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    // Not there yet: fine.
  }
}

/** A temporary name beside `path` (same folder, so the final rename is atomic). */
export function temporaryBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

/** Writes `text` to `path` atomically: a temporary file, then a rename. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = temporaryBeside(path);
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}
