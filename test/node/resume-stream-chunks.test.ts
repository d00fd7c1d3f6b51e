// `train --resume` of a streamed mini-batch run, through main: the file keeps the rows per chunk its batches
// were cut in (training.chunkRows), and the resume cuts the same batches again, streamed or in memory, with or
// without --chunk-mb, so it ends bit-exact where the run without a break does. A --chunk-mb that makes other
// chunk rows is refused naming the file and the saved rows; a file written before chunk rows were kept loads
// and resumes as it did then. Formula models and networks (an mlp, on the model engines), cpu and cpu64.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain as run } from '../cli-main.ts';
import { suiteTempDir } from '../temp-dir.ts';

/** The run's parameters (formula: by name; network: in theta's order), after checking it succeeded. */
async function trained(argv: string[]): Promise<unknown> {
  const r = await run(['train', ...argv, '--json']);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  const report = JSON.parse(r.out);
  return report.params ?? report.parameters;
}

async function refused(argv: string[], pattern: RegExp): Promise<void> {
  const r = await run(['train', ...argv]);
  expect(r.out).toBe('');
  expect(r.err).toMatch(pattern);
  expect(r.code).toBe(2);
}

const dir = suiteTempDir('resume-chunks');
// 300 rows of y = 3x - 2z + 1 + noise from a seeded generator.
let s = 7;
const uniform = () => (s = (s * 16807) % 2147483647) / 2147483647;
const data = join(dir, 'lin.csv');
writeFileSync(data, `x,z,y\n${Array.from({ length: 300 }, () => {
  const x = uniform() * 10;
  const z = uniform() * 5;
  return [x, z, 3 * x - 2 * z + 1 + (uniform() - 0.5) * 0.2].join(',');
}).join('\n')}\n`);

// Two feature columns and the target make 12 bytes a row: 0.00115 MiB (1205 bytes) is 100 rows a chunk,
// 0.002 MiB is 174. Batches of 30 cut in 100-row chunks make 12 updates an epoch, in memory 10: a resume
// that forgets the chunks runs whole epochs of other batches, without an error.
const CHUNK_MB = '0.00115';
const CHUNK_ROWS = 100;
const ADAM = ['--optimizer', 'adam', '--lr', '0.01'];
const MODELS = {
  formula: ['--formula', 'y ~ a*x + b*z + c', '--start', 'a=0,b=0,c=0', ...ADAM],
  network: ['--model', 'mlp', '--hidden', '3', '--activation', 'tanh', '--loss', 'mse', '--target', 'y', '--features', 'x,z', ...ADAM],
};

function savedTraining(file: string): { chunkRows?: number; batchSize: number | null } {
  return JSON.parse(readFileSync(file, 'utf8')).training;
}

/** The file as written before chunk rows were kept: the same, without training.chunkRows. */
function withoutChunkRows(file: string, to: string): string {
  const json = JSON.parse(readFileSync(file, 'utf8'));
  delete json.training.chunkRows;
  writeFileSync(to, JSON.stringify(json));
  return to;
}

describe.each(Object.entries(MODELS))('--resume of a streamed mini-batch run (%s model)', (kind, model) => {
  for (const device of ['cpu', 'cpu64']) {
    const train = (batch: string, ...more: string[]) => [...model, '--data', data, '--device', device, '--batch-size', batch, '--seed', '3', ...more];
    const stream = ['--stream', '--chunk-mb', CHUNK_MB];
    // Saved by the first test below; the two after it resume it.
    const half = join(dir, `${kind}-${device}-half.json`);

    it(`keeps the chunk rows and continues bit-exact, streamed or in memory, with or without --chunk-mb (${device})`, async () => {
      const straight = await trained(train('30', ...stream, '--epochs', '8'));
      await trained(train('30', ...stream, '--epochs', '4', '--save', half));
      expect(savedTraining(half)).toMatchObject({ batchSize: 30, chunkRows: CHUNK_ROWS });
      const resume = (...flags: string[]) => trained(['--resume', half, '--data', data, '--device', device, '--epochs', '8', ...flags]);
      expect(await resume()).toEqual(straight);
      expect(await resume('--stream')).toEqual(straight);
      expect(await resume(...stream)).toEqual(straight);
      // A resumed run saves the chunk rows again, so that a further resume of it continues the same batches.
      const again = join(dir, `${kind}-${device}-again.json`);
      await trained(['--resume', half, '--data', data, '--device', device, '--epochs', '6', '--save', again]);
      expect(savedTraining(again).chunkRows).toBe(CHUNK_ROWS);
      expect(await trained(['--resume', again, '--data', data, '--device', device, '--epochs', '8', '--stream'])).toEqual(straight);
    });

    it(`refuses a --chunk-mb that makes other chunk rows, naming the file and the saved rows (${device})`, async () => {
      await refused(['--resume', half, '--data', data, '--device', device, '--epochs', '8', '--stream', '--chunk-mb', '0.002'],
        /^nabla: --chunk-mb 0\.002: .*half\.json was trained with stream chunks of 100 rows.*\(--chunk-mb 0\.002 makes chunks of 174\)/);
    });

    it(`resumes a file without chunk rows as before: exact with its --stream --chunk-mb (${device})`, async () => {
      const old = withoutChunkRows(half, join(dir, `${kind}-${device}-old.json`));
      const straight = await trained(train('30', ...stream, '--epochs', '8'));
      expect(await trained(['--resume', old, '--data', data, '--device', device, '--epochs', '8', ...stream])).toEqual(straight);
      // In memory its 4 epochs of 12 batches (48 updates) are not whole epochs of 10: the cause named is the missing --stream --chunk-mb.
      await refused(['--resume', old, '--data', data, '--device', device, '--epochs', '8'],
        /^nabla: --resume .*-old\.json: its 48 updates are not a whole number of epochs of 10 batches \(--batch-size 30 of 300 rows\); .*resume a --stream run with the --stream and --chunk-mb it was trained with/);
    });
  }

  it('keeps no chunk rows for a streamed full-batch run', async () => {
    const full = join(dir, `${kind}-full.json`);
    await trained([...model, '--data', data, '--device', 'cpu', '--stream', '--chunk-mb', CHUNK_MB, '--epochs', '2', '--save', full]);
    expect(savedTraining(full).chunkRows).toBeUndefined();
  });

  // Batches of 25 make 12 an epoch both in memory and in 100-row chunks: a resume in chunks would run whole
  // epochs of other batches without an error, so an in-memory run keeps its one chunk of all 300 rows.
  it('resumes mini-batches trained in memory with --stream bit-exact, in one chunk of all rows, and refuses a --chunk-mb that cuts others', async () => {
    const train = (...more: string[]) => [...model, '--data', data, '--device', 'cpu', '--batch-size', '25', '--seed', '3', ...more];
    const straight = await trained(train('--epochs', '8'));
    const inMemory = join(dir, `${kind}-memory.json`);
    await trained(train('--epochs', '4', '--save', inMemory));
    expect(savedTraining(inMemory)).toMatchObject({ batchSize: 25, chunkRows: 300 });
    const resume = ['--resume', inMemory, '--data', data, '--device', 'cpu', '--epochs', '8', '--stream'];
    expect(await trained(resume)).toEqual(straight);
    await refused([...resume, '--chunk-mb', CHUNK_MB],
      /^nabla: --chunk-mb 0\.00115: .*memory\.json was trained with stream chunks of 300 rows.*\(--chunk-mb 0\.00115 makes chunks of 100\)/);
  });
});

describe('a model file\'s chunkRows on load', () => {
  it.each(Object.entries(MODELS))('refuses one that is not a positive integer, or that comes without a batch size (%s model)', async (kind, model) => {
    const saved = join(dir, `${kind}-load.json`);
    await trained([...model, '--data', data, '--device', 'cpu', '--batch-size', '30', '--stream', '--chunk-mb', CHUNK_MB, '--epochs', '1', '--save', saved]);
    const json = JSON.parse(readFileSync(saved, 'utf8'));
    for (const [training, what] of [[{ chunkRows: 0 }, /chunkRows 0/], [{ chunkRows: 2.5 }, /chunkRows 2\.5/], [{ batchSize: null }, /chunkRows without a batchSize/]] as const) {
      const bad = join(dir, `${kind}-bad.json`);
      writeFileSync(bad, JSON.stringify({ ...json, training: { ...json.training, ...training } }));
      const r = await run(['predict', '--model', bad, '--data', data]);
      expect(r.err).toMatch(/bad\.json: not a usable nabla (formula )?model file/);
      expect(r.err).toMatch(what);
      expect(r.code).toBe(2);
    }
  });
});
