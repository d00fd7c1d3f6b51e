// What every Node bench CLI does at its edges: run only when it is the script Node started (so a test can
// import its parser), turn a usage error into exit 2, and write its result file whole or not at all.
import { renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BenchUsageError } from './args.ts';

/** Temporary file then rename: an interrupted run never leaves half a JSON file behind. */
export function writeResultFile(file: string, result: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(tmp, file);
}

/** True in the module Node was started with (`moduleUrl`: its import.meta.url). */
export function isMain(moduleUrl: string): boolean {
  return Boolean(process.argv[1]) && moduleUrl === pathToFileURL(resolve(process.argv[1])).href;
}

/** Parses the command line and runs main; a BenchUsageError is `name: message` on stderr and exit 2. */
export async function runCli<T>(name: string, parse: (argv: string[]) => T, main: (options: T) => Promise<void>): Promise<void> {
  let options: T;
  try {
    options = parse(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof BenchUsageError)) throw e;
    process.stderr.write(`${name}: ${e.message}\n`);
    process.exitCode = 2;
    return;
  }
  await main(options);
}
