// Flags shared by the Chromium runner (bench/run.ts) and the Deno runner (bench/deno.ts). A hand-written
// parser: it ends up in the Deno bundle too, where node:util would not.

export class BenchUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchUsageError';
  }
}

/** What the page (or Deno) needs to run the suite: plain JSON, it crosses page.evaluate. */
export interface SuiteConfig {
  ns: number[];
  ds: number[];
  /** Timed steps per row (after warm-up). */
  reps: number;
  /** Swap in a wrong pass-1 kernel: validation must fail and the rows must stay untimed. */
  injectFault: boolean;
  /** Run the TF.js comparison (the Chromium page only). */
  tfjs: boolean;
}

export interface BenchArgs extends SuiteConfig {
  quick: boolean;
  json: boolean;
  out: string | null;
}

export const FULL_NS = [2 ** 18, 2 ** 20, 2 ** 22, 2 ** 24];
export const FULL_DS = [1, 16, 64];
export const QUICK_NS = [2 ** 22];
export const QUICK_DS = [1, 16];
/** --inject-fault alone runs this: the point is the verdict, not the timing. */
export const TINY_NS = [2 ** 14];
export const TINY_DS = [1, 16];
/** At least ten timed steps unless --reps asks otherwise (the test asks for fewer). */
export const DEFAULT_REPS = 10;
export const FULL_REPS = 20;

export const BENCH_USAGE = `npm run bench -- [--quick] [--json] [--out FILE] [--n N[,N...]] [--d D[,D...]] [--reps R] [--no-tfjs]
  --quick    N = 2^22 with d = 1 and 16, ${DEFAULT_REPS} timed steps per row
  --n, --d   sizes to run (repeatable or comma lists; 2^k accepted), instead of the default grid
  --json     print the JSON report on stdout instead of the table
  --out      where to write the JSON report (default bench/results/<date>-<adapter>.json)`;

function parseSize(text: string, flag: string): number {
  const pow = /^2\^(\d+)$/.exec(text.trim());
  const v = pow ? 2 ** Number(pow[1]) : Number(text);
  if (!Number.isSafeInteger(v) || v < 1) throw new BenchUsageError(`${flag}: expected a positive integer, got '${text}'`);
  return v;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let quick = false, json = false, injectFault = false, tfjs = true;
  let out: string | null = null;
  let reps: number | null = null;
  const ns: number[] = [];
  const ds: number[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new BenchUsageError(`${flag}: expected a value`);
      return v;
    };
    switch (flag) {
      case '--quick': quick = true; break;
      case '--json': json = true; break;
      case '--inject-fault': injectFault = true; break;
      case '--no-tfjs': tfjs = false; break;
      case '--out': out = value(); break;
      case '--reps': reps = parseSize(value(), flag); break;
      case '--n': ns.push(...value().split(',').map((s) => parseSize(s, flag))); break;
      case '--d': ds.push(...value().split(',').map((s) => parseSize(s, flag))); break;
      default: throw new BenchUsageError(`unknown argument '${argv[i]}'\n${BENCH_USAGE}`);
    }
  }
  const base = injectFault ? [TINY_NS, TINY_DS] : quick ? [QUICK_NS, QUICK_DS] : [FULL_NS, FULL_DS];
  return {
    quick, json, out, injectFault, tfjs,
    ns: ns.length ? ns : base[0],
    ds: ds.length ? ds : base[1],
    reps: reps ?? (quick || injectFault ? DEFAULT_REPS : FULL_REPS),
  };
}
