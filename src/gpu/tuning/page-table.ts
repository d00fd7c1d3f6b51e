// The tuning table of a page the CLI drives (src/cli/gpu-session.ts): handed in before the jobs, read back
// after them, so that what one run tuned is on disk for the next. Both act on defaultTuningCache, the table
// every engine in the page reads.
import { defaultTuningCache, type TuningTable } from './cache.ts';

/** Adds a table's entries (checked: a malformed table throws TuningTableError and adds nothing). */
export function loadTuningTable(table: unknown): number {
  defaultTuningCache.merge(table);
  return defaultTuningCache.size;
}

export function tuningTable(): TuningTable {
  return defaultTuningCache.toJSON();
}
