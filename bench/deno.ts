// The linear and mlp-epoch suites under Deno's built-in WebGPU, for GPU servers that have neither Node
// nor Chromium (see ../shared/device/README.md). No TF.js here; jax-js runs on its WebGPU backend where
// it starts under Deno, and where it does not its cells say why ('skipped: ...') instead of failing the
// run. It imports the Vite-built dist/bench/nabla-bench-core.js (`npm run build:bench`), WGSL inlined.
//
//   deno run -A bench/deno.ts [--quick] [--json] [--out FILE] [--n N[,N..]] [--gd-n N[,N..]] [--d D[,D..]] [--reps R]
//                             [--no-jax] [--no-linear] [--no-mlp] [--no-formula | --formula-only] [--formula-n N[,N..]] [--mlp-n N] [--mlp-epochs E] [--mlp-cpu-n N] [--mlp-profile]
//   e.g. on an H100: deno run -A bench/deno.ts --n 2^26,2^28 --d 1,16 --no-mlp
//
// Type-checked by the project's tsc as well, hence the small declaration of what it uses from Deno.
declare const Deno: {
  args: string[];
  version: { deno: string; v8: string };
  exit(code: number): never;
  mkdir(path: string, options: { recursive: boolean }): Promise<void>;
  writeTextFile(path: string, data: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  Command: new (cmd: string, options: { args: string[]; stdout: 'piped'; stderr: 'null' }) => {
    output(): Promise<{ success: boolean; stdout: Uint8Array }>;
  };
};

type Core = typeof import('./core-entry.ts');

const bundleUrl = new URL('../dist/bench/nabla-bench-core.js', import.meta.url);
let core: Core;
try {
  core = (await import(bundleUrl.href)) as Core;
} catch (e) {
  console.error(`bench/deno.ts: cannot load ${bundleUrl.pathname} (run \`npm run build:bench\` first): ${(e as Error).message}`);
  Deno.exit(1);
}

async function git(args: string[]): Promise<string | null> {
  try {
    const r = await new Deno.Command('git', { args, stdout: 'piped', stderr: 'null' }).output();
    return r.success ? new TextDecoder().decode(r.stdout) : null;
  } catch {
    return null; // no git on the server: the report says so with null
  }
}

let args: ReturnType<Core['parseBenchArgs']>;
try {
  args = core.parseBenchArgs(Deno.args, 'deno');
} catch (e) {
  if (!(e instanceof core.BenchUsageError)) throw e;
  console.error(`bench/deno.ts: ${e.message}`);
  Deno.exit(2);
}
const config = {
  ns: args.ns, gdNs: args.gdNs, ds: args.ds, reps: args.reps, budgetMs: args.budgetMs, injectFault: args.injectFault, tfjs: false, jax: args.jax, linear: args.linear, mlp: args.mlp, maxXBytes: args.maxXBytes,
  formula: args.formula, formulaNs: args.formulaNs,
};
const commit = (await git(['rev-parse', 'HEAD']))?.trim() || null;
const status = await git(['status', '--porcelain', '--untracked-files=no']);
const gpu = await core.requestGpu(navigator.gpu); // asks for the adapter's own buffer-size limits
const date = new Date().toISOString();
const peers = {
  linear: { tfjs: null, jax: args.jax ? core.jaxLinearPeer('webgpu') : null },
  mlp: { tfjs: null, jax: args.jax ? core.jaxMlpPeer('webgpu') : null },
  formula: { jax: args.jax ? core.jaxFormulaPeer('webgpu') : null },
};
const suite = await core.runSuites(gpu, config, peers, (line) => console.error(line));
gpu.device.destroy();

const quoted = Deno.args.map((a) => (/^[\w@%+=:,./^-]+$/.test(a) ? a : `'${a}'`));
const report = core.makeReport(suite, {
  commit, dirty: status === null ? null : status.trim().length > 0, command: ['deno run -A bench/deno.ts', ...quoted].join(' '), date,
  browser: `deno ${Deno.version.deno}`, host: `deno ${Deno.version.deno} (v8 ${Deno.version.v8})`,
}, { ...config, quick: args.quick });
const resultsDir = new URL('./results/', import.meta.url).pathname;
const file = args.out ?? `${resultsDir}${core.resultFileName(date, suite.adapter)}`;
if (!args.out) await Deno.mkdir(resultsDir, { recursive: true });
await Deno.writeTextFile(`${file}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
await Deno.rename(`${file}.tmp`, file);

console.log(args.json ? JSON.stringify(report, null, 2) : `${core.formatReport(report)}\n\nTF.js is not part of the Deno bundle: its columns stay empty.`);
console.error(`wrote ${file}`);
Deno.exit(core.exitCodeOf(report));
