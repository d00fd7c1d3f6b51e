// The bench CLIs' argument checks: every bad value, unknown flag or flag that cannot apply is an error that
// names the flag (or file), never a run that quietly drops it. Pure parsers only: nothing here starts a browser.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BenchUsageError, parseBenchArgs } from '../../bench/args.ts';
import { parseCpuArgs } from '../../bench/cpu.ts';
import { parseLmArgs } from '../../bench/lm.ts';
import { parsePageRemoteArgs } from '../../bench/page-remote.ts';
import { parseRemoteArgs } from '../../bench/remote.ts';
import { parseStreamArgs } from '../../bench/stream.ts';
import { tableOf } from '../../bench/table.ts';

const dir = mkdtempSync(join(tmpdir(), 'nabla-bench-args-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const usage = (f: () => unknown, message: RegExp) => {
  expect(f).toThrow(BenchUsageError);
  expect(f).toThrow(message);
};

describe('npm run bench / bench/deno.ts flags', () => {
  it('bad sizes and counts name their flag', () => {
    usage(() => parseBenchArgs(['--n', '2^99']), /--n: expected a positive integer, got '2\^99'/);
    usage(() => parseBenchArgs(['--n', 'abc']), /--n: .*'abc'/);
    usage(() => parseBenchArgs(['--n', '2^20,']), /--n: .*''/);
    usage(() => parseBenchArgs(['--reps', '0']), /--reps: .*'0'/);
    usage(() => parseBenchArgs(['--d', '-1']), /--d: .*'-1'/);
    usage(() => parseBenchArgs(['--d', '1.5']), /--d: .*'1\.5'/);
    usage(() => parseBenchArgs(['--budget', 'soon']), /--budget: expected seconds/);
    usage(() => parseBenchArgs(['--reps']), /--reps: expected a value/);
  });

  it('a value that is the next flag, a switch given a value, a one-value flag given twice', () => {
    usage(() => parseBenchArgs(['--out', '--json']), /--out: expected a value, got the flag '--json'/);
    usage(() => parseBenchArgs(['--quick=no']), /--quick takes no value/);
    usage(() => parseBenchArgs(['--no-gd=false']), /--no-gd takes no value/);
    usage(() => parseBenchArgs(['--reps', '10', '--reps=20']), /--reps given twice/);
    usage(() => parseBenchArgs(['--out', 'a.json', '--out', 'b.json']), /--out given twice/);
    // Lists stay repeatable, as documented.
    expect(parseBenchArgs(['--d', '1', '--d', '16']).ds).toEqual([1, 16]);
    expect(parseBenchArgs(['--out=r.json']).out).toBe('r.json');
  });

  it('flags of a suite that does not run are errors', () => {
    for (const [flag, ...v] of [['--n', '2^20'], ['--d', '16'], ['--gd-n', '2^12'], ['--no-gd']]) {
      usage(() => parseBenchArgs(['--formula-only', flag, ...v]), new RegExp(`${flag} given with --formula-only`));
      usage(() => parseBenchArgs(['--no-linear', flag, ...v]), new RegExp(`${flag} given with --no-linear`));
    }
    usage(() => parseBenchArgs(['--no-linear', '--no-formula', '--max-x-gib', '4']), /--max-x-gib given without the linear or formula suite/);
    expect(parseBenchArgs(['--formula-only', '--max-x-gib', '4']).maxXBytes).toBe(4 * 2 ** 30);
    usage(() => parseBenchArgs(['--formula-only', '--no-tfjs']), /--no-tfjs given with --formula-only: TF.js runs in the linear and mlp suites only/);
    usage(() => parseBenchArgs(['--no-linear', '--no-mlp', '--no-tfjs']), /--no-tfjs given with --no-linear and --no-mlp/);
    expect(parseBenchArgs(['--no-mlp', '--no-tfjs']).tfjs).toBe(false);
  });

  it('under Deno, --no-tfjs changes nothing and is refused; the rest parses as under Chromium', () => {
    usage(() => parseBenchArgs(['--no-tfjs'], 'deno'), /--no-tfjs: TF.js does not run under Deno/);
    expect(parseBenchArgs(['--quick', '--no-jax', '--n', '2^17', '--d', '128', '--no-gd', '--no-formula', '--no-mlp', '--reps', '10'], 'deno'))
      .toMatchObject({ ns: [2 ** 17], ds: [128], gdNs: [], jax: false, reps: 10, mlp: null, formula: false });
  });

  it('the commands README.md and bench/README.md quote still parse', () => {
    const chromium = [
      '--quick --n 2^20,2^22',
      '--quick --n 2^20,2^22 --formula-n 2^20,2^22 --reps 20 --no-mlp',
      '--quick --formula-only --formula-n 2^20 --reps 10',
      '--quick --n 2^18 --d 128 --no-gd --no-formula --no-mlp',
      '--quick --n 2^18 --d 128 --no-gd --no-formula --no-mlp --no-jax --no-tfjs --reps 10',
      '--n 2^20,2^22 --gd-n 2^16 --d 16 --reps 30 --no-tfjs',
      '--no-linear --mlp-n 2^14 --mlp-epochs 2 --mlp-profile',
      '--quick --formula-only --formula-n 2^20,2^22',
    ];
    for (const c of chromium) expect(() => parseBenchArgs(c.split(' ')), c).not.toThrow();
    const deno = [
      '--n 2^26 --d 1,16 --max-x-gib 12',
      '--quick --formula-only --formula-n 2^20,2^22 --reps 10',
      '--quick --no-jax --n 2^17 --d 128 --no-gd --no-formula --no-mlp --reps 10',
      '--n 2^26,2^28 --d 1,16 --no-mlp --max-x-gib 5',
      '--quick --no-jax --n 2^12 --d 16 --gd-n 2^8 --formula-n 2^12 --mlp-n 2^12 --mlp-epochs 1 --mlp-cpu-n 2^10',
    ];
    for (const c of deno) expect(() => parseBenchArgs(c.split(' '), 'deno'), c).not.toThrow();
  });
});

describe('npm run bench:cpu flags', () => {
  it('parses the documented flags', () => {
    expect(parseCpuArgs(['--quick', '--threads', '2', '--no-wide', '--out', 'r.json'])).toMatchObject({ quick: true, threads: 2, wide: false, out: 'r.json' });
    expect(parseCpuArgs(['--no-mlp', '--no-linear'])).toMatchObject({ mlp: false, linear: false, wide: true, jax: true });
  });

  it('bad values, unknown flags and flags that cannot apply name the flag', () => {
    usage(() => parseCpuArgs(['--threads', '0']), /--threads: expected an integer in 1\.\.256, got "0"/);
    usage(() => parseCpuArgs(['--threads', 'abc']), /--threads: .*"abc"/);
    usage(() => parseCpuArgs(['--threads']), /--threads: needs a value/);
    usage(() => parseCpuArgs(['--threads', '2', '--threads', '4']), /--threads given twice/);
    usage(() => parseCpuArgs(['--out', '--quick']), /--out: needs a value, got the flag "--quick"/);
    usage(() => parseCpuArgs(['--threads=2']), /unknown flag "--threads=2"/);
    usage(() => parseCpuArgs(['--n', '2^20']), /unknown flag "--n"/);
    usage(() => parseCpuArgs(['--no-mlp', '--no-linear', '--no-jax']), /--no-jax given with --no-mlp: jax-js runs in the MLP rows only/);
    usage(() => parseCpuArgs(['--no-mlp', '--no-linear', '--no-wide']), /nothing left to run/);
  });
});

describe('npm run bench:lm flags', () => {
  it('parses the command README.md quotes; bad sizes, devices and budgets name the flag before any data is made', () => {
    expect(parseLmArgs('--n 1e4,1e6,1e7 --gd-n 1e6 --gd-epochs 2000'.split(' ')))
      .toEqual({ sizes: [1e4, 1e6, 1e7], devices: ['cpu', 'cpu64', 'gpu'], mlBudget: 120, gdN: 1e6, gdEpochs: 2000, out: null });
    usage(() => parseLmArgs(['--n', 'abc']), /--n: expected a positive integer .*'abc'/);
    usage(() => parseLmArgs(['--n', '1e4,']), /--n: .*''/);
    usage(() => parseLmArgs(['--n', '2.5']), /--n: .*'2\.5'/);
    usage(() => parseLmArgs(['--gd-epochs=0']), /--gd-epochs: .*'0'/);
    usage(() => parseLmArgs(['--gd-n', '1e99']), /--gd-n: .*'1e99'/);
    usage(() => parseLmArgs(['--devices', 'cpu,tpu']), /--devices: .*'tpu'/);
    usage(() => parseLmArgs(['--ml-budget-s', '-1']), /--ml-budget-s|ambiguous/);
    usage(() => parseLmArgs(['--ml-budget-s=-1']), /--ml-budget-s: expected seconds/);
    usage(() => parseLmArgs(['--bogus']), /Unknown option '--bogus'/);
  });
});

describe('npm run bench:remote flags', () => {
  it('parses the defaults and the documented flags', () => {
    expect(parseRemoteArgs([])).toEqual({ mb: 64, parquetMb: 64, d: 4, epochsHi: 3, repeat: 1, chunkMb: 16, out: null });
    expect(parseRemoteArgs(['--mb', '8', '--d=16', '--repeat', '3', '--epochs-hi', '5', '--chunk-mb', '0.5', '--out', 'r.json']))
      .toMatchObject({ mb: 8, d: 16, repeat: 3, epochsHi: 5, chunkMb: 0.5, out: 'r.json' });
  });

  it('bad values, a missing value, a flag as a value, a flag given twice and unknown flags name the flag', () => {
    usage(() => parseRemoteArgs(['--d', 'abc']), /--d: expected an integer of at least 1, got 'abc'/);
    usage(() => parseRemoteArgs(['--mb', '0']), /--mb: .*'0'/);
    usage(() => parseRemoteArgs(['--parquet-mb', '1.5']), /--parquet-mb: .*'1\.5'/);
    usage(() => parseRemoteArgs(['--repeat', '']), /--repeat: .*''/);
    usage(() => parseRemoteArgs(['--epochs-hi', '1']), /--epochs-hi: expected an integer of at least 2, got '1'/);
    usage(() => parseRemoteArgs(['--chunk-mb', '-1']), /--chunk-mb: expected a number above 0, got '-1'/);
    usage(() => parseRemoteArgs(['--repeat']), /--repeat: expected a value/);
    usage(() => parseRemoteArgs(['--out', '--d', '4']), /--out: expected a value, got the flag '--d'/);
    usage(() => parseRemoteArgs(['--d', '4', '--d=8']), /--d given twice/);
    usage(() => parseRemoteArgs(['--bogus']), /unknown argument '--bogus'/);
    usage(() => parseRemoteArgs(['--mb', '1', '--d', '1000000']), /--mb: 1 MiB holds no row of 1000000 features/);
  });
});

describe('npm run bench:page-remote flags', () => {
  it('parses the defaults and the documented flags', () => {
    expect(parsePageRemoteArgs([])).toEqual({ mb: 300, d: 4, epochs: 2, chunkMb: 16, codec: 'ZSTD', gpu: false, out: null });
    expect(parsePageRemoteArgs(['--mb', '50', '--codec', 'GZIP', '--gpu', '--epochs=3']))
      .toMatchObject({ mb: 50, codec: 'GZIP', gpu: true, epochs: 3 });
  });

  it('bad values, codecs the writer lacks, limits the page refuses and unknown flags name the flag', () => {
    usage(() => parsePageRemoteArgs(['--codec', 'LZ4']), /--codec: expected one of UNCOMPRESSED, GZIP, ZSTD, got 'LZ4'/);
    usage(() => parsePageRemoteArgs(['--codec', 'zstd']), /--codec: .*'zstd'/);
    usage(() => parsePageRemoteArgs(['--mb', 'big']), /--mb: .*'big'/);
    usage(() => parsePageRemoteArgs(['--epochs', '0']), /--epochs: expected an integer in 1\.\.1000, got '0'/);
    usage(() => parsePageRemoteArgs(['--chunk-mb', '512']), /--chunk-mb: expected an integer in 1\.\.256, got '512'/);
    usage(() => parsePageRemoteArgs(['--gpu=no']), /--gpu takes no value/);
    usage(() => parsePageRemoteArgs(['--codec', 'GZIP', '--codec', 'ZSTD']), /--codec given twice/);
    usage(() => parsePageRemoteArgs(['--out', '--gpu']), /--out: expected a value, got the flag '--gpu'/);
    usage(() => parsePageRemoteArgs(['--repeat', '2']), /unknown argument '--repeat'/);
  });
});

describe('npm run bench:stream flags', () => {
  it('parses the defaults and the documented flags', () => {
    expect(parseStreamArgs([])).toEqual({ n: 1e7, d: 8, chunkMb: 128, json: false, rssScaling: false, epochsHi: 3, repeat: 1, modes: [false, true] });
    expect(parseStreamArgs(['--n', '1e8', '--modes', 'stream', '--rss-scaling', '--json']))
      .toMatchObject({ n: 1e8, modes: [true], rssScaling: true, json: true });
  });

  it('bad values, modes, flags that cannot apply and unknown flags name the flag', () => {
    usage(() => parseStreamArgs(['--repeat', '0']), /--repeat: expected an integer of at least 1, got '0'/);
    usage(() => parseStreamArgs(['--n', '1e7.5']), /--n: .*'1e7\.5'/);
    usage(() => parseStreamArgs(['--epochs-hi', '1']), /--epochs-hi: .*'1'/);
    usage(() => parseStreamArgs(['--chunk-mb', 'x']), /--chunk-mb: .*'x'/);
    usage(() => parseStreamArgs(['--modes', 'stream,gpu']), /--modes: expected a comma list of in-memory, stream, got 'gpu'/);
    usage(() => parseStreamArgs(['--modes', 'stream,stream']), /--modes: a mode given twice/);
    usage(() => parseStreamArgs(['--modes', 'in-memory', '--rss-scaling']), /--rss-scaling given with --modes in-memory/);
    usage(() => parseStreamArgs(['--json=false']), /--json takes no value/);
    usage(() => parseStreamArgs(['--n', '--json']), /--n: expected a value, got the flag '--json'/);
    usage(() => parseStreamArgs(['--n', '10', '--n', '20']), /--n given twice/);
    usage(() => parseStreamArgs(['--bogus']), /unknown argument '--bogus'/);
  });

  it('the command exits 2 with bench:stream: and the message, not a stack trace', () => {
    // Only the parser runs: an unknown flag stops it before any file or browser.
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/stream.ts', '--bogus'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^bench:stream: unknown argument '--bogus'\n/);
    expect(r.stderr).not.toMatch(/\bat /);
  });
});

describe('npm run bench:table', () => {
  it('names the file for a missing file, a directory, non-JSON, a non-report and a report with a broken row', () => {
    const write = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    const missing = join(dir, 'missing.json');
    expect(() => tableOf(missing)).toThrow(`${missing}: no such file`);
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    expect(() => tableOf(sub)).toThrow(`${sub}: a directory, not a result file`);
    const text = write('text.json', '# not json');
    expect(() => tableOf(text)).toThrow(`${text}: not JSON`);
    const cpu = write('cpu.json', JSON.stringify({ suite: 'cpu', linear: [], mlp: [] }));
    expect(() => tableOf(cpu)).toThrow(`${cpu}: not a report of npm run bench or bench/deno.ts (no "adapter")`);
    const nul = write('null.json', 'null');
    expect(() => tableOf(nul)).toThrow(`${nul}: not a report`);
    const broken = write('broken.json', JSON.stringify({ adapter: {}, date: '', command: '', browser: '', rows: [{}], skipped: [], mlp: [], config: {} }));
    expect(() => tableOf(broken)).toThrow(`${broken}: a row lacks what the tables print`);
  });
});
