// The page of bench/cpu-web.ts: the spirals MLP (bench:cpu's job: 2000 points, 64-64 tanh, Adam lr 0.01,
// full batch) trained by FastCpuModelEngine on the page's thread (InlinePool) and on Web Workers
// (WebWorkerPool). Validate first: both must end on the same parameters bit for bit; then time, the two
// alternating so that a load change on a shared machine hits both alike. The result lands in
// document.body.dataset.result.
import { FastCpuModelEngine } from '../src/cpu-fast/fast-engines.ts';
import { InlinePool, type ShardPool } from '../src/cpu-fast/pool.ts';
import { WebWorkerPool } from '../src/cpu-fast/web-pool.ts';
import { mlpModel } from '../src/models/mlp.ts';
import type { Head } from '../src/models/network.ts';
import { optimizerConfig } from '../src/optim/config.ts';
import { makeSpiralData } from './suite/cpu-suite.ts';

export interface CpuWebRow {
  job: string;
  /** Median epochs per second over the timed runs. */
  inline: number;
  workers: number;
  threads: number;
  runs: number;
}

const log = (line: string) => {
  document.getElementById('log')!.textContent += `${line}\n`;
};
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function row(pool: ShardPool, head: Head, classes: number, epochs: number, runs: number): Promise<CpuWebRow> {
  const job = `spirals 2-64-64-${classes} tanh ${head}`;
  const config = mlpModel(2, [64, 64], 'tanh', head, classes);
  const data = makeSpiralData(2000);
  const options = (maxEpochs: number) => ({ lr: 0.01, maxEpochs, batchSize: data.n, seed: 1, optimizer: optimizerConfig({ kind: 'adam' }) });
  const inline = new FastCpuModelEngine(config, data, { pool: new InlinePool() });
  const threaded = new FastCpuModelEngine(config, data, { pool });
  try {
    const [a, b] = [await inline.train(options(20)), await threaded.train(options(20))];
    if (a.theta.some((v, k) => !Object.is(v, b.theta[k]))) throw new Error(`${job}: the Web Workers' parameters differ from the page thread's`);
    const rates = { inline: [] as number[], workers: [] as number[] };
    for (let r = 0; r < runs; r++) {
      for (const [name, engine] of [['inline', inline], ['workers', threaded]] as const) {
        const t0 = performance.now();
        const result = await engine.train(options(epochs));
        const s = (performance.now() - t0) / 1000;
        if (result.epochs !== epochs) throw new Error(`${job}: ${name} stopped at epoch ${result.epochs} of ${epochs}`);
        rates[name].push(epochs / s);
      }
      log(`${job}: run ${r + 1}: page thread ${rates.inline[r].toFixed(1)}, ${pool.threads} threads ${rates.workers[r].toFixed(1)} epochs/s`);
    }
    return { job, inline: median(rates.inline), workers: median(rates.workers), threads: pool.threads, runs };
  } finally {
    inline.dispose();
    threaded.dispose();
  }
}

async function main(): Promise<void> {
  const q = new URLSearchParams(location.search);
  const threads = Number(q.get('threads') ?? navigator.hardwareConcurrency);
  const epochs = Number(q.get('epochs') ?? 200);
  const runs = Number(q.get('runs') ?? 5);
  const pool = await WebWorkerPool.create({ threads });
  try {
    const rows = [await row(pool, 'bce', 1, epochs, runs), await row(pool, 'ce', 2, epochs, runs)];
    document.body.dataset.result = JSON.stringify({ rows, cores: navigator.hardwareConcurrency, userAgent: navigator.userAgent });
  } finally {
    pool.dispose();
  }
}

main().catch((e: Error) => {
  document.body.dataset.result = JSON.stringify({ error: e.message });
});
