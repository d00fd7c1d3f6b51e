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
  /** Sizes of the gradient rows. */
  ns: number[];
  /** Sizes of the gd100 rows (100-step gradient-descent runs); empty to skip them. */
  gdNs: number[];
  ds: number[];
  /** Timed calls per path and row (after warm-up). */
  reps: number;
  /**
   * Per path and row: stop timing after at least 3 calls once they have taken this long (ms); null: always
   * `reps`. --quick sets it so that a path taking seconds per call (TF.js here) cannot stretch the run.
   */
  budgetMs: number | null;
  /** Swap in a wrong pass-1 kernel: validation must fail and the rows must stay untimed. */
  injectFault: boolean;
  /** Run the TF.js comparison (the Chromium page only). */
  tfjs: boolean;
  /** Run the jax-js comparison (WebGPU backend; where it cannot start, the rows say so). */
  jax: boolean;
  /** Run the linear-step suite (ns x ds). */
  linear: boolean;
  /** The mlp-epoch suite's sizes, or null to skip it. */
  mlp: MlpSuiteConfig | null;
  /** Run the formula suite (generated kernels vs jax-js, the read and the hand-written linear engine). */
  formula: boolean;
  /** The formula suite's sizes (rows). */
  formulaNs: number[];
  /**
   * Largest X (bytes) a linear row may take; a larger case is listed as skipped. The host holds X several
   * times over (the Float32Array, the read kernel's copy and, on a software adapter, the GPU's): the default
   * suits this 24 GiB machine; a GPU server with more memory raises it (--max-x-gib).
   */
  maxXBytes: number;
}

/** The MLP benchmark (d = 64, hidden 256-256, 10 classes, Adam): bench/suite/mlp-step.ts. */
export interface MlpSuiteConfig {
  /** Samples per epoch (GPU and TF.js). */
  n: number;
  /** Samples per update. */
  batch: number;
  /** Epochs timed after the warm-up. */
  epochs: number;
  /** Samples per CPU epoch (the first cpuN rows; float64 JS is ~10^3 samples/s). */
  cpuN: number;
  /** Time each GPU stage of one gradient evaluation. */
  profile: boolean;
}

export interface BenchArgs extends SuiteConfig {
  quick: boolean;
  json: boolean;
  out: string | null;
}

export const FULL_NS = [2 ** 20, 2 ** 22];
export const FULL_DS = [1, 16];
/**
 * gd100 rows: a 100-step run costs 100 gradients, so they default to sizes where chaining steps (dispatch,
 * submit, read-back) weighs as much as reading the data; on a hardware GPU ask for more (--gd-n 2^22).
 */
export const FULL_GD_NS = [2 ** 16];
export const QUICK_NS = [2 ** 20];
export const QUICK_DS = [1, 16];
export const QUICK_GD_NS = [2 ** 12];
/** --quick's time budget per path and row (see SuiteConfig.budgetMs). */
export const QUICK_BUDGET_MS = 15_000;
/** --inject-fault alone runs this: the point is the verdict, not the timing. */
export const TINY_NS = [2 ** 14];
export const TINY_DS = [1, 16];
export const TINY_GD_NS = [2 ** 12];
/** The formula suite's rows (issue #18: 2^20 and 2^22); --quick runs 2^20 (--formula-n 2^20,2^22 for both). */
export const FULL_FORMULA_NS = [2 ** 20, 2 ** 22];
export const QUICK_FORMULA_NS = [2 ** 20];
export const TINY_FORMULA_NS = [2 ** 14];
/** The default of --max-x-gib (SuiteConfig.maxXBytes). */
export const DEFAULT_MAX_X_GIB = 1.5;
/** At least ten timed steps unless --reps asks otherwise (the test asks for fewer). */
export const DEFAULT_REPS = 10;
export const FULL_REPS = 20;
/**
 * Issue #4's batch of 4096. Sized for a software adapter: on SwiftShader (2 cores) one GPU update of 4096
 * samples takes ~30 s, so the default (two batches, one warm-up and one timed epoch, the final evaluation
 * and the check) runs ~3 min on the GPU and as long again for TF.js. On a hardware GPU ask for more,
 * e.g. --mlp-n 2^20 --mlp-epochs 5.
 */
export const MLP_BATCH = 4096;
export const FULL_MLP: Omit<MlpSuiteConfig, 'profile'> = { n: 8192, batch: MLP_BATCH, epochs: 1, cpuN: 4096 };
export const QUICK_MLP: Omit<MlpSuiteConfig, 'profile'> = { n: 4096, batch: MLP_BATCH, epochs: 1, cpuN: 4096 };
/** --inject-fault: one tiny batch, only the verdict matters. */
export const TINY_MLP: Omit<MlpSuiteConfig, 'profile'> = { n: 256, batch: 256, epochs: 1, cpuN: 256 };

export const BENCH_USAGE = `npm run bench -- [--quick] [--json] [--out FILE] [--n N[,N...]] [--gd-n N[,N...]] [--no-gd] [--d D[,D...]] [--reps R] [--max-x-gib G]
                  [--no-tfjs] [--no-jax] [--no-linear] [--no-mlp] [--mlp-n N] [--mlp-batch B] [--mlp-epochs E] [--mlp-cpu-n N] [--mlp-profile]
                  [--no-formula | --formula-only] [--formula-n N[,N...]]
  --quick    gradient N = 2^20 and gd100 N = 2^12, d = 1 and 16, ${DEFAULT_REPS} timed calls per path and row, or at least 3
             within ${QUICK_BUDGET_MS / 1e3} s (--budget); MLP n = ${QUICK_MLP.n} (one batch)
  --budget S stop timing a path after at least 3 calls once they have taken S seconds (0: never; default 0, --quick ${QUICK_BUDGET_MS / 1e3})
  --n, --d   sizes of the gradient rows (repeatable or comma lists; 2^k accepted), instead of the default grid
  --gd-n     sizes of the gd100 rows (100-step gradient descent); --no-gd skips them
  --max-x-gib G   skip linear rows whose X takes more than G GiB (default ${DEFAULT_MAX_X_GIB}: host memory holds X several times)
  --no-tfjs, --no-jax   leave a peer out
  --no-linear, --no-mlp, --no-formula   skip the linear-step, the mlp-epoch or the formula suite
  --formula-only   the formula suite alone (--no-linear --no-mlp)
  --formula-n      rows of the formula suite (default ${FULL_FORMULA_NS.map((v) => `2^${Math.log2(v)}`).join(',')}; --quick ${QUICK_FORMULA_NS.map((v) => `2^${Math.log2(v)}`).join(',')})
  --mlp-n, --mlp-batch, --mlp-epochs, --mlp-cpu-n   MLP samples per epoch (default ${FULL_MLP.n}), per update
             (${MLP_BATCH}), timed epochs (${FULL_MLP.epochs}), samples per CPU epoch (${FULL_MLP.cpuN}, at most n)
  --mlp-profile   also time each GPU stage of one MLP gradient evaluation
  --json     print the JSON report on stdout instead of the table
  --out      where to write the JSON report (default bench/results/<date>-<adapter>.json)`;

function parseSize(text: string, flag: string): number {
  const pow = /^2\^(\d+)$/.exec(text.trim());
  const v = pow ? 2 ** Number(pow[1]) : Number(text);
  if (!Number.isSafeInteger(v) || v < 1) throw new BenchUsageError(`${flag}: expected a positive integer, got '${text}'`);
  return v;
}

/** Flags that take no value: `--quick=no` would otherwise read as --quick. */
const SWITCHES = new Set(['--quick', '--json', '--inject-fault', '--no-tfjs', '--no-jax', '--no-gd', '--no-linear', '--no-mlp',
  '--no-formula', '--formula-only', '--mlp-profile']);
/** Flags holding one value: given twice, which one the run used would depend on the order. */
const SCALARS = new Set(['--out', '--reps', '--budget', '--max-x-gib', '--mlp-n', '--mlp-batch', '--mlp-epochs', '--mlp-cpu-n']);

/**
 * `runner`: which runner reads the flags. Deno's bundle has no TF.js, so --no-tfjs there would be a flag that
 * changes nothing.
 */
export function parseBenchArgs(argv: readonly string[], runner: 'chromium' | 'deno' = 'chromium'): BenchArgs {
  let quick = false, json = false, injectFault = false, tfjs = true, jax = true, linear = true, mlp = true, profile = false, gd = true;
  let formula = true, formulaOnly = false;
  const formulaNs: number[] = [];
  const mlpSizes: Partial<Record<'n' | 'batch' | 'epochs' | 'cpuN', number>> = {};
  let out: string | null = null;
  let reps: number | null = null;
  let budgetS: number | null = null;
  let maxXGib = DEFAULT_MAX_X_GIB;
  const ns: number[] = [];
  const gdNs: number[] = [];
  const ds: number[] = [];
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    if (inline !== undefined && SWITCHES.has(flag)) throw new BenchUsageError(`${flag} takes no value, got '${argv[i]}'`);
    if (SCALARS.has(flag) && given.has(flag)) throw new BenchUsageError(`${flag} given twice`);
    given.add(flag);
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new BenchUsageError(`${flag}: expected a value`);
      // `--out --json` would write the report to a file named --json and print the table.
      if (inline === undefined && v.startsWith('--')) throw new BenchUsageError(`${flag}: expected a value, got the flag '${v}'`);
      return v;
    };
    switch (flag) {
      case '--quick': quick = true; break;
      case '--json': json = true; break;
      case '--inject-fault': injectFault = true; break;
      case '--no-tfjs': tfjs = false; break;
      case '--no-jax': jax = false; break;
      case '--no-gd': gd = false; break;
      case '--gd-n': gdNs.push(...value().split(',').map((s) => parseSize(s, flag))); break;
      case '--no-linear': linear = false; break;
      case '--no-mlp': mlp = false; break;
      case '--no-formula': formula = false; break;
      case '--formula-only': formulaOnly = true; break;
      case '--formula-n': formulaNs.push(...value().split(',').map((s) => parseSize(s, flag))); break;
      case '--mlp-profile': profile = true; break;
      case '--mlp-n': mlpSizes.n = parseSize(value(), flag); break;
      case '--mlp-batch': mlpSizes.batch = parseSize(value(), flag); break;
      case '--mlp-epochs': mlpSizes.epochs = parseSize(value(), flag); break;
      case '--mlp-cpu-n': mlpSizes.cpuN = parseSize(value(), flag); break;
      case '--out': out = value(); break;
      case '--reps': reps = parseSize(value(), flag); break;
      case '--budget': {
        const v = value();
        budgetS = Number(v);
        if (!(Number.isFinite(budgetS) && budgetS >= 0)) throw new BenchUsageError(`--budget: expected seconds (0 or more), got '${v}'`);
        break;
      }
      case '--max-x-gib': {
        const v = value();
        maxXGib = Number(v);
        if (!(Number.isFinite(maxXGib) && maxXGib > 0)) throw new BenchUsageError(`--max-x-gib: expected GiB (more than 0), got '${v}'`);
        break;
      }
      case '--n': ns.push(...value().split(',').map((s) => parseSize(s, flag))); break;
      case '--d': ds.push(...value().split(',').map((s) => parseSize(s, flag))); break;
      default: throw new BenchUsageError(`unknown argument '${argv[i]}'\n${BENCH_USAGE}`);
    }
  }
  const base = injectFault ? [TINY_NS, TINY_DS, TINY_GD_NS] : quick ? [QUICK_NS, QUICK_DS, QUICK_GD_NS] : [FULL_NS, FULL_DS, FULL_GD_NS];
  if (!gd && gdNs.length) throw new BenchUsageError('--gd-n given with --no-gd');
  if (formulaOnly) {
    if (!formula) throw new BenchUsageError('--formula-only and --no-formula: nothing left to run');
    linear = false;
    mlp = false;
  }
  if (!formula && formulaNs.length) throw new BenchUsageError('--formula-n given with --no-formula');
  if (!linear && !mlp && !formula) throw new BenchUsageError('--no-linear, --no-mlp and --no-formula: nothing left to run');
  // A flag of a suite that does not run would change nothing: the command would claim a setting the run never had.
  const withoutLinear = formulaOnly ? '--formula-only' : '--no-linear';
  for (const f of ['--n', '--d', '--gd-n', '--no-gd']) {
    if (!linear && given.has(f)) throw new BenchUsageError(`${f} given with ${withoutLinear}: only the linear suite reads it`);
  }
  if (!linear && !formula && given.has('--max-x-gib')) throw new BenchUsageError(`--max-x-gib given without the linear or formula suite: only they read it`);
  if (!tfjs && runner === 'deno') throw new BenchUsageError('--no-tfjs: TF.js does not run under Deno (the Chromium page only)');
  if (!tfjs && !linear && !mlp) throw new BenchUsageError(`--no-tfjs given with ${formulaOnly ? '--formula-only' : '--no-linear and --no-mlp'}: TF.js runs in the linear and mlp suites only`);
  if (!mlp && (profile || Object.keys(mlpSizes).length)) throw new BenchUsageError('--mlp-* flags given with --no-mlp');
  return {
    quick, json, out, injectFault, tfjs, jax, linear,
    mlp: mlp ? mlpConfig(injectFault ? TINY_MLP : quick ? QUICK_MLP : FULL_MLP, mlpSizes, profile) : null,
    ns: ns.length ? ns : base[0],
    gdNs: !gd ? [] : gdNs.length ? gdNs : base[2],
    ds: ds.length ? ds : base[1],
    reps: reps ?? (quick || injectFault ? DEFAULT_REPS : FULL_REPS),
    budgetMs: budgetS !== null ? (budgetS > 0 ? budgetS * 1e3 : null) : quick ? QUICK_BUDGET_MS : null,
    maxXBytes: maxXGib * 2 ** 30,
    formula,
    formulaNs: !formula ? [] : formulaNs.length ? formulaNs : injectFault ? TINY_FORMULA_NS : quick ? QUICK_FORMULA_NS : FULL_FORMULA_NS,
  };
}

/**
 * The MLP sizes: defaults, then the flags. Without --mlp-cpu-n the CPU runs min(default, n) samples; a
 * batch larger than n, or an explicit CPU n larger than n, is an error rather than a silent change.
 */
export function mlpConfig(
  base: Omit<MlpSuiteConfig, 'profile'>, flags: Partial<Record<'n' | 'batch' | 'epochs' | 'cpuN', number>>, profile = false,
): MlpSuiteConfig {
  const n = flags.n ?? base.n;
  const batch = flags.batch ?? Math.min(base.batch, n);
  if (batch > n) throw new BenchUsageError(`--mlp-batch: ${batch} is more than the ${n} samples of an epoch (--mlp-n)`);
  if (flags.cpuN !== undefined && flags.cpuN > n) throw new BenchUsageError(`--mlp-cpu-n: ${flags.cpuN} is more than --mlp-n ${n}`);
  return { n, batch, epochs: flags.epochs ?? base.epochs, cpuN: flags.cpuN ?? Math.min(base.cpuN, n), profile };
}

/**
 * The flags of a small bench CLI (bench/remote.ts, page-remote.ts, stream.ts), read as parseBenchArgs reads its
 * own: `--flag value` or `--flag=value`; a value that is the next flag, a one-value flag given twice, a switch
 * given a value and an unknown flag are errors. Returns the values given (defaults are the caller's).
 */
export function readFlags(
  argv: readonly string[], valued: readonly string[], switches: readonly string[], usage: string,
): { values: Map<string, string>; switches: Set<string> } {
  const values = new Map<string, string>();
  const on = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    if (switches.includes(flag)) {
      if (inline !== undefined) throw new BenchUsageError(`${flag} takes no value, got '${argv[i]}'`);
      on.add(flag);
    } else if (valued.includes(flag)) {
      if (values.has(flag)) throw new BenchUsageError(`${flag} given twice`);
      const v = inline ?? argv[++i];
      if (v === undefined) throw new BenchUsageError(`${flag}: expected a value`);
      // `--out --json` would write the result to a file named --json.
      if (inline === undefined && v.startsWith('--')) throw new BenchUsageError(`${flag}: expected a value, got the flag '${v}'`);
      values.set(flag, v);
    } else throw new BenchUsageError(`unknown argument '${argv[i]}'\n${usage}`);
  }
  return { values, switches: on };
}

/** An integer in [min, max] (1e7 accepted), or a usage error naming the flag and the text. */
export function intFlag(text: string, flag: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const v = Number(text);
  if (!text.trim() || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new BenchUsageError(`${flag}: expected an integer ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `in ${min}..${max}`}, got '${text}'`);
  }
  return v;
}

/** A finite number above 0 (MiB and the like), or a usage error naming the flag and the text. */
export function positiveFlag(text: string, flag: string): number {
  const v = Number(text);
  if (!text.trim() || !(Number.isFinite(v) && v > 0)) throw new BenchUsageError(`${flag}: expected a number above 0, got '${text}'`);
  return v;
}
