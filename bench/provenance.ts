// Where a benchmark result came from, for every Node entry (bench/run.ts, cpu.ts, cpu-web.ts): the commit, whether
// tracked files differed from it (a dirty run is not to be cited), and the command line to run it again.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
}

/** HEAD and whether tracked files differ from it (untracked files do not count). */
export function gitState(): { commit: string | null; dirty: boolean | null } {
  const commit = git(['rev-parse', 'HEAD'])?.trim() || null;
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return { commit, dirty: status === null ? null : status.trim().length > 0 };
}

/** The command line as a user would type it again, e.g. commandLine('bench:cpu', ['--quick']). */
export function commandLine(argv: readonly string[], script = 'bench'): string {
  const quoted = argv.map((a) => (/^[\w@%+=:,./^-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  return [`npm run ${script}`, ...(argv.length ? ['--', ...quoted] : [])].join(' ');
}
