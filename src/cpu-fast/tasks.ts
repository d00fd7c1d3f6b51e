// What a thread of the fast CPU path computes: a task (the data, the parameters and the partials, all in
// buffers every thread sees) split into a fixed number of shards of rows. Shard boundaries depend only on
// the batch and the shard count, never on timing or the number of threads; each shard writes its own
// slot of partial sums, and the caller adds the slots in shard order. A result is therefore the same bit
// for bit on every run and for every thread count. Environment-free: the main thread, Node workers and
// Web Workers run the same code.
import type { NetworkConfig } from '../models/network.ts';
import { linearSums } from '../cpu/linear_partials.ts';
import { NetworkScratch, networkShardSums, paddedNetwork } from './network-kernels.ts';
import { WasmNetworkScratch, wasmShardSums } from './network-wasm.ts';
import { instantiateLinear } from './wasm-linear.ts';
import { formulaShardSums, type FormulaTaskSpec } from './formula-task.ts';

export type TaskSpec =
  /**
   * Dense network: weights packed by packWeights; partials: shards x (parameters + 1), the loss last.
   * kernels: 'wasm' (SIMD products, network-wasm.ts) or 'js' (network-kernels.ts).
   */
  | { kind: 'network'; config: NetworkConfig; kernels: NetworkKernels; x: Float32Array; y: Float32Array; weights: Float32Array; partials: Float64Array }
  /**
   * Linear model: params (w_1..w_d, b); partials: shards x (d + 2) = (sum r x_j, sum r, sum r^2). With
   * `wasm`, all four arrays are views of that WebAssembly memory and the SIMD kernel (wasm-linear.ts) runs.
   */
  | { kind: 'linear'; d: number; x: Float32Array; y: Float32Array; params: Float64Array; partials: Float64Array; wasm?: { memory: WebAssembly.Memory; pages: number } }
  /** Formula model: its generated row sums over rows of rowWidth values (formula-task.ts). */
  | FormulaTaskSpec;

export type NetworkKernels = 'js' | 'wasm';

/** Rows start..start+rows cut into `shards` shards. */
export interface ShardJob {
  start: number;
  rows: number;
  shards: number;
  /** Changes whenever the task's parameters do (threads keep derived copies of the weights). */
  version: number;
}

/** Shard s of a job: rows begin..end (possibly empty). */
export function shardRows(job: ShardJob, s: number): { begin: number; end: number } {
  return {
    begin: job.start + Math.floor((s * job.rows) / job.shards),
    end: job.start + Math.floor(((s + 1) * job.rows) / job.shards),
  };
}

/** Values per shard slot in spec.partials. */
export function partialStride(spec: TaskSpec): number {
  if (spec.kind === 'formula') return spec.outputs;
  return spec.kind === 'linear' ? spec.d + 2 : paddedNetwork(spec.config).parameters + 1;
}

export type ShardRunner = (job: ShardJob, shard: number) => void;

/** The function a thread calls per shard; it keeps that thread's scratch between calls. */
export function shardRunner(spec: TaskSpec): ShardRunner {
  const stride = partialStride(spec);
  if (spec.kind === 'formula') {
    const sums = formulaShardSums(spec);
    const { partials } = spec;
    return (job, s) => {
      const { begin, end } = shardRows(job, s);
      const out = partials.subarray(s * stride, (s + 1) * stride);
      out.fill(0);
      if (end > begin) sums(begin, end, out);
    };
  }
  if (spec.kind === 'linear') {
    const { d, x, y, params, partials } = spec;
    const gradW = new Float64Array(d);
    /** Rows begin..end in float64 JS (linearSums), added to out. */
    const jsSums = (begin: number, end: number, out: Float64Array) => {
      gradW.fill(0);
      const view = { x: x.subarray(begin * d, end * d), y: y.subarray(begin, end), n: end - begin, d };
      const { sumR, sumRR } = linearSums(view, params.subarray(0, d), params[d], gradW);
      for (let j = 0; j < d; j++) out[j] += gradW[j];
      out[d] += sumR;
      out[d + 1] += sumRR;
    };
    const wasm = spec.wasm && instantiateLinear(d, spec.wasm.memory, spec.wasm.pages);
    return (job, s) => {
      const { begin, end } = shardRows(job, s);
      const out = partials.subarray(s * stride, (s + 1) * stride);
      out.fill(0);
      if (end <= begin) return;
      // The SIMD kernel takes rows in steps of 4 at d = 1; the last 1..3 rows of a shard go to JS.
      const simdEnd = wasm ? (d === 1 ? begin + ((end - begin) & ~3) : end) : begin;
      if (wasm && simdEnd > begin) wasm(x.byteOffset + begin * d * 4, y.byteOffset + begin * 4, simdEnd - begin, params.byteOffset, out.byteOffset);
      if (simdEnd < end) jsSums(simdEnd, end, out);
    };
  }
  const { config, x, y, weights, partials } = spec;
  if (spec.kernels === 'wasm') {
    const scratch = new WasmNetworkScratch(paddedNetwork(config));
    return (job, s) => {
      const { begin, end } = shardRows(job, s);
      const out = partials.subarray(s * stride, (s + 1) * stride);
      if (end <= begin) return void out.fill(0);
      wasmShardSums(config, scratch, weights, job.version, x, y, begin, end, out);
    };
  }
  const scratch = new NetworkScratch(paddedNetwork(config));
  return (job, s) => {
    const { begin, end } = shardRows(job, s);
    const out = partials.subarray(s * stride, (s + 1) * stride);
    if (end <= begin) return void out.fill(0);
    networkShardSums(config, scratch, weights, x, y, begin, end, out);
  };
}

/** sum over shards, in shard order, of the partial slots: into out (length stride). */
export function addShards(partials: Float64Array, shards: number, stride: number, out: Float64Array): void {
  out.fill(0);
  for (let s = 0; s < shards; s++) {
    const base = s * stride;
    for (let k = 0; k < stride; k++) out[k] += partials[base + k];
  }
}
