// Streaming benchmark (issue "data at scale"): samples/s of `nabla train --stream` vs in-memory training on
// the same GPU adapter, and the peak host RSS of the Node process. Each run is a fresh CLI process, the way
// a user runs it. samples/s = (E-1)n / (t(E) - t(1)), E = 3 by default: the difference cancels the launch (Chromium start),
// the stats pass and the upload, leaving the cost of E - 1 epochs. --repeat R runs every (mode, E) R times,
// the modes interleaved, and keeps the fastest: on a shared machine other jobs only ever add time.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRawFile } from './data-files.ts';
import { BenchUsageError, intFlag, positiveFlag, readFlags } from './args.ts';
import { isMain, runCli } from './node-cli.ts';


export interface StreamOptions {
  n: number; d: number; chunkMb: number; json: boolean; rssScaling: boolean; epochsHi: number; repeat: number;
  /** true: the streamed run, false: in memory; in the order given. */
  modes: boolean[];
}

const MODES = ['in-memory', 'stream'];

export const STREAM_USAGE = 'usage: npm run bench:stream -- [--n 1e7] [--d 8] [--chunk-mb 128] [--json] [--rss-scaling] [--epochs-hi 3] [--repeat 1] [--modes in-memory,stream]';

export function parseStreamArgs(argv: readonly string[]): StreamOptions {
  const { values, switches } = readFlags(argv, ['--n', '--d', '--chunk-mb', '--epochs-hi', '--repeat', '--modes'], ['--json', '--rss-scaling'], STREAM_USAGE);
  // Which modes to run: both by default; the in-memory path cannot hold 10^8 x 8 in one page (see README).
  const modeText = values.get('--modes') ?? 'in-memory,stream';
  const modes = modeText.split(',').map((m) => m.trim());
  const bad = modes.find((m) => !MODES.includes(m));
  if (bad !== undefined) throw new BenchUsageError(`--modes: expected a comma list of ${MODES.join(', ')}, got '${bad}'`);
  if (new Set(modes).size < modes.length) throw new BenchUsageError(`--modes: a mode given twice in '${modeText}'`);
  const o: StreamOptions = {
    n: intFlag(values.get('--n') ?? '1e7', '--n'),
    d: intFlag(values.get('--d') ?? '8', '--d'),
    chunkMb: positiveFlag(values.get('--chunk-mb') ?? '128', '--chunk-mb'),
    json: switches.has('--json'),
    rssScaling: switches.has('--rss-scaling'),
    // The high epoch count of the pair (1, E). 3 by default; raise it where launch noise swamps two epochs.
    epochsHi: intFlag(values.get('--epochs-hi') ?? '3', '--epochs-hi', 2),
    repeat: intFlag(values.get('--repeat') ?? '1', '--repeat'),
    modes: modes.map((m) => m === 'stream'),
  };
  // The 2n run is compared with the streamed run at n: without it there is nothing to scale from.
  if (o.rssScaling && !o.modes.includes(true)) throw new BenchUsageError(`--rss-scaling given with --modes ${modeText}: it compares streamed runs only`);
  return o;
}

const root = fileURLToPath(new URL('..', import.meta.url));
const MiB = 2 ** 20;

interface Run { seconds: number; rssMiB: number; adapter: string }

/** One CLI process; checks its report so a silent CPU fallback or a short run can't pass as a result. */
function train(file: string, rows: number, epochs: number, stream: boolean, chunkMb: number): Promise<Run> {
  const args = ['--import', join(root, 'bench/maxrss.mjs'), join(root, 'bin/nabla.mjs'), 'train', '--data', file,
    '--target', 'y', '--device', 'gpu', '--epochs', String(epochs), '--tol', '0', '--json', '--chunk-mb', String(chunkMb),
    ...(stream ? ['--stream'] : [])];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { err += c; });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      const fail = (why: string) => reject(new Error(`${stream ? 'stream' : 'in-memory'} E=${epochs}: ${why}\n${err.trim()}`));
      if (code !== 0) return fail(`exit ${code}`);
      let report: { device?: string; rows?: number; epochs?: number; adapter?: string };
      try { report = JSON.parse(out.trim().split('\n').pop()!); } catch { return fail(`no JSON on stdout: ${out.slice(0, 200)}`); }
      if (report.device !== 'gpu') return fail(`device ${report.device}, expected gpu`);
      if (report.rows !== rows) return fail(`rows ${report.rows}, expected ${rows}`);
      if (report.epochs !== epochs) return fail(`epochs ${report.epochs}, expected ${epochs}`);
      const rssLine = err.split('\n').reverse().find((l) => l.startsWith('{"maxRssKiB"'));
      if (!rssLine) return fail('no maxRSS line on stderr');
      resolve({ seconds, rssMiB: JSON.parse(rssLine).maxRssKiB / 1024, adapter: report.adapter ?? '?' });
    });
  });
}

interface Row {
  mode: string; n: number; d: number; chunkMiB: number; fileMiB: number; t1: number; /** seconds at E = epochs-hi */ t3: number;
  samplesPerSec: number; peakRssMiB: number;
  /** The first line of the CLI's error when this mode could not run (the other mode is still measured). */
  error?: string;
}

async function measure(dir: string, rows: number, modes: boolean[], o: StreamOptions): Promise<{ rows: Row[]; adapter: string }> {
  const file = join(dir, `bench-${rows}.f32`);
  await writeRawFile(file, rows, o.d); // y = w·x + b + noise, the same rows for the same n and d
  const fileMiB = (await stat(file)).size / MiB;
  const out: Row[] = [];
  let adapter = '?';
  try {
    const best = new Map<string, Run>();
    const failed = new Map<boolean, string>();
    for (let rep = 0; rep < o.repeat; rep++) {
      for (const stream of modes) {
        for (const e of [1, o.epochsHi]) {
          if (failed.has(stream)) continue;
          let r: Run;
          try {
            r = await train(file, rows, e, stream, o.chunkMb);
          } catch (err) {
            failed.set(stream, (err as Error).message.split('\n').slice(0, 2).join(': '));
            continue;
          }
          const key = `${stream}:${e}`;
          const old = best.get(key);
          best.set(key, { ...r, seconds: Math.min(r.seconds, old?.seconds ?? Infinity), rssMiB: Math.max(r.rssMiB, old?.rssMiB ?? 0) });
        }
      }
    }
    for (const stream of modes) {
      const error = failed.get(stream);
      if (error) {
        out.push({ mode: stream ? 'stream' : 'in-memory', n: rows, d: o.d, chunkMiB: o.chunkMb, fileMiB, t1: NaN, t3: NaN, samplesPerSec: NaN, peakRssMiB: NaN, error });
        continue;
      }
      const r1 = best.get(`${stream}:1`)!;
      const r3 = best.get(`${stream}:${o.epochsHi}`)!;
      adapter = r3.adapter;
      out.push({ mode: stream ? 'stream' : 'in-memory', n: rows, d: o.d, chunkMiB: o.chunkMb, fileMiB, t1: r1.seconds, t3: r3.seconds,
        // t3 <= t1 means run-to-run noise swamps two epochs: n is too small to measure, report NaN.
        samplesPerSec: r3.seconds > r1.seconds ? ((o.epochsHi - 1) * rows) / (r3.seconds - r1.seconds) : NaN, peakRssMiB: Math.max(r1.rssMiB, r3.rssMiB) });
    }
  } finally {
    await rm(file, { force: true }); // one file on disk at a time
  }
  return { rows: out, adapter };
}

async function main(o: StreamOptions): Promise<void> {
  const n = o.n;
  const dir = await mkdtemp(join(tmpdir(), 'nabla-bench-stream-'));
  // Delete the temp dir on Ctrl-C too, not only on a normal exit or a thrown error.
  process.on('SIGINT', () => { void rm(dir, { recursive: true, force: true }).finally(() => process.exit(130)); });
  try {
    const first = await measure(dir, n, o.modes, o);
    const rows = [...first.rows];
    // Same chunk size, twice the file: if streaming holds only a few chunks, peak RSS should barely move.
    if (o.rssScaling) rows.push(...(await measure(dir, 2 * n, [true], o)).rows);
    const mem = rows.find((r) => r.mode === 'in-memory');
    const str = rows.find((r) => r.mode === 'stream' && r.n === n);
    const big = rows.find((r) => r.mode === 'stream' && r.n === 2 * n);
    const ratio = str && mem ? str.samplesPerSec / mem.samplesPerSec : NaN;
    const rssGrowth = big && str ? { fileMiB: [str.fileMiB, big.fileMiB], rssMiB: [str.peakRssMiB, big.peakRssMiB], deltaRssMiB: big.peakRssMiB - str.peakRssMiB, deltaFileMiB: big.fileMiB - str.fileMiB } : null;
    const note = 'peak RSS is the Node CLI process only; the headless Chromium processes (renderer/GPU) are not included: ' +
      'streaming, the page holds <= 2 chunks in flight; in-memory, the page holds the whole dataset.';
    if (o.json) {
      console.log(JSON.stringify({ adapter: first.adapter, epochsHi: o.epochsHi, rows, streamedOverInMemory: ratio, rssGrowth, note }, null, 2));
    } else {
      const f = (v: number, p = 2) => v.toFixed(p);
      console.log(`adapter: ${first.adapter}\n`);
      console.log(`| mode | n | d | chunk MiB | file MiB | s (E=1) | s (E=${o.epochsHi}) | samples/s | peak RSS MiB |`);
      console.log('|---|---|---|---|---|---|---|---|---|');
      for (const r of rows) {
        console.log(`| ${r.mode} | ${r.n} | ${r.d} | ${r.chunkMiB} | ${f(r.fileMiB, 1)} | ${f(r.t1)} | ${f(r.t3)} | ${r.samplesPerSec.toExponential(3)} | ${f(r.peakRssMiB, 1)} |`);
      }
      for (const r of rows) if (r.error) console.log(`\n${r.mode} n = ${r.n} failed: ${r.error}`);
      console.log(`\nstreamed / in-memory samples/s: ${f(ratio, 3)} (goal >= 0.8)`);
      if (mem && str) console.log(`peak RSS vs file: in-memory ${f(mem.peakRssMiB, 1)} MiB, stream ${f(str.peakRssMiB, 1)} MiB for a ${f(str.fileMiB, 1)} MiB file`);
      if (rssGrowth) console.log(`stream RSS growth for 2x file (+${f(rssGrowth.deltaFileMiB, 1)} MiB): ${rssGrowth.deltaRssMiB >= 0 ? '+' : ''}${f(rssGrowth.deltaRssMiB, 1)} MiB`);
      console.log(`\nnote: ${note}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) await runCli('bench:stream', parseStreamArgs, main);
