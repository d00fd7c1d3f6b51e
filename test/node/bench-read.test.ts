// The read sweep's layout and run dimensions (bench/suite/read-plan.ts): grid-stride or per-thread runs, the
// run's length swept over READ_RUNS. Their keys, pipeline constants, grid cap, sum tolerance and refinement
// stages; the shader's RUN is an override. The rest of the plan is checked in bench-peers.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  COARSE_READ_RUN, configKey, LEGACY_READ_RUN, maxGroupsFor, READ_RUNS, readPipelineConstants, refineStages, sumTolerance, type ReadConfig,
} from '../../bench/suite/read-plan.ts';

const shader = readFileSync(new URL('../../shaders/read_bandwidth.wgsl', import.meta.url), 'utf8');

describe('read sweep layouts and runs', () => {
  it('RUN is a pipeline override defaulting to the legacy run; every swept run is a multiple of every unroll', () => {
    const run = shader.match(/^override RUN: u32 = (\d+)u;/m);
    expect(run, 'override RUN in read_bandwidth.wgsl').not.toBeNull();
    expect(Number(run![1])).toBe(LEGACY_READ_RUN);
    for (const r of READ_RUNS) expect(r % 4, `run ${r}`).toBe(0);
    expect(READ_RUNS).toContain(COARSE_READ_RUN);
    expect(new Set(READ_RUNS).size).toBe(READ_RUNS.length);
  });

  it('keys and pipeline constants name the layout and a blocked run; strided ignores a run; older files read as before', () => {
    const shape = { groups: 8, wg: 64, vec: 4, unroll: 2 } as const;
    expect(configKey({ ...shape, layout: 'strided' })).toBe('8x64 vec4 unroll2 strided');
    expect(configKey({ ...shape, layout: 'strided', run: 64 })).toBe('8x64 vec4 unroll2 strided');
    expect(configKey({ ...shape, layout: 'blocked', run: 64 })).toBe('8x64 vec4 unroll2 blocked run64');
    // A blocked config from before the run was swept read runs of 16: the same kernel, the same key.
    expect(configKey({ ...shape, layout: 'blocked' })).toBe('8x64 vec4 unroll2 blocked run16');
    expect(configKey({ ...shape, layout: 'blocked' })).toBe(configKey({ ...shape, layout: 'blocked', run: 16 }));
    expect(configKey(shape)).toBe('8x64 vec4 unroll2');
    for (const run of READ_RUNS) expect(readPipelineConstants({ wg: 128, layout: 'blocked', run })).toEqual({ WG: 128, BLOCKED: 1, RUN: run });
    expect(readPipelineConstants({ wg: 128, layout: 'blocked' })).toEqual({ WG: 128, BLOCKED: 1, RUN: LEGACY_READ_RUN });
    expect(readPipelineConstants({ wg: 64, layout: 'strided', run: 256 })).toEqual({ WG: 64, BLOCKED: 0 });
    expect(readPipelineConstants({ wg: 64 })).toEqual({ WG: 64, BLOCKED: 0 });
    for (const run of [0, 6, 17.5]) expect(() => readPipelineConstants({ wg: 64, layout: 'blocked', run }), `run ${run}`).toThrow(/multiple of 4/);
  });

  it('blocked grids stop where a thread would have no whole run of its length, whatever the unroll', () => {
    for (const run of READ_RUNS) {
      for (const unroll of [1, 2, 4] as const) {
        expect(maxGroupsFor(2 ** 20, { wg: 64, vec: 4, unroll, layout: 'blocked', run }), `run ${run} unroll ${unroll}`).toBe(2 ** 20 / (64 * 4 * run));
      }
    }
    expect(maxGroupsFor(2 ** 20, { wg: 64, vec: 4, unroll: 4, layout: 'blocked' })).toBe(2 ** 20 / (64 * 4 * LEGACY_READ_RUN));
    expect(maxGroupsFor(2 ** 20, { wg: 64, vec: 4, unroll: 4, layout: 'strided', run: 256 })).toBe(1024);
    expect(maxGroupsFor(1000, { wg: 64, vec: 4, unroll: 1, layout: 'blocked', run: 16 })).toBe(1);
  });

  it('blocked tolerance: a thread\'s runs shared among its accumulators, then its leftover elements, at each run', () => {
    const threads = 7 * 64;
    for (const run of READ_RUNS) {
      // 2 rounds of runs over every thread and 100 runs more (3 for the first 100 threads), + 5 vec4 elements left over.
      const floats = 4 * (run * (threads * 2 + 100) + 5);
      const config: ReadConfig = { groups: 7, wg: 64, vec: 4, unroll: 4, layout: 'blocked', run };
      // 3 runs x run / 4 accumulators + 1 leftover serial adds, + 2 + 2 + 6 + 1 combine, twice, in 2^-24.
      expect(sumTolerance(floats, config), `run ${run}`).toBeCloseTo(2 * ((3 * run) / 4 + 1 + 2 + 2 + 6 + 1) * 2 ** -24, 15);
      // One accumulator takes the whole run.
      expect(sumTolerance(floats, { ...config, unroll: 1 }), `run ${run}`).toBeCloseTo(2 * (3 * run + 1 + 0 + 2 + 6 + 1) * 2 ** -24, 15);
    }
    // Longer runs at the same grid over data one run does not fill: fewer whole runs, more left over.
    const config: ReadConfig = { groups: 1, wg: 64, vec: 4, unroll: 4, layout: 'blocked', run: 256 };
    // 4 x 100 elements: no whole run of 256, 100 / 64 -> 2 leftover adds a thread.
    expect(sumTolerance(400, config)).toBeCloseTo(2 * (0 + 2 + 2 + 2 + 6 + 1) * 2 ** -24, 15);
    expect(sumTolerance(400, { ...config, run: 16 })).toBeCloseTo(2 * (1 * 4 + 1 + 2 + 2 + 6 + 1) * 2 ** -24, 15);
    // Fewer threads, longer chains.
    expect(sumTolerance(2 ** 24, { ...config, groups: 1 })).toBeGreaterThan(sumTolerance(2 ** 24, { ...config, groups: 256 }));
    // Strided ignores a run.
    const strided: ReadConfig = { groups: 7, wg: 64, vec: 4, unroll: 4, layout: 'strided' };
    expect(sumTolerance(2 ** 20, { ...strided, run: 256 })).toBe(sumTolerance(2 ** 20, strided));
  });

  it('refinement keeps the winner\'s layout and run, tries its other runs, and ends with the other layout, within each grid cap', () => {
    const floats = 2 ** 20;
    const strided: ReadConfig = { groups: 1024, wg: 64, vec: 4, unroll: 4, layout: 'strided' };
    const stages = refineStages(strided, floats, 256);
    for (const c of stages.slice(0, -1).flat()) {
      expect(c.layout).toBe('strided');
      expect(c).not.toHaveProperty('run');
    }
    // A strided winner has no run to keep: the blocked layout is tried at every run, each within its grid cap.
    expect(stages.at(-1)).toEqual(READ_RUNS.map((run) => ({ ...strided, layout: 'blocked', run, groups: maxGroupsFor(floats, { ...strided, layout: 'blocked', run }) })));

    const blocked: ReadConfig = { groups: 16, wg: 128, vec: 2, unroll: 2, layout: 'blocked', run: 64 };
    const back = refineStages(blocked, floats, 256);
    for (const c of back.slice(0, -2).flat()) {
      expect(c.layout).toBe('blocked');
      expect(c.run).toBe(64);
      expect(c.groups).toBeLessThanOrEqual(maxGroupsFor(floats, c));
    }
    // The run stage: the other lengths at the winner's shape, 256 clamped to its cap (2^20 / (128 x 2 x 256) = 16 fits).
    expect(back.at(-2)).toEqual([{ ...blocked, run: 16 }, { ...blocked, run: 256 }]);
    // The other layout drops the run.
    expect(back.at(-1)).toEqual([{ groups: 16, wg: 128, vec: 2, unroll: 2, layout: 'strided' }]);
    expect(back.at(-1)![0]).not.toHaveProperty('run');

    // A wide grid is clamped where a longer run leaves a thread no whole run.
    // (2^20 floats / (128 x 2 lanes) = 4096 elements: 256 runs of 16, 64 of 64, 16 of 256.)
    const wide = refineStages({ ...blocked, groups: 256, run: 16 }, floats, 256).at(-2)!;
    expect(wide).toEqual([{ ...blocked, groups: 64, run: 64 }, { ...blocked, groups: 16, run: 256 }]);
    // A blocked config from before the run was swept read runs of 16: its run stage tries the others.
    const { run: _, ...legacy } = blocked;
    expect(refineStages(legacy, floats, 256).at(-2)!.map((c) => c.run)).toEqual([64, 256]);
    // A config from before the layout dimension is strided: its last stage tries blocked at every run.
    expect(refineStages({ groups: 8, wg: 64, vec: 4, unroll: 4 }, floats, 256).at(-1)!.map((c) => [c.layout, c.run])).toEqual(READ_RUNS.map((run) => ['blocked', run]));
  });
});
