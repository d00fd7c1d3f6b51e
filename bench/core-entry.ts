// Entry of dist/bench/nabla-bench-core.js: everything bench/deno.ts needs (both suites, jax-js), without
// TF.js, with the WGSL inlined (Deno knows nothing of Vite's ?raw imports).
export { requestGpu, type GpuContext } from '../src/gpu/device.ts';
export { runSuites, NO_PEERS } from './suite/suites.ts';
export { jaxLinearPeer } from './suite/jax-linear.ts';
export { jaxMlpPeer } from './suite/jax-mlp.ts';
export { jaxFormulaPeer } from './suite/jax-formula.ts';
export { parseBenchArgs, BenchUsageError, BENCH_USAGE } from './args.ts';
export { exitCodeOf, formatReport, makeReport, resultFileName } from './report.ts';
