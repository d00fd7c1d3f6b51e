// The CLI's tuning table on disk (src/gpu/tuning/cache.ts has the format): read at the start of a GPU session,
// written back when a run tuned something, so the next run starts tuned. The path is $NABLA_TUNING_CACHE,
// else $XDG_CACHE_HOME/nabla/tuning.json, else ~/.cache/nabla/tuning.json. A file that cannot be read or
// parsed is ignored with a warning (never an error: it is only a cache) and replaced on the next write.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseTuningTable, TuningCache, type TuningTable } from '../gpu/tuning/cache.ts';

export function tuningFilePath(env: Record<string, string | undefined> = process.env): string {
  if (env.NABLA_TUNING_CACHE) return env.NABLA_TUNING_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'nabla', 'tuning.json');
}

/** The table in `path`: null when there is none; `warning` says why a file that exists was not used. */
export function readTuningFile(path: string): { table: TuningTable | null; warning: string | null } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { table: null, warning: null };
    return { table: null, warning: `tuning cache ${path} ignored: ${(e as Error).message}` };
  }
  try {
    return { table: parseTuningTable(JSON.parse(text)), warning: null };
  } catch (e) {
    return { table: null, warning: `tuning cache ${path} ignored (it will be rewritten): ${(e as Error).message}` };
  }
}

/**
 * Writes the table atomically (a temporary file in the same folder, then rename), merged over what the file
 * holds now, so two runs that tuned different shapes keep both. Throws when the folder is not writable.
 */
export function writeTuningFile(path: string, table: TuningTable): void {
  const merged = new TuningCache();
  const current = readTuningFile(path).table;
  if (current) merged.merge(current);
  merged.merge(table);
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    writeFileSync(temp, `${JSON.stringify(merged.toJSON(), null, 1)}\n`);
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}
