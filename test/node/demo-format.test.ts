import { describe, expect, it } from 'vitest';
import { adapterText, fmt, fmtCount, fmtCountOf, fmtRate, LR_MESSAGE, parseField, parseLearningRate, roundLr } from '../../src/demo/format.ts';

describe('demo formatting', () => {
  it('fmt: decimals in a readable range, exponents outside, a true minus sign', () => {
    expect(fmt(3.14159, 4)).toBe('3.142');
    expect(fmt(-0.5)).toBe('−0.5000');
    expect(fmt(1.5e-7, 3)).toBe('1.50e−7');
    expect(fmt(2e6, 2)).toBe('2.0e+6');
    expect(fmt(0)).toBe('0');
    expect(fmt(NaN)).toBe('NaN');
    expect(fmt(-Infinity)).toBe('−∞');
  });

  it('fmtRate and fmtCount', () => {
    expect(fmtRate(1.234e9)).toBe('1.23 G samples/s');
    expect(fmtRate(950)).toBe('950 samples/s');
    expect(fmtRate(NaN)).toBe('— samples/s');
    expect(fmtCount(10_000_000)).toBe('10\u202f000\u202f000');
    expect(fmtCount(999)).toBe('999');
    expect(fmtCountOf(1, 'row')).toBe('1 row');
    expect(fmtCountOf(0, 'row')).toBe('0 rows');
    expect(fmtCountOf(2000, 'pass', 'passes')).toBe('2\u202f000 passes');
    expect(fmtCountOf(1, 'pass', 'passes')).toBe('1 pass');
  });

  it('parseField: numbers in range only, integers when asked', () => {
    expect(parseField(' 10000 ', 1, 1e7, true)).toBe(10000);
    expect(parseField('1e7', 1, 1e7, true)).toBe(1e7);
    expect(parseField('1e8', 1, 1e7, true)).toBeNull();
    expect(parseField('2.5', 1, 10, true)).toBeNull();
    expect(parseField('', 0, 1)).toBeNull();
    expect(parseField('0x10', 0, 100)).toBeNull();
    expect(parseField('-0.25', -1, 1)).toBe(-0.25);
    expect(roundLr(0.023333)).toBe(0.023);
  });

  it('adapterText says vendor, architecture and whether it is a fallback adapter', () => {
    const s = { vendor: 'google', architecture: 'swiftshader', description: '', isFallback: true, name: 'google swiftshader' };
    expect(adapterText(s)).toBe('vendor google, architecture swiftshader, fallback (software) adapter');
    expect(adapterText({ ...s, vendor: 'nvidia', architecture: 'hopper', isFallback: false })).toMatch(/hardware adapter$/);
  });
});

describe('parseLearningRate', () => {
  it('takes the range its message states, 1e-12 to 1e6', () => {
    expect(LR_MESSAGE).toBe('the learning rate must be a number from 1e-12 to 1e6');
    expect(parseLearningRate('1e6')).toBe(1e6);
    expect(parseLearningRate('1e9')).toBeNull();
    expect(parseLearningRate('0')).toBeNull();
    expect(parseLearningRate('1e-12')).toBe(1e-12);
  });
});
