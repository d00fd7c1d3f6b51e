// Remote-data benchmark (issue #20, item 6): samples/s of a streamed epoch of `nabla train --stream` on the
// CPU path when --data is a loopback http:// URL (range requests, test/node/remote-server.ts) vs the same
// file from disk, for raw .f32, Arrow IPC and Parquet (ZSTD pages). Each run is a fresh CLI process from the
// sources; samples/s = (E-1)n / (t(E) - t(1)), which cancels the launch, the statistics pass and the final
// evaluation. Validates first: the URL run's loss must equal the local run's, bit for bit (same bytes).
// --repeat R runs the four cells of a format R times, interleaved (local 1, URL 1, local E, URL E), and reports
// the median of each repetition's rates and ratio: on a shared machine the load drifts over minutes, and
// timing all of one cell's runs before the next ones' put that drift into the ratio.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, mkdir } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../test/node/remote-server.ts';
import { rowsForBytes, writeArrowFile, writeParquetFile, writeRawFile } from './data-files.ts';
import { commandLine, gitState } from './provenance.ts';
import { BenchUsageError, intFlag, positiveFlag, readFlags } from './args.ts';
import { isMain, runCli, writeResultFile } from './node-cli.ts';

const MiB = 2 ** 20;

export interface RemoteOptions { mb: number; parquetMb: number; d: number; epochsHi: number; repeat: number; chunkMb: number; out: string | null }

export const REMOTE_USAGE = 'usage: npm run bench:remote -- [--mb 64] [--parquet-mb 64] [--d 4] [--epochs-hi 3] [--repeat 1] [--chunk-mb 16] [--out FILE]';

/** Flags, checked before any file is written: `--d abc` would otherwise write NaN-wide files and time them. */
export function parseRemoteArgs(argv: readonly string[]): RemoteOptions {
  const { values } = readFlags(argv, ['--mb', '--parquet-mb', '--d', '--epochs-hi', '--repeat', '--chunk-mb', '--out'], [], REMOTE_USAGE);
  const o: RemoteOptions = {
    mb: intFlag(values.get('--mb') ?? '64', '--mb'),
    // 8 MiB (the first runs) gave ~0.1 s epochs, within the launch noise: the rates came out negative.
    parquetMb: intFlag(values.get('--parquet-mb') ?? '64', '--parquet-mb'),
    d: intFlag(values.get('--d') ?? '4', '--d'),
    // The rate divides by E - 1 epochs: E = 1 leaves nothing to time.
    epochsHi: intFlag(values.get('--epochs-hi') ?? '3', '--epochs-hi', 2),
    repeat: intFlag(values.get('--repeat') ?? '1', '--repeat'),
    chunkMb: positiveFlag(values.get('--chunk-mb') ?? '16', '--chunk-mb'),
    out: values.get('--out') ?? null,
  };
  for (const flag of ['--mb', '--parquet-mb'] as const) {
    const mb = flag === '--mb' ? o.mb : o.parquetMb;
    if (rowsForBytes(mb * MiB, o.d) < 1) throw new BenchUsageError(`${flag}: ${mb} MiB holds no row of ${o.d} features (--d)`);
  }
  return o;
}

const root = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = "import { runFromBin } from './src/cli/main.ts'; await runFromBin();";

interface Run { seconds: number; loss: number; rows: number }

function train(data: string, epochs: number, chunkMb: number): Promise<Run> {
  const args = ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', 'nabla', 'train', '--data', data, '--target', 'y',
    '--stream', '--device', 'cpu', '--chunk-mb', String(chunkMb), '--epochs', String(epochs), '--json'];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: root, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${data}: ${err.message}\n${stderr}`));
      const r = JSON.parse(stdout);
      resolve({ seconds: (performance.now() - t0) / 1000, loss: r.loss, rows: r.rows });
    });
  });
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(o: RemoteOptions): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nabla-remote-'));
  try {
    const files = [
      { format: 'raw', name: 'data.f32', mb: o.mb, write: (p: string, n: number) => writeRawFile(p, n, o.d) },
      { format: 'arrow', name: 'data.arrow', mb: o.mb, write: (p: string, n: number) => writeArrowFile(p, n, o.d) },
      { format: 'parquet (ZSTD)', name: 'data.parquet', mb: o.parquetMb, write: (p: string, n: number) => writeParquetFile(p, n, o.d, 'ZSTD') },
    ];
    const served: Record<string, { body: Uint8Array }> = {};
    for (const f of files) {
      await f.write(join(dir, f.name), rowsForBytes(f.mb * MiB, o.d));
      served[`/${f.name}`] = { body: new Uint8Array(await readFile(join(dir, f.name))) };
    }
    const server = await startServer(served);
    const rows: Record<string, unknown>[] = [];
    try {
      for (const f of files) {
        const local = join(dir, f.name);
        const url = `${server.url}/${f.name}`;
        const reps: { local: number; remote: number }[] = [];
        let loss = NaN;
        let n = 0;
        for (let i = 0; i < o.repeat; i++) {
          const l1 = await train(local, 1, o.chunkMb);
          const u1 = await train(url, 1, o.chunkMb);
          if (l1.loss !== u1.loss || l1.rows !== u1.rows) throw new Error(`${f.format}: the URL run gives loss ${u1.loss} over ${u1.rows} rows, the local file ${l1.loss} over ${l1.rows}`);
          const lHi = await train(local, o.epochsHi, o.chunkMb);
          const uHi = await train(url, o.epochsHi, o.chunkMb);
          if (lHi.loss !== uHi.loss) throw new Error(`${f.format}: after ${o.epochsHi} epochs the URL run gives loss ${uHi.loss}, the local file ${lHi.loss}`);
          const rate = (a: Run, b: Run) => ((o.epochsHi - 1) * a.rows) / (b.seconds - a.seconds);
          reps.push({ local: rate(l1, lHi), remote: rate(u1, uHi) });
          loss = lHi.loss;
          n = l1.rows;
        }
        const row = {
          format: f.format, fileMiB: Number((served[`/${f.name}`].body.length / MiB).toFixed(1)), rows: n,
          localSamplesPerS: Math.round(median(reps.map((r) => r.local))), remoteSamplesPerS: Math.round(median(reps.map((r) => r.remote))),
          loss, ratios: reps.map((r) => Number((r.remote / r.local).toFixed(2))),
        };
        rows.push({ ...row, ratio: median(row.ratios) });
        console.log(JSON.stringify(rows[rows.length - 1]));
      }
    } finally {
      await server.close();
    }
    const result = {
      command: commandLine(process.argv.slice(2), 'bench:remote'),
      date: new Date().toISOString(),
      ...gitState(),
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
      settings: { d: o.d, chunkMb: o.chunkMb, epochsHi: o.epochsHi, repeat: o.repeat, device: 'cpu' },
      rows,
    };
    const out = o.out ?? join(root, 'bench/results', `${result.date.slice(0, 10)}-remote.json`);
    await mkdir(dirname(out), { recursive: true });
    // Temporary file then rename: an interrupted write never leaves half a JSON file behind.
    writeResultFile(out, result);
    console.log(`wrote ${out}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) await runCli('bench:remote', parseRemoteArgs, main);
