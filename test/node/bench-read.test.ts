// The read sweep's layout dimension (bench/suite/read-plan.ts): grid-stride or per-thread runs of READ_RUN
// elements. Its key, pipeline constants, grid cap, sum tolerance and refinement stage; the shader's run
// length is the one the host plans with. The rest of the plan is checked in bench-peers.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  configKey, maxGroupsFor, READ_RUN, readPipelineConstants, refineStages, sumTolerance, type ReadConfig,
} from '../../bench/suite/read-plan.ts';

const shader = readFileSync(new URL('../../shaders/read_bandwidth.wgsl', import.meta.url), 'utf8');

describe('read sweep layouts', () => {
  it('the shader runs READ_RUN elements a run, a multiple of every unroll', () => {
    const run = shader.match(/^const RUN: u32 = (\d+)u;/m);
    expect(run, 'const RUN in read_bandwidth.wgsl').not.toBeNull();
    expect(Number(run![1])).toBe(READ_RUN);
    expect(READ_RUN % 4).toBe(0);
  });

  it('keys and pipeline constants name the layout; an older result file without one reads as before', () => {
    const shape = { groups: 8, wg: 64, vec: 4, unroll: 2 } as const;
    expect(configKey({ ...shape, layout: 'strided' })).toBe('8x64 vec4 unroll2 strided');
    expect(configKey({ ...shape, layout: 'blocked' })).toBe('8x64 vec4 unroll2 blocked');
    expect(configKey(shape)).toBe('8x64 vec4 unroll2');
    expect(readPipelineConstants({ wg: 128, layout: 'blocked' })).toEqual({ WG: 128, BLOCKED: 1 });
    expect(readPipelineConstants({ wg: 64, layout: 'strided' })).toEqual({ WG: 64, BLOCKED: 0 });
    expect(readPipelineConstants({ wg: 64 })).toEqual({ WG: 64, BLOCKED: 0 });
  });

  it('blocked grids stop where a thread would have no whole run, whatever the unroll', () => {
    for (const unroll of [1, 2, 4] as const) {
      expect(maxGroupsFor(2 ** 20, { wg: 64, vec: 4, unroll, layout: 'blocked' })).toBe(2 ** 20 / (64 * 4 * READ_RUN));
    }
    expect(maxGroupsFor(2 ** 20, { wg: 64, vec: 4, unroll: 4, layout: 'strided' })).toBe(1024);
    expect(maxGroupsFor(1000, { wg: 64, vec: 4, unroll: 1, layout: 'blocked' })).toBe(1);
  });

  it('blocked tolerance: a thread\'s runs shared among its accumulators, then its leftover elements', () => {
    // 7 x 64 = 448 threads; 15941 vec4 elements = 996 whole runs (2 rounds of 448 and 100 more) + 5 left over.
    const floats = 4 * (READ_RUN * (448 * 2 + 100) + 5);
    const config: ReadConfig = { groups: 7, wg: 64, vec: 4, unroll: 4, layout: 'blocked' };
    // 3 runs x 16 / 4 accumulators + 1 leftover = 13 serial adds, + 2 + 2 + 6 + 1 combine, twice, in 2^-24.
    expect(sumTolerance(floats, config)).toBeCloseTo(2 * (13 + 2 + 2 + 6 + 1) * 2 ** -24, 15);
    // One accumulator takes the whole run: 3 x 16 + 1.
    expect(sumTolerance(floats, { ...config, unroll: 1 })).toBeCloseTo(2 * (49 + 0 + 2 + 6 + 1) * 2 ** -24, 15);
    // Fewer threads, longer chains.
    expect(sumTolerance(2 ** 24, { ...config, groups: 1 })).toBeGreaterThan(sumTolerance(2 ** 24, { ...config, groups: 256 }));
  });

  it('refinement keeps the winner\'s layout and ends with the other layout at the winner, within its grid cap', () => {
    const floats = 2 ** 20;
    const strided: ReadConfig = { groups: 1024, wg: 64, vec: 4, unroll: 4, layout: 'strided' };
    const stages = refineStages(strided, floats, 256);
    for (const c of stages.slice(0, -1).flat()) expect(c.layout).toBe('strided');
    expect(stages.at(-1)).toEqual([{ ...strided, layout: 'blocked', groups: maxGroupsFor(floats, { ...strided, layout: 'blocked' }) }]);

    const blocked: ReadConfig = { groups: 16, wg: 128, vec: 2, unroll: 2, layout: 'blocked' };
    const back = refineStages(blocked, floats, 256);
    for (const c of back.slice(0, -1).flat()) {
      expect(c.layout).toBe('blocked');
      expect(c.groups).toBeLessThanOrEqual(maxGroupsFor(floats, c));
    }
    expect(back.at(-1)).toEqual([{ ...blocked, layout: 'strided' }]);
    // A config from before the layout dimension is strided: its last stage tries blocked.
    expect(refineStages({ groups: 8, wg: 64, vec: 4, unroll: 4 }, floats, 256).at(-1)!.map((c) => c.layout)).toEqual(['blocked']);
  });
});
