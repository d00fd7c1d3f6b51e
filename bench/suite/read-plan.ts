// The read-kernel sweep's pure parts: the configuration space, the shader variant each configuration
// needs, the sum check's tolerance and the order the sweep walks the space in (bench/suite/read-sweep.ts
// runs it on a device). No GPU here: test/node/bench-read.test.ts checks these directly.

export type VecWidth = 1 | 2 | 4;
export type Unroll = 1 | 2 | 4;
/**
 * How a thread walks the data. 'strided': consecutive threads read consecutive elements, a thread's loads a
 * grid apart (coalesced: right for hardware GPUs). 'blocked': each thread reads runs of `run` consecutive
 * elements, its runs a grid apart (right for CPU-backed adapters such as SwiftShader, which run a
 * workgroup's threads a few lanes at a time through the whole loop). The gradient kernels have both.
 */
export type ReadLayout = 'strided' | 'blocked';

export interface ReadConfig {
  /** Workgroups in the grid. */
  groups: number;
  /** Threads per workgroup. */
  wg: number;
  /** float32 lanes per load: f32, vec2<f32> or vec4<f32>. */
  vec: VecWidth;
  /** Independent loads in flight per loop trip. */
  unroll: Unroll;
  /** Absent in result files written before the sweep tried layouts: those read strided. */
  layout?: ReadLayout;
  /**
   * Blocked only: elements of the load type in a run (one of READ_RUNS). Strided configs carry none, and any
   * given is ignored (key, constants, grid cap, tolerance). Absent on a blocked config from a result file
   * written before the run was swept: those read runs of LEGACY_READ_RUN.
   */
  run?: number;
}

export const WORKGROUP_SIZES = [64, 128, 256] as const;
export const VEC_WIDTHS: readonly VecWidth[] = [1, 2, 4];
export const UNROLLS: readonly Unroll[] = [1, 2, 4];
export const LAYOUTS: readonly ReadLayout[] = ['strided', 'blocked'];
/**
 * Run lengths the blocked layout tries (RUN in read_bandwidth.wgsl), in elements of the load type. At vec4,
 * 16 / 64 / 256 elements are 256 B / 1 KiB / 4 KiB: the gradient kernels' blocked runs of 16 quads span
 * 256 B of x at 1 column to 4 KiB at 16, and on SwiftShader longer runs read faster (2^22 floats, 8x64 vec4
 * unroll4, test/gpu/read-bandwidth.test.ts: ~6 ms a call at 64 against 7-10 ms at 16 in three of four runs
 * on the shared 2-core host), so the yardstick may not stop at their shortest.
 * Multiples of 4: each of 1, 2 or 4 accumulators takes an equal whole share of a run.
 */
export const READ_RUNS = [16, 64, 256] as const;
/** The run the coarse grid ladder reads (the others are tried around its winner): the middle length. */
export const COARSE_READ_RUN = 64;
/** The run of blocked configs that name none (result files from before the run was swept): the shader's default. */
export const LEGACY_READ_RUN = 16;
/** The largest grid tried: several thousand workgroups keep every compute unit of a big GPU busy. */
export const MAX_GROUPS = 8192;

/** ReadUniforms { count, num_groups, groups_x, _pad: u32 } of read_bandwidth.wgsl; count in elements of the load type. */
export function packReadUniforms(count: number, numGroups: number, groupsX: number): ArrayBuffer {
  return new Uint32Array([count, numGroups, groupsX, 0]).buffer;
}

export function layoutOf(c: Pick<ReadConfig, 'layout'>): ReadLayout {
  return c.layout ?? 'strided';
}

/** Elements a thread reads per run: null for strided configs, which have no runs. */
export function runOf(c: Pick<ReadConfig, 'layout' | 'run'>): number | null {
  return layoutOf(c) === 'blocked' ? (c.run ?? LEGACY_READ_RUN) : null;
}

/**
 * The layout is shown where the config names one (older result files' configs are strided without saying
 * so); a blocked config's run always, so one kernel has one key whether its run is named or implied.
 */
export function configKey(c: ReadConfig): string {
  const run = runOf(c);
  return `${c.groups}x${c.wg} vec${c.vec} unroll${c.unroll}${c.layout ? ` ${c.layout}` : ''}${run === null ? '' : ` run${run}`}`;
}

/** Pipeline-overridable constants of shaders/read_bandwidth.wgsl for one configuration (RUN for blocked only). */
export function readPipelineConstants(c: Pick<ReadConfig, 'wg' | 'layout' | 'run'>): Record<string, number> {
  const run = runOf(c);
  if (run === null) return { WG: c.wg, BLOCKED: 0 };
  // The shader's inner loop steps by the unroll (up to 4) and would read past a run that is not a multiple of it.
  if (!Number.isInteger(run) || run < 4 || run % 4 !== 0) throw new Error(`read_bandwidth.wgsl: a blocked run must be a positive multiple of 4, got ${run}`);
  return { WG: c.wg, BLOCKED: 1, RUN: run };
}

/** wgsl-preprocessor defines of shaders/read_bandwidth.wgsl for one variant. */
export function readVariantDefines(vec: VecWidth, unroll: Unroll, fault: boolean): Record<string, string | boolean> {
  return {
    VTYPE: vec === 1 ? 'f32' : `vec${vec}<f32>`,
    SCALAR: vec === 1,
    UNROLL2: unroll >= 2,
    UNROLL4: unroll >= 4,
    FAULT: fault,
  };
}

/** Workgroup sizes the device allows, from the list. */
export function workgroupSizes(maxWorkgroupSize: number): number[] {
  const sizes = WORKGROUP_SIZES.filter((w) => w <= maxWorkgroupSize);
  return sizes.length ? sizes : [maxWorkgroupSize];
}

/**
 * The most workgroups worth launching over `floats` values: each thread gets at least one full trip of its
 * loop (strided: unroll loads of vec lanes; blocked: one whole run); more would only add threads that have no
 * whole trip to do.
 */
export function maxGroupsFor(floats: number, c: Pick<ReadConfig, 'wg' | 'vec' | 'unroll' | 'layout' | 'run'>): number {
  const perThread = runOf(c) ?? c.unroll;
  return Math.max(1, Math.min(MAX_GROUPS, Math.floor(floats / (c.wg * c.vec * perThread))));
}

/** 1, 2, 4, ... up to the cap (the cap itself included). */
export function geometricGroups(cap: number): number[] {
  const out: number[] = [];
  for (let g = 1; g < cap; g *= 2) out.push(g);
  out.push(cap);
  return out;
}

/**
 * The sum check's tolerance for one configuration over `floats` values (relative to the float64 sum).
 * Every value is positive (the pattern is in [0, 1)), so recursive float32 summation errs by at most
 * k * 2^-24 of the sum, k being the longest chain of additions one value goes through: its accumulator's
 * serial adds, the unrolled accumulators' and the lanes' combine, and the workgroup tree (the host adds
 * the partials in float64). Twice that bound: a kernel that skips or repeats a share of the data larger
 * than this is caught; typical errors are far below it. Blocked, one accumulator's chain is its share of
 * each of the thread's runs (the runs dealt out a grid apart, so some threads get one more) and then the
 * elements after the last whole run, dealt out one a thread per grid.
 */
export function sumTolerance(floats: number, c: ReadConfig): number {
  const threads = c.groups * c.wg;
  const run = runOf(c);
  let serial: number;
  if (run !== null) {
    const elements = Math.floor(floats / c.vec);
    const runs = Math.floor(elements / run);
    serial = Math.ceil(runs / threads) * (run / c.unroll) + Math.ceil((elements - runs * run) / threads);
  } else {
    serial = Math.ceil(floats / (threads * c.vec * c.unroll)) + 1;
  }
  const depth = serial + Math.log2(c.unroll) + Math.log2(c.vec) + Math.log2(c.wg) + 1;
  return 2 * depth * 2 ** -24;
}

/**
 * Neighbours of the best configuration so far that the next sweep stage tries. A blocked winner's
 * next-to-last stage is the other run lengths at its shape; the last stage is the other layout at the winner
 * (strided drops the run; blocked is tried at every run length, none having been tried at that shape).
 */
export function refineStages(best: ReadConfig, floats: number, maxWorkgroupSize: number): ReadConfig[][] {
  const clamp = (c: ReadConfig): ReadConfig => ({ ...c, groups: Math.max(1, Math.min(c.groups, maxGroupsFor(floats, c))) });
  const wgs = workgroupSizes(maxWorkgroupSize);
  const threads = best.groups * best.wg;
  const layout = layoutOf(best);
  const bestRun = runOf(best);
  const runStage = bestRun === null ? [] : [READ_RUNS.filter((run) => run !== bestRun).map((run) => clamp({ ...best, run }))];
  const { run: _bestRun, ...shape } = best;
  const otherLayout: ReadConfig[] = layout === 'blocked' ? [{ ...shape, layout: 'strided' }] : READ_RUNS.map((run) => ({ ...shape, layout: 'blocked', run }));
  return [
    // Workgroup size at the same grid, and at the same thread count.
    wgs.flatMap((wg) => [{ ...best, wg }, { ...best, wg, groups: Math.max(1, Math.round(threads / wg)) }]).map(clamp),
    VEC_WIDTHS.map((vec) => clamp({ ...best, vec })),
    UNROLLS.map((unroll) => clamp({ ...best, unroll })),
    // The grid again, a half step either side of the winner.
    [Math.round(best.groups / Math.SQRT2), Math.round(best.groups * Math.SQRT2), best.groups >> 1, best.groups * 2]
      .filter((g) => g >= 1).map((groups) => clamp({ ...best, groups })),
    ...runStage,
    otherLayout.map(clamp),
  ];
}
