// Entry of dist/bench/nabla-bench-core.js: everything bench/deno.ts needs (both suites), without TF.js, with the WGSL
// inlined (Deno knows nothing of Vite's ?raw imports).
export { requestGpu, type GpuContext } from '../src/gpu/device.ts';
export { runLinearStepSuite } from './suite/linear-step.ts';
export { runSuites } from './suite/suites.ts';
export { parseBenchArgs, BenchUsageError, BENCH_USAGE } from './args.ts';
export { adapterLine, formatMlpTable, formatTable, makeReport, resultFileName } from './report.ts';
