// The autotuner's search (src/gpu/tuning/autotune.ts) on a simulated queue: every recorded unit of work takes
// a known time, so ladders, validation, budget and the table can be checked without a GPU. The wall-clock
// path of timer.ts runs as on an adapter without timestamp-query. Times differ by 2x or more between the
// candidates compared, so timer overshoot on a loaded machine does not change the verdicts.
import { describe, expect, it } from 'vitest';
import { autotune, AutotuneError, tuneCached, type TuningTrial } from '../../src/gpu/tuning/autotune.ts';
import { TuningCache, type TuningKey } from '../../src/gpu/tuning/cache.ts';
import { timeWork } from '../../src/gpu/tuning/timer.ts';

type Pass = GPUComputePassEncoder & { work(ms: number): void };

/** A device whose queue finishes a submit after the sum of the work its passes recorded (setTimeout). */
function simulatedGpu() {
  let queued = 0;
  const device = {
    createCommandEncoder: () => {
      let cost = 0;
      return {
        beginComputePass: () => ({ work: (ms: number) => { cost += ms; }, end: () => undefined }),
        finish: () => ({ cost }),
      };
    },
    queue: {
      submit: (buffers: Array<{ cost: number }>) => { queued += buffers.reduce((s, b) => s + b.cost, 0); },
      onSubmittedWorkDone: () => new Promise<void>((resolve) => {
        const ms = queued;
        queued = 0;
        setTimeout(resolve, ms);
      }),
    },
  };
  return { device: device as unknown as GPUDevice, hasTimestamps: false };
}

interface Config { wg: number; groups: number }
const configs = (wg: number, groups: number[]) => groups.map((g) => ({ wg, groups: g }));

/** A trial whose unit of work takes msOf(config), and whose result is right unless wrong(config). */
function trialFor(msOf: (c: Config) => number, wrong: (c: Config) => boolean = () => false, prepared: Config[] = []) {
  return async (c: Config): Promise<TuningTrial> => {
    prepared.push(c);
    return {
      record: (pass) => (pass as Pass).work(msOf(c)),
      validate: async () => (wrong(c) ? 'grad_b = 7, float64 1' : null),
    };
  };
}

describe('timeWork', () => {
  it('grows the repetitions until a sample lasts minMs, and reports the time per unit', async () => {
    const t = await timeWork(simulatedGpu(), (pass) => (pass as Pass).work(1), { minMs: 8, samples: 2 });
    expect(t.method).toBe('wall-clock');
    expect(t.reps).toBeGreaterThanOrEqual(8);
    expect(t.samples).toHaveLength(2);
    expect(t.ms).toBeGreaterThanOrEqual(0.9);
    expect(t.ms).toBeLessThan(4);
  });

  it('gives up after one sample slower than giveUpAboveMs', async () => {
    const t = await timeWork(simulatedGpu(), (pass) => (pass as Pass).work(20), { giveUpAboveMs: 5 });
    expect([t.abandoned, t.samples.length]).toEqual([true, 1]);
  });
});

describe('autotune', () => {
  const gpu = simulatedGpu();

  it('a ladder stops after two candidates in a row slower than stopFactor x its best (software-adapter shape)', async () => {
    const ms: Record<number, number> = { 1: 30, 2: 15, 4: 8, 8: 40, 16: 60, 32: 120, 64: 200 };
    const prepared: Config[] = [];
    const r = await autotune(gpu, {
      family: 'toy', candidates: configs(64, [1, 2, 4, 8, 16, 32, 64]), ladderOf: (c) => `${c.wg}`, prepare: trialFor((c) => ms[c.groups], undefined, prepared),
    });
    expect(r.best).toEqual({ wg: 64, groups: 4 });
    expect(prepared.map((c) => c.groups)).toEqual([1, 2, 4, 8, 16, 4, 2, 1]); // 32 and 64 never built; then the three fastest again
    expect(r.trials.find((t) => t.config.groups === 8)?.abandoned).toBe(true);
  });

  it('a lucky first timing does not win: the fastest few are timed again in turns', async () => {
    // groups 2 is timed at 4 ms once (a quiet moment), then at its true 40 ms; groups 4 is always 12 ms.
    const times: Record<number, number[]> = { 1: [30], 2: [4, 4, 4, 40], 4: [12] };
    const calls: Record<number, number> = { 1: 0, 2: 0, 4: 0 };
    const msOf = (c: Config) => {
      const seq = times[c.groups];
      return seq[Math.min(seq.length - 1, calls[c.groups]++)];
    };
    const r = await autotune(gpu, { family: 'toy', candidates: configs(64, [1, 2, 4]), prepare: trialFor(msOf), minSampleMs: 1 });
    expect(r.best).toEqual({ wg: 64, groups: 4 });
    const single = await autotune(gpu, { family: 'toy', candidates: configs(64, [1, 2, 4]), prepare: trialFor((c) => ({ 1: 30, 2: 4, 4: 12 })[c.groups]!), finalists: 1 });
    expect(single.best).toEqual({ wg: 64, groups: 2 }); // without a final round the first timing decides
  });

  it('one slow candidate (a noisy sample on a shared machine) does not end the ladder', async () => {
    const ms: Record<number, number> = { 1: 30, 2: 15, 4: 45, 8: 6, 16: 40, 32: 50 };
    const r = await autotune(gpu, { family: 'toy', candidates: configs(64, [1, 2, 4, 8, 16, 32]), prepare: trialFor((c) => ms[c.groups]) });
    expect(r.best).toEqual({ wg: 64, groups: 8 });
  });

  it('walks a ladder whose times keep falling to its end (GPU shape), and compares across ladders', async () => {
    const ms = (c: Config) => 96 / c.groups + (c.wg === 64 ? 2 : 20);
    const r = await autotune(gpu, {
      family: 'toy', candidates: [...configs(64, [1, 2, 4, 8, 16]), ...configs(256, [1, 2, 4, 8, 16])], ladderOf: (c) => `${c.wg}`, prepare: trialFor(ms),
    });
    expect(r.trials.filter((t) => t.ms !== undefined)).toHaveLength(10);
    expect(r.best).toEqual({ wg: 64, groups: 16 });
  });

  it('never picks a candidate whose result is wrong, however fast; a build failure is a rejection too', async () => {
    const r = await autotune(gpu, {
      family: 'toy', candidates: configs(64, [1, 2, 4]),
      prepare: async (c) => {
        if (c.groups === 4) throw new Error('WGSL toy: line 3:1 unresolved identifier');
        return trialFor((k) => (k.groups === 2 ? 2 : 10), (k) => k.groups === 2)(c);
      },
    });
    expect(r.best).toEqual({ wg: 64, groups: 1 });
    expect(r.trials.map((t) => t.rejected ?? 'timed')).toEqual(['timed', 'invalid result: grad_b = 7, float64 1', 'failed: WGSL toy: line 3:1 unresolved identifier']);
  });

  it('starts no candidate once the budget is spent (after one has validated)', async () => {
    const r = await autotune(gpu, { family: 'toy', candidates: configs(64, [1, 2, 4]), prepare: trialFor(() => 5), budgetMs: 1 });
    expect(r.trials.map((t) => t.rejected ?? 'timed')).toEqual(['timed', expect.stringMatching(/^skipped: tuning budget/), expect.stringMatching(/^skipped/)]);
  });

  it('ladderWalk turns: the ladders advance in turns, so a budget spent on a long ladder still leaves the others their first candidates', async () => {
    // 40 candidates of 2 ms on workgroup 64 (never slower: walked to the end but for the budget), then 2 of 1 ms
    // on workgroup 256. Walked one ladder after the other, the budget would be gone before workgroup 256. Each
    // candidate costs at least 3 samples of 2 ms, so the first ladder alone takes >= 240 ms: the 100 ms budget is
    // spent with room to spare on a quiet machine too (at 200 ms a fast machine sometimes got through it).
    // No ladder ends for slowness (patience): otherwise two candidates timed above 1.5x the best on a loaded
    // machine end the first ladder, and the budget may never be spent (a CI run under load failed here).
    const candidates = [...configs(64, Array.from({ length: 40 }, (_, i) => i + 1)), ...configs(256, [1, 2])];
    const patience = candidates.length;
    const r = await autotune(gpu, { family: 'toy', candidates, ladderOf: (c) => `${c.wg}`, prepare: trialFor((c) => (c.wg === 256 ? 1 : 2)), budgetMs: 100, ladderWalk: 'turns', patience });
    expect(r.trials.slice(0, 4).map((t) => t.config)).toEqual([{ wg: 64, groups: 1 }, { wg: 256, groups: 1 }, { wg: 64, groups: 2 }, { wg: 256, groups: 2 }]);
    expect(r.trials.filter((t) => t.config.wg === 256).every((t) => t.ms !== undefined)).toBe(true);
    expect(r.trials.some((t) => t.rejected?.startsWith('skipped: tuning budget'))).toBe(true);
    expect(r.best.wg).toBe(256);
    // In order (the default: a list ordered by priority), the budget is spent on the first ladder.
    const inOrder = await autotune(gpu, { family: 'toy', candidates, ladderOf: (c) => `${c.wg}`, prepare: trialFor((c) => (c.wg === 256 ? 1 : 2)), budgetMs: 100, patience });
    expect(inOrder.trials.slice(0, 2).map((t) => t.config)).toEqual([{ wg: 64, groups: 1 }, { wg: 64, groups: 2 }]);
    expect(inOrder.trials.filter((t) => t.config.wg === 256).every((t) => t.rejected?.startsWith('skipped: tuning budget'))).toBe(true);
  });

  it('throws AutotuneError naming the family and the reasons when nothing validates', async () => {
    const run = autotune(gpu, { family: 'toy.family', candidates: configs(64, [1, 2]), prepare: trialFor(() => 3, () => true) });
    await expect(run).rejects.toThrow(AutotuneError);
    await expect(run).rejects.toThrow(/toy\.family.*grad_b = 7/);
  });

  it('tuneCached tunes on a miss, stores the winner, and serves the next call from the table', async () => {
    const cache = new TuningCache();
    const key: TuningKey = {
      adapter: { vendor: 'v', architecture: 'a', device: '', description: '', isFallbackAdapter: false },
      limits: {
        maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupsPerDimension: 65535,
        maxComputeWorkgroupStorageSize: 16384, maxStorageBufferBindingSize: 1 << 27, maxBufferSize: 1 << 28,
      },
      family: 'toy', shape: { n: 10 },
    };
    const isConfig = (c: unknown): c is Config => typeof c === 'object' && c !== null && 'wg' in c && 'groups' in c;
    const prepared: Config[] = [];
    const spec = { family: 'toy', candidates: configs(64, [1, 2]), prepare: trialFor((c) => 12 / c.groups, undefined, prepared) };
    const first = await tuneCached(gpu, cache, key, isConfig, spec);
    expect([first.config, first.result !== null, first.entry.validated, first.entry.tried]).toEqual([{ wg: 64, groups: 2 }, true, 2, 2]);
    const second = await tuneCached(gpu, cache, key, isConfig, spec);
    expect([second.config, second.result]).toEqual([{ wg: 64, groups: 2 }, null]);
    expect(prepared).toHaveLength(4); // each once, then both again in the final round; nothing built the second time
  });
});
