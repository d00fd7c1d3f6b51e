// Streamed model training above the engine: device loss (src/session/recovering-trainer.ts re-creates the
// streamed engine over the same stream and resumes from the last snapshot) and the headless page's job
// 'model-train-stream' (src/session/gpu-job.ts), which pulls chunks over HTTP as the CLI serves them.
import { afterEach, describe, expect, it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { requestGpu } from '../../src/gpu/device.ts';
import { GpuModelEngine } from '../../src/gpu/models/gpu-model-engine.ts';
import { trainModelStreamedWithRecovery } from '../../src/session/recovering-trainer.ts';
import { runGpuJob } from '../../src/session/gpu-job.ts';
import { mlpModel } from '../../src/models/mlp.ts';
import { optimizerConfig } from '../../src/optim/config.ts';
import type { EpochInfo } from '../../src/models/linear.ts';
import type { ModelData } from '../../src/models/network.ts';
import type { ModelTrainOptions } from '../../src/models/model-engine.ts';
import type { RowChunk, RowStream } from '../../src/models/row-stream.ts';
import { makeBlobs } from '../model-data.ts';

const config = mlpModel(2, [16], 'tanh', 'ce', 3);
const data = makeBlobs(100, 3, 2); // 300 samples in chunks of 128: 128, 128, 44
const chunkRows = 128;
// Mini-batches of 50 (3 + 3 + 1 per epoch), Adam: the snapshot carries the moments and the batch position.
const plain = { lr: 0.01, maxEpochs: 24, batchSize: 50, optimizer: optimizerConfig({ kind: 'adam' }), seed: 4, reportEvery: 3 };
const options: ModelTrainOptions = plain;

function streamOf(d: ModelData): RowStream {
  return {
    n: d.n, d: d.d, chunkRows,
    async *pass(): AsyncGenerator<RowChunk> {
      for (let start = 0; start < d.n; start += chunkRows) {
        const rows = Math.min(chunkRows, d.n - start);
        yield { x: d.x.slice(start * d.d, (start + rows) * d.d), y: d.y.slice(start, start + rows), rows };
      }
    },
  };
}

async function uninterrupted() {
  const engine = await GpuModelEngine.createStreamed(await testGpu(), config, streamOf(data), { maxBatchRows: 50 });
  return engine.train(options).finally(() => engine.dispose());
}

describe('GPU streamed models: device loss', () => {
  it('survives device loss mid-run and ends bit-identical to an uninterrupted run', async () => {
    const reference = await uninterrupted();
    const doomed = await requestGpu();
    const epochs: EpochInfo[] = [];
    const notices: string[] = [];
    const r = await trainModelStreamedWithRecovery(doomed, config, streamOf(data), {
      ...options,
      onEpoch: (e) => {
        epochs.push(e);
        if (e.epoch === 10) doomed.device.destroy();
      },
    }, { acquire: () => requestGpu(), notice: (m) => notices.push(m), engine: { maxBatchRows: 50 } });
    expect(r.recoveries).toBe(1);
    expect(r.device).toBe('gpu');
    expect(notices.join('\n')).toMatch(/resuming from the snapshot at update \d+/);
    expect(Array.from(r.result.theta)).toEqual(Array.from(reference.theta));
    expect(r.result.loss).toBe(reference.loss);
    expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });

  it('continues on the CPU path over the same stream when no new device can be had', async () => {
    const doomed = await requestGpu();
    const notices: string[] = [];
    const r = await trainModelStreamedWithRecovery(doomed, config, streamOf(data), {
      ...options,
      onEpoch: (e) => { if (e.epoch === 7) doomed.device.destroy(); },
    }, { acquire: () => Promise.reject(new Error('adapter refused')), notice: (m) => notices.push(m), engine: { maxBatchRows: 50 } });
    expect(r.device).toBe('cpu');
    expect(notices.join('\n')).toMatch(/adapter refused[\s\S]*CPU path from update \d+/);
    expect(r.result.epochs).toBe(24);
    expect(r.result.updates).toBe(24 * 7);
    expect(Number.isFinite(r.result.loss)).toBe(true);
  });
});

describe("GPU streamed models: the page's job", () => {
  const realFetch = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  /** The CLI's stream server (src/cli/gpu-session.ts) in miniature: /start begins a pass, /next hands out a packed chunk or 204. */
  function serve(d: ModelData) {
    const served = { passes: 0 };
    let next: Iterator<ArrayBuffer> | null = null;
    function* chunks() {
      for (let start = 0; start < d.n; start += chunkRows) {
        const rows = Math.min(chunkRows, d.n - start);
        const packed = new Float32Array(rows * (d.d + 1));
        packed.set(d.x.subarray(start * d.d, (start + rows) * d.d));
        packed.set(d.y.subarray(start, start + rows), rows * d.d);
        yield packed.buffer;
      }
    }
    globalThis.fetch = (async (input: RequestInfo | URL) => {
      const url = String(input);
      if (url === 'http://stream.test/s/start') {
        served.passes++;
        next = chunks();
        return new Response(null, { status: 200 });
      }
      if (url === 'http://stream.test/s/next' && next) {
        const c = next.next();
        return c.done ? new Response(null, { status: 204 }) : new Response(c.value, { status: 200 });
      }
      return new Response('not found', { status: 404 });
    }) as typeof fetch;
    return served;
  }

  it("'model-train-stream' trains over fetched chunks to the engine's bits, one pass per epoch", async () => {
    const reference = await uninterrupted();
    const served = serve(data);
    const r = await runGpuJob({ kind: 'model-train-stream', streamUrl: 'http://stream.test/s', n: data.n, d: data.d, chunkRows, config, options: plain });
    expect(r.model!.device).toBe('gpu');
    expect(r.model!.theta).toEqual(Array.from(reference.theta));
    expect(r.model!.snapshot.optim.t).toBe(24 * 7);
    expect(served.passes).toBe(25);
  });

  it('a stream that serves an error fails the job with the HTTP status', async () => {
    serve(data);
    const failing = globalThis.fetch;
    let calls = 0;
    globalThis.fetch = (async (input: RequestInfo | URL) => (++calls === 3 ? new Response('bad cell at line 7', { status: 500 }) : failing(input))) as typeof fetch;
    await expect(runGpuJob({ kind: 'model-train-stream', streamUrl: 'http://stream.test/s', n: data.n, d: data.d, chunkRows, config, options: plain }))
      .rejects.toThrow(/stream: HTTP 500: bad cell at line 7/);
  });
});
