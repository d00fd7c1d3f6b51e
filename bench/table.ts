// Prints the markdown tables of a committed result file, so a README figure can cite the file and the
// command that produced it:   npm run bench:table -- bench/results/<file>.json
// Exit 2 on a file that is not a report of npm run bench or bench/deno.ts (named, with what is wrong), 0 otherwise.
import { readFileSync } from 'node:fs';
import { isMain } from './node-cli.ts';
import { formatReport, type BenchReport } from './report.ts';

/** Parses a result file's text; throws naming the file and the first thing missing. */
export function parseReport(text: string, file: string): BenchReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not JSON (${(e as Error).message})`);
  }
  const r = value as Partial<BenchReport>;
  const missing = (['adapter', 'date', 'command', 'browser', 'rows', 'skipped', 'mlp', 'config'] as const).find((k) => r?.[k] === undefined);
  if (missing) {
    throw new Error(`${file}: not a report of npm run bench or bench/deno.ts (no "${missing}"): bench:cpu, bench:lm and bench:remote results print their own tables when they run, and files written before provenance was recorded lack "command"`);
  }
  if (!Array.isArray(r.rows) || !Array.isArray(r.mlp)) throw new Error(`${file}: "rows" and "mlp" must be arrays`);
  return r as BenchReport;
}

/** The tables of one file; every error names the file (Node's EISDIR, and a row missing a field, do not). */
export function tableOf(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a result file' : `cannot read it (${(e as Error).message})`}`);
  }
  const report = parseReport(text, file);
  try {
    return `${formatReport(report)}\n\nsource: ${file}`;
  } catch (e) {
    throw new Error(`${file}: a row lacks what the tables print (${(e as Error).message})`);
  }
}

if (isMain(import.meta.url)) {
  const files = process.argv.slice(2);
  if (!files.length) {
    process.stderr.write('usage: npm run bench:table -- bench/results/<file>.json [...]\n');
    process.exitCode = 2;
  }
  for (const file of files) {
    if (file.startsWith('-')) {
      // It takes no flags: '--help' would otherwise be reported as a missing file.
      process.stderr.write(`bench:table: unknown flag '${file}' (usage: npm run bench:table -- bench/results/<file>.json [...])\n`);
      process.exitCode = 2;
      continue;
    }
    try {
      process.stdout.write(`${tableOf(file)}\n\n`);
    } catch (e) {
      process.stderr.write(`bench:table: ${(e as Error).message}\n`);
      process.exitCode = 2;
    }
  }
}
