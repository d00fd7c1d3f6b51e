// The linear-step and mlp-epoch suites (without TF.js) under Deno's built-in WebGPU, for GPU servers that
// have neither Node nor Chromium (see ../shared/device/README.md). It imports the Vite-built
// dist/bench/nabla-bench-core.js (`npm run build:bench`), where the WGSL is already inlined.
//
//   deno run -A bench/deno.ts [--quick] [--json] [--out FILE] [--n N[,N..]] [--d D[,D..]] [--reps R]
//                             [--no-linear] [--no-mlp] [--mlp-n N] [--mlp-epochs E] [--mlp-cpu-n N] [--mlp-profile]
//   e.g. on an H100: deno run -A bench/deno.ts --n 2^28 --d 1
//
// Type-checked by the project's tsc as well, hence the small declaration of what it uses from Deno.
declare const Deno: {
  args: string[];
  version: { deno: string };
  exit(code: number): never;
  mkdir(path: string, options: { recursive: boolean }): Promise<void>;
  writeTextFile(path: string, data: string): Promise<void>;
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

async function gitCommit(): Promise<string | null> {
  try {
    const r = await new Deno.Command('git', { args: ['rev-parse', 'HEAD'], stdout: 'piped', stderr: 'null' }).output();
    return r.success ? new TextDecoder().decode(r.stdout).trim() || null : null;
  } catch {
    return null; // no git on the server: the report says so with null
  }
}

let args: ReturnType<Core['parseBenchArgs']>;
try {
  args = core.parseBenchArgs(Deno.args);
} catch (e) {
  if (!(e instanceof core.BenchUsageError)) throw e;
  console.error(`bench/deno.ts: ${e.message}`);
  Deno.exit(2);
}
// TF.js is not part of this bundle: the comparison columns stay null.
const config = { ns: args.ns, ds: args.ds, reps: args.reps, injectFault: args.injectFault, tfjs: false, linear: args.linear, mlp: args.mlp };
const gpu = await core.requestGpu(navigator.gpu); // asks for the adapter's own buffer-size limits
const date = new Date().toISOString();
const suite = await core.runSuites(gpu, config, null, (line) => console.error(line));
gpu.device.destroy();

const report = core.makeReport(suite, `deno ${Deno.version.deno}`, await gitCommit(), date, {
  quick: args.quick, reps: args.reps, injectFault: args.injectFault, tfjs: false, linear: args.linear, mlp: args.mlp,
});
const resultsDir = new URL('./results/', import.meta.url).pathname;
const file = args.out ?? `${resultsDir}${core.resultFileName(date, suite.adapter)}`;
if (!args.out) await Deno.mkdir(resultsDir, { recursive: true });
await Deno.writeTextFile(file, `${JSON.stringify(report, null, 2)}\n`);

if (args.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(core.adapterLine(suite.adapter));
  console.log(`${report.browser}, commit ${report.commit?.slice(0, 12) ?? 'unknown'}, ${date}\n`);
  if (report.config.linear) console.log(core.formatTable(report.rows, report.skipped));
  if (report.mlp.length) console.log(`${report.config.linear ? '\n' : ''}${core.formatMlpTable(report.mlp)}`);
}
console.error(`wrote ${file}`);
Deno.exit([...report.rows, ...report.mlp].some((r) => r.validation !== 'passed') ? 1 : 0);
