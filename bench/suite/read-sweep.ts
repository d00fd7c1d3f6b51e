// The yardstick: the adapter's best plain read kernel over given byte counts (X and y: one dispatch per
// buffer, like the gradient's two bindings), found by a sweep over grid size, workgroup size, load width,
// loads in flight, layout (grid-stride or per-thread runs) and run length (bench/suite/read-plan.ts). Every candidate's
// sums are checked against float64 before its time counts. Candidates are ranked by GPU timestamps where the device has them (else by the
// wall clock); the few best are then timed the way every library is, wall clock from the call to the
// sums on the host, and the fastest of those is the reference. Given the measured path's own call
// (`paired`), each finalist's calls alternate with it, so the path and its yardstick are sampled over the
// same seconds: on a shared or throttling machine, whose speed drifts between runs by up to 1.5x (seen
// on the 2-core SwiftShader host), their ratio then holds where two separate timings would not.
import type { GpuContext } from '../../src/gpu/device.ts';
import { createBufferChecked, createComputePipeline } from '../../src/gpu/resources.ts';
import { shaderSources } from '../../src/gpu/shaders.ts';
import { assembleWgsl, specializeWgsl } from '../../src/gpu/wgsl.ts';
import { summarize, timestamps, wallClock } from './gpu-timer.ts';
import { errorText } from './peers.ts';
import {
  COARSE_READ_RUN, configKey, geometricGroups, LAYOUTS, layoutOf, maxGroupsFor, packReadUniforms, readPipelineConstants, readVariantDefines, refineStages,
  runOf, sumTolerance, UNROLLS, type ReadConfig, type ReadLayout,
} from './read-plan.ts';

const kLabel = 'nabla.bench.read';
/** Host block copied into the sources: non-constant data, so no hardware can shortcut it as zeros. */
const kPatternFloats = 1 << 18;
/** Timestamped passes per candidate in the sweep (after its checked run, which warms it up). */
const kSweepSamples = 3;
/** A candidate whose checked run takes this many times the best so far is not timed further. */
const kSlowFactor = 4;
/** Finalists timed on the wall clock. */
const kFinalists = 3;

export interface ReadCandidate {
  config: ReadConfig;
  /** Median ms per pass in the sweep (timestamps, else wall clock); null when rejected or slow. */
  ms: number | null;
  /** Wall clock of its checked call (the first, untimed run). */
  checkedMs: number;
  /** 'passed', 'slow' (its checked run was far off the best: not timed further) or 'rejected: ...'. */
  verdict: string;
  relError: number;
  tolerance: number;
}

export interface ReadReference {
  /**
   * Wall clock from the call to the sums on the host, median over the timed calls; a call is `passes`
   * chained reads of every source (one submit, one read-back), like a gd100 run's chained steps.
   */
  ms: number;
  passes: number;
  msMin: number;
  msMax: number;
  gbps: number;
  config: ReadConfig;
  /** The winner's GPU time per pass in the sweep (timestamp-query; null without it). Extra information. */
  gpuMs: number | null;
  sweepTiming: 'timestamp-query' | 'wall-clock';
  candidates: number;
  rejected: number;
  /** The first few rejection verdicts. */
  rejections: string[];
  sweepSeconds: number;
}

interface Source {
  buffer: GPUBuffer;
  floats: number;
  expected: number;
}

interface Prepared {
  config: ReadConfig;
  pipeline: GPUComputePipeline;
  parts: { groups: number; uniforms: GPUBuffer; partials: GPUBuffer; readback: GPUBuffer; bindGroup: GPUBindGroup }[];
}

export class ReadSweep {
  private readonly tried = new Map<string, ReadCandidate>();

  private constructor(private readonly gpu: GpuContext, private readonly sources: Source[], private readonly bytes: number, private readonly fault: boolean) {}

  /** One source buffer per byte count, rounded up to whole vec4s and filled with a [0, 1) pattern. */
  static async create(gpu: GpuContext, byteCounts: readonly number[], options: { fault?: boolean } = {}): Promise<ReadSweep> {
    const { device } = gpu;
    const pattern = new Float32Array(kPatternFloats);
    for (let i = 0; i < pattern.length; i++) pattern[i] = ((i * 2654435761) >>> 0) / 2 ** 32;
    const patternSum = pattern.reduce((a, v) => a + v, 0);
    const sources: Source[] = [];
    try {
      for (const bytes of byteCounts) {
        const floats = Math.ceil(bytes / 16) * 4;
        const buffer = await createBufferChecked(device, { label: `${kLabel}.src`, size: floats * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
        // writeBuffer, not mappedAtCreation: under Deno on an H100 a mapped-at-creation upload ran at ~20 MB/s.
        for (let at = 0; at < floats; at += pattern.length) device.queue.writeBuffer(buffer, at * 4, pattern, 0, Math.min(pattern.length, floats - at));
        const rest = floats % pattern.length;
        const expected = Math.floor(floats / pattern.length) * patternSum + pattern.subarray(0, rest).reduce((a, v) => a + v, 0);
        sources.push({ buffer, floats, expected });
      }
    } catch (e) {
      for (const s of sources) s.buffer.destroy();
      throw e;
    }
    return new ReadSweep(gpu, sources, byteCounts.reduce((a, b) => a + b, 0), options.fault ?? false);
  }

  private async prepare(config: ReadConfig): Promise<Prepared> {
    const { device } = this.gpu;
    const stage = specializeWgsl(shaderSources.readBandwidth, readVariantDefines(config.vec, config.unroll, this.fault && config.unroll > 1), 'read_bandwidth.wgsl');
    const code = assembleWgsl([shaderSources.workgroupSum], stage);
    const pipeline = await createComputePipeline(device, `${kLabel}.v${config.vec}u${config.unroll}.${layoutOf(config)}${runOf(config) ?? ''}`, code, readPipelineConstants(config));
    const parts = this.sources.map((s) => {
      const groups = Math.min(config.groups, maxGroupsFor(s.floats, config));
      const uniforms = device.createBuffer({ label: `${kLabel}.uniforms`, size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(uniforms, 0, packReadUniforms(s.floats / config.vec, groups, groups));
      const partials = device.createBuffer({ label: `${kLabel}.partials`, size: groups * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
      const readback = device.createBuffer({ label: `${kLabel}.readback`, size: groups * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const bindGroup = device.createBindGroup({
        label: `${kLabel}.bindGroup`,
        layout: pipeline.getBindGroupLayout(0),
        entries: [uniforms, s.buffer, partials].map((b, binding) => ({ binding, resource: { buffer: b } })),
      });
      return { groups, uniforms, partials, readback, bindGroup };
    });
    return { config, pipeline, parts };
  }

  private static release(p: Prepared): void {
    for (const part of p.parts) {
      part.uniforms.destroy();
      part.partials.destroy();
      part.readback.destroy();
    }
  }

  private static record(p: Prepared, pass: GPUComputePassEncoder): void {
    pass.setPipeline(p.pipeline);
    for (const part of p.parts) {
      pass.setBindGroup(0, part.bindGroup);
      pass.dispatchWorkgroups(part.groups);
    }
  }

  /** One call as a user would make it: encode, submit, read the partials back, add them on the host. */
  private async call(p: Prepared, passes = 1): Promise<number[]> {
    const { device } = this.gpu;
    const encoder = device.createCommandEncoder({ label: `${kLabel}.call.encoder` });
    for (let i = 0; i < passes; i++) {
      const pass = encoder.beginComputePass({ label: `${kLabel}.call.pass` });
      ReadSweep.record(p, pass);
      pass.end();
    }
    for (const part of p.parts) encoder.copyBufferToBuffer(part.partials, 0, part.readback, 0, part.groups * 4);
    device.queue.submit([encoder.finish()]);
    return Promise.all(p.parts.map(async (part) => {
      await part.readback.mapAsync(GPUMapMode.READ);
      const sum = new Float32Array(part.readback.getMappedRange()).reduce((a, v) => a + v, 0);
      part.readback.unmap();
      return sum;
    }));
  }

  /** The worst relative error of a call's sums, and the tolerance it must meet. */
  private check(config: ReadConfig, sums: number[]): { rel: number; tol: number } {
    let rel = 0;
    let tol = 0;
    this.sources.forEach((s, i) => {
      const e = Math.abs(sums[i] - s.expected) / s.expected;
      rel = Math.max(rel, Number.isNaN(e) ? Infinity : e);
      tol = Math.max(tol, sumTolerance(s.floats, { ...config, groups: Math.min(config.groups, maxGroupsFor(s.floats, config)) }));
    });
    return { rel, tol };
  }

  /** The fastest passed candidate, of one layout when given. */
  private bestSoFar(layout?: ReadLayout): ReadCandidate | null {
    let best: ReadCandidate | null = null;
    for (const c of this.tried.values()) {
      if (c.verdict === 'passed' && (!layout || layoutOf(c.config) === layout) && (!best || c.ms! < best.ms!)) best = c;
    }
    return best;
  }

  /**
   * Checks one configuration's sums, then (unless it is far off the best, of `rivalLayout` when given)
   * times a few passes.
   */
  private async evaluate(config: ReadConfig, rivalLayout?: ReadLayout): Promise<ReadCandidate> {
    const key = configKey(config);
    const seen = this.tried.get(key);
    if (seen) return seen;
    const p = await this.prepare(config);
    try {
      const t0 = performance.now();
      const sums = await this.call(p);
      const checkedMs = performance.now() - t0;
      const { rel, tol } = this.check(config, sums);
      let candidate: ReadCandidate;
      if (!(rel <= tol)) {
        candidate = { config, ms: null, checkedMs, verdict: `rejected: ${key} summed with relative error ${rel.toExponential(2)} > ${tol.toExponential(2)}`, relError: rel, tolerance: tol };
      } else {
        const best = this.bestSoFar(rivalLayout);
        if (best && checkedMs > kSlowFactor * best.checkedMs) {
          candidate = { config, ms: null, checkedMs, verdict: 'slow', relError: rel, tolerance: tol };
        } else {
          const record = (pass: GPUComputePassEncoder) => ReadSweep.record(p, pass);
          let samples: number[] = [];
          if (this.gpu.hasTimestamps) samples = (await timestamps(this.gpu.device, kSweepSamples, record)).samples;
          if (samples.length * 2 < kSweepSamples) samples = await wallClock(this.gpu.device, kSweepSamples, record);
          candidate = { config, ms: summarize(samples).median, checkedMs, verdict: 'passed', relError: rel, tolerance: tol };
        }
      }
      this.tried.set(key, candidate);
      return candidate;
    } finally {
      ReadSweep.release(p);
    }
  }

  /**
   * Grid sizes 1, 2, 4, ... for one shape, until a grid is kSlowFactor times slower than the best of its
   * layout: the other layout's best grids must not cut this ladder off at its small first ones.
   */
  private async sweepGroups(shape: Omit<ReadConfig, 'groups'> & { layout: ReadLayout }): Promise<void> {
    const floats = Math.max(...this.sources.map((s) => s.floats));
    for (const groups of geometricGroups(maxGroupsFor(floats, shape))) {
      const c = await this.evaluate({ ...shape, groups }, shape.layout);
      const best = this.bestSoFar(shape.layout);
      if (best && (c.verdict === 'slow' || (c.ms !== null && c.ms > kSlowFactor * best.ms!))) break;
    }
  }

  /**
   * Coarse grid sweep of each layout (blocked at COARSE_READ_RUN only), then one stage per dimension around
   * the winner, the other run lengths among them; the finalists on the
   * wall clock, each call `passes` chained reads. Returns the reference and, with `paired`, that call's
   * wall-clock samples, taken alternately with the winner's (null without one).
   */
  async run(
    reps: number, log: (line: string) => void = () => {}, passes = 1, paired?: () => Promise<unknown>,
  ): Promise<{ reference: ReadReference; paired: number[] | null }> {
    const t0 = performance.now();
    const maxWg = this.gpu.shape.maxWorkgroupSize;
    const floats = Math.max(...this.sources.map((s) => s.floats));
    const wg = Math.min(64, maxWg);
    // Per layout: widest loads and most loads in flight first; fewer when every such grid sums wrong. One
    // run length here keeps the ladder's cost that of one layout; refinement tries the others at its winner.
    for (const layout of LAYOUTS) {
      for (const unroll of [...UNROLLS].reverse()) {
        await this.sweepGroups({ wg, vec: 4, unroll, layout, ...(layout === 'blocked' ? { run: COARSE_READ_RUN } : {}) });
        if (this.bestSoFar(layout)) break;
      }
    }
    for (let round = 0; round < 2; round++) {
      const before = this.bestSoFar();
      if (!before) break;
      for (const stage of refineStages(this.bestSoFar()!.config, floats, maxWg)) {
        for (const c of stage) await this.evaluate(c);
      }
      if (this.bestSoFar() === before) break;
    }
    const all = [...this.tried.values()];
    const rejected = all.filter((c) => c.verdict.startsWith('rejected'));
    // Chained passes hide the host's latency, so the GPU clock's ranking holds: only its winner is timed then.
    const finalists = all.filter((c) => c.verdict === 'passed').sort((a, b) => a.ms! - b.ms!).slice(0, passes > 1 ? 1 : kFinalists);
    if (!finalists.length) throw new Error(`read sweep: every candidate was rejected (${rejected[0]?.verdict ?? 'none tried'})`);

    let winner: { c: ReadCandidate; samples: number[]; paired: number[] } | null = null;
    for (const c of finalists) {
      const timed = await this.wallClockCalls(c.config, reps, passes, paired);
      if (timed && (!winner || summarize(timed.samples).median < summarize(winner.samples).median)) winner = { c, ...timed };
    }
    if (!winner) throw new Error('read sweep: every finalist summed wrong on the wall-clock calls');
    const s = summarize(winner.samples);
    const ref: ReadReference = {
      ms: s.median, passes, msMin: s.min, msMax: s.max, gbps: (passes * this.bytes) / (s.median * 1e6), config: winner.c.config,
      gpuMs: this.gpu.hasTimestamps ? winner.c.ms : null,
      sweepTiming: this.gpu.hasTimestamps ? 'timestamp-query' : 'wall-clock',
      candidates: all.length, rejected: rejected.length, rejections: rejected.slice(0, 3).map((c) => c.verdict),
      sweepSeconds: (performance.now() - t0) / 1e3,
    };
    log(`  read sweep: ${all.length} candidates (${rejected.length} rejected), best ${configKey(ref.config)}: ${ref.ms.toFixed(3)} ms call to host`
      + `${passes > 1 ? ` for ${passes} chained passes` : ''}, `
      + `${ref.gbps.toFixed(2)} GB/s (${ref.sweepSeconds.toFixed(1)} s)`);
    return { reference: ref, paired: paired ? winner.paired : null };
  }

  /**
   * Wall clock from the call (`passes` chained reads) to the sums on the host, after two untimed calls; null
   * if a sum is wrong. With `paired`, each read call is followed by one timed call of it (warmed up alike).
   */
  private async wallClockCalls(config: ReadConfig, reps: number, passes: number, paired?: () => Promise<unknown>): Promise<{ samples: number[]; paired: number[] } | null> {
    const p = await this.prepare(config);
    try {
      for (let i = 0; i < 2; i++) {
        await this.call(p, passes);
        await paired?.();
      }
      const samples: number[] = [];
      const pairedSamples: number[] = [];
      for (let i = 0; i < reps; i++) {
        const t0 = performance.now();
        const sums = await this.call(p, passes);
        samples.push(performance.now() - t0);
        const { rel, tol } = this.check(config, sums);
        if (!(rel <= tol)) return null;
        if (paired) {
          const t1 = performance.now();
          await paired();
          pairedSamples.push(performance.now() - t1);
        }
      }
      return { samples, paired: pairedSamples };
    } finally {
      ReadSweep.release(p);
    }
  }

  dispose(): void {
    for (const s of this.sources) s.buffer.destroy();
  }
}

/** The fields of a suite row (bench/report.ts) that the read yardstick fills. */
export interface ReadTimedRow {
  read: ReadReference | null;
  ms: number | null;
  msMin: number | null;
  msMax: number | null;
  repetitions: number;
  notes: string[];
}

/**
 * The read reference over `byteCounts` (each call `passes` reads) into row.read and, given nabla's `call`,
 * that call's wall-clock samples taken in alternation with the reference's into row.ms..repetitions. A sweep
 * that fails is a note, leaving row.ms null for the caller to time nabla on its own.
 */
export async function timeBesideRead(
  gpu: GpuContext, byteCounts: readonly number[], fault: boolean, reps: number, passes: number, call: (() => Promise<unknown>) | undefined,
  row: ReadTimedRow, log: (line: string) => void, phase: (what: string) => void,
): Promise<void> {
  try {
    const sweep = await ReadSweep.create(gpu, byteCounts, { fault });
    try {
      const { reference, paired } = await sweep.run(reps, log, passes, call);
      row.read = reference;
      if (paired) {
        const s = summarize(paired);
        Object.assign(row, { ms: s.median, msMin: s.min, msMax: s.max, repetitions: paired.length });
        row.notes.push('nabla timed in alternation with the read reference (one call each, in turn)');
        phase(`nabla timed: ${s.median.toFixed(3)} ms`);
      }
    } finally {
      sweep.dispose();
    }
  } catch (e) {
    row.notes.push(`read sweep: ${errorText(e)}`);
  }
}
