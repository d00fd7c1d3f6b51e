import { describe, expect, it } from 'vitest';
import { createOptimState, optimUpdate } from '../../src/cpu/optim_update.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import { learningRate, parseSchedule, scheduleText, validateSchedule, type Schedule } from '../../src/optim/schedule.ts';

describe('optimizer update rules (float64)', () => {
  it('sgd with L2: theta - lr (g + lambda theta)', () => {
    const c = optimizerConfig({ kind: 'sgd', weightDecay: 0.1 });
    const theta = Float64Array.from([1, -2]);
    optimUpdate(c, createOptimState('sgd', 2), theta, [0.5, 0.5], 0.1, [1, 0]);
    expect(theta[0]).toBeCloseTo(1 - 0.1 * (0.5 + 0.1), 15);
    expect(theta[1]).toBeCloseTo(-2 - 0.1 * 0.5, 15); // mask 0: no decay on this one (a bias)
  });
  it('momentum and nesterov: two steps by hand', () => {
    for (const kind of ['momentum', 'nesterov'] as const) {
      const c = optimizerConfig({ kind, momentum: 0.5 });
      const s = createOptimState(kind, 1);
      const theta = Float64Array.from([0]);
      optimUpdate(c, s, theta, [1], 0.1);
      optimUpdate(c, s, theta, [2], 0.1);
      // v1 = 1, v2 = 0.5 + 2 = 2.5
      const want = kind === 'momentum' ? -0.1 * 1 - 0.1 * 2.5 : -0.1 * (1 + 0.5 * 1) - 0.1 * (2 + 0.5 * 2.5);
      expect(theta[0]).toBeCloseTo(want, 15);
      expect(s.m[0]).toBe(2.5);
    }
  });
  it('adam: bias-corrected first step moves by lr * sign(g); second step by hand', () => {
    const c = optimizerConfig({ kind: 'adam', eps: 1e-8 });
    const s = createOptimState('adam', 2);
    const theta = Float64Array.from([1, 1]);
    optimUpdate(c, s, theta, [3, -1e-3], 0.01);
    expect(theta[0]).toBeCloseTo(1 - 0.01, 9);
    const first = 1 - 0.01 * (0.3 / 0.1) / (Math.sqrt(0.009 / 0.001) + 1e-8);
    expect(theta[1]).toBeCloseTo(1 + 0.01, 5);
    optimUpdate(c, s, theta, [1, 0], 0.01);
    const m = 0.9 * 0.1 * 3 + 0.1 * 1;
    const v = 0.999 * 0.001 * 9 + 0.001 * 1;
    const step = (m / (1 - 0.81)) / (Math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8);
    expect(theta[0]).toBeCloseTo(first - 0.01 * step, 14);
    expect(s.t).toBe(2);
  });
  it('adamw decays theta outside the moments; adam with L2 feeds it into them', () => {
    const wd = 0.5;
    const w = createOptimState('adamw', 1);
    const a = createOptimState('adam', 1);
    const tw = Float64Array.from([2]);
    const ta = Float64Array.from([2]);
    optimUpdate(optimizerConfig({ kind: 'adamw', weightDecay: wd }), w, tw, [0], 0.1);
    optimUpdate(optimizerConfig({ kind: 'adam', weightDecay: wd }), a, ta, [0], 0.1);
    expect(w.m[0]).toBe(0); // g = 0: the moments never saw the decay
    expect(tw[0]).toBeCloseTo(2 - 0.1 * wd * 2, 15);
    expect(a.m[0]).toBeCloseTo(0.1 * wd * 2, 15);
    expect(ta[0]).toBeCloseTo(2 - 0.1, 6); // Adam's first step is lr * sign
  });
  it('rejects bad settings, naming them', () => {
    expect(() => optimizerConfig({ beta2: 1 })).toThrow(/beta2/);
    expect(() => optimizerConfig({ kind: 'lion' as never })).toThrow(/optimizer/);
    expect(() => optimizerConfig({ weightDecay: -1 })).toThrow(/weight-decay/);
    expect(() => optimUpdate(optimizerConfig({ kind: 'adam' }), createOptimState('sgd', 2), new Float64Array(2), [0, 0], 0.1)).toThrow(/optimizer state/);
  });
  it('momentum reaches the minimum of a badly conditioned quadratic faster than sgd', () => {
    const run = (kind: 'sgd' | 'momentum' | 'nesterov' | 'adam') => {
      const c = optimizerConfig({ kind, momentum: 0.9 });
      const s = createOptimState(kind, 2);
      const th = Float64Array.from([1, 1]);
      for (let i = 0; i < 200; i++) optimUpdate(c, s, th, [th[0], 100 * th[1]], kind === 'adam' ? 0.05 : 0.012); // lr * 100 < 2(1 + mu) / (1 + 2 mu): nesterov's stable range
      return Math.hypot(th[0], th[1]);
    };
    expect(run('momentum')).toBeLessThan(run('sgd') * 1e-2);
    expect(run('nesterov')).toBeLessThan(run('sgd') * 1e-2);
    expect(run('adam')).toBeLessThan(0.05);
  });
});

describe('learning-rate schedules', () => {
  it('constant, step, cosine and warm-up', () => {
    expect(learningRate(0.1, { kind: 'constant' }, 1000)).toBe(0.1);
    expect(learningRate(0.1, { kind: 'step', every: 10, gamma: 0.5 }, 9)).toBe(0.1);
    expect(learningRate(0.1, { kind: 'step', every: 10, gamma: 0.5 }, 25)).toBeCloseTo(0.025, 15);
    const cos = { kind: 'cosine', total: 100, minLr: 0.01 } as const;
    expect(learningRate(0.1, cos, 0)).toBeCloseTo(0.1, 15);
    expect(learningRate(0.1, cos, 50)).toBeCloseTo(0.055, 15);
    expect(learningRate(0.1, cos, 100)).toBeCloseTo(0.01, 15);
    expect(learningRate(0.1, cos, 500)).toBeCloseTo(0.01, 15);
    const warm = { kind: 'cosine', total: 100, warmup: 10 } as const;
    expect(learningRate(0.1, warm, 0)).toBeCloseTo(0.01, 15);
    expect(learningRate(0.1, warm, 4)).toBeCloseTo(0.05, 15);
    expect(learningRate(0.1, warm, 10)).toBeCloseTo(0.1, 15); // decay starts after the warm-up
    expect(learningRate(0.1, warm, 60)).toBeCloseTo(0.05, 15);
  });
  it('learningRate checks its schedule as train() does, and its base and step', () => {
    const bad = (base: unknown, s: unknown, t: unknown) => () => learningRate(base as number, s as Schedule, t as number);
    expect(bad(0.1, { kind: 'cosine' }, 3)).toThrow(/schedule cosine: total: expected a positive integer, got undefined/);
    expect(bad(0.1, { kind: 'linear' }, 3)).toThrow(/schedule: expected constant, step, cosine, got "linear"/);
    expect(bad(0.1, { kind: 'step', every: 0, gamma: 0.5 }, 3)).toThrow(/schedule step: every: expected a positive integer, got 0/);
    expect(bad(0.1, { kind: 'cosine', total: 10, gama: 0.5 }, 3)).toThrow(/unknown option "gama"/);
    expect(bad(0.1, undefined, 3)).toThrow(TypeError);
    for (const base of [-1, 0, NaN, Infinity]) expect(bad(base, { kind: 'constant' }, 3)).toThrow(RangeError);
    expect(bad(-1, { kind: 'constant' }, 3)).toThrow('base: expected a positive finite learning rate, got -1');
    expect(bad('0.1', { kind: 'constant' }, 3)).toThrow(TypeError);
    for (const t of [-1, 1.5, NaN, Infinity]) expect(bad(0.1, { kind: 'cosine', total: 10, warmup: 2 }, t)).toThrow(RangeError);
    expect(bad(0.1, { kind: 'constant' }, -1)).toThrow('t: expected the update\'s number, a non-negative integer, got -1');
    expect(bad(0.1, { kind: 'constant' }, undefined)).toThrow(TypeError);
  });
  it('parses the CLI form and names bad input', () => {
    expect(parseSchedule('cosine:1000,warmup:50')).toEqual({ kind: 'cosine', total: 1000, warmup: 50 });
    expect(parseSchedule('step:100:0.5')).toEqual({ kind: 'step', every: 100, gamma: 0.5 });
    expect(parseSchedule('constant')).toEqual({ kind: 'constant' });
    expect(() => parseSchedule('cosine')).toThrow(/--schedule/);
    expect(() => parseSchedule('step:0:0.5')).toThrow(/every/);
    expect(() => parseSchedule('step:10:2')).toThrow(/gamma/);
    expect(() => validateSchedule({ kind: 'constant', warmup: -1 })).toThrow(/warmup/);
  });
});

describe('scheduleText', () => {
  it('writes each schedule as --schedule reads it', () => {
    for (const text of ['constant', 'step:100:0.5', 'cosine:1000', 'cosine:1000:0.001', 'constant,warmup:5', 'cosine:300:0.01,warmup:20']) {
      expect(scheduleText(parseSchedule(text))).toBe(text);
    }
  });
});
