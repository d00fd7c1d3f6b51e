// The progress line of streamed passes: the pure formatter, the redraw over itself on a terminal (throttled,
// cleared at the end of a pass and before other stderr output), and silence off a terminal or with --json.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearProgress, cliProgress, divergenceText, formatBytes, formatProgress, passLabel, passTracker, ProgressLine, streamProgress } from '../../src/cli/progress.ts';
import { suiteTempDir } from '../temp-dir.ts';

async function* chunksOf(rows: number[]): AsyncGenerator<{ rows: number }> {
  for (const r of rows) yield { rows: r };
}

function fakeTerminal(columns = 120) {
  const written: string[] = [];
  return { written, out: { isTTY: true, columns, write: (s: string) => written.push(s) } };
}

describe('formatProgress', () => {
  it('shows the pass, a bar once the rows are known, bytes, rows and rows/s', () => {
    expect(formatProgress({ label: 'epoch 3/10', bytes: 3 * 2 ** 20 + 2 ** 19, rows: 450_000, totalRows: 1_000_000, seconds: 0.5 }))
      .toBe('epoch 3/10  [#########-----------]  45%  3.5 MiB  450,000/1,000,000 rows  900.0k rows/s');
    expect(formatProgress({ label: 'statistics', bytes: 100, rows: 7, seconds: 0 })).toBe('statistics  100 B  7 rows');
    expect(formatProgress({ label: 'epoch 1', bytes: 2 ** 30, rows: 2e6, totalRows: 2e6, seconds: 1 }))
      .toBe('epoch 1  [####################] 100%  1.0 GiB  2,000,000/2,000,000 rows  2.00M rows/s');
  });

  it('cuts the line to the terminal width', () => {
    const line = formatProgress({ label: 'epoch 3/10', bytes: 5e6, rows: 10, totalRows: 100, seconds: 1 }, 30);
    expect(line.length).toBeLessThan(30);
    expect(line.startsWith('epoch 3/10  [##')).toBe(true);
  });

  it('formats bytes in binary units', () => {
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 2 ** 40)).toBe('5.0 TiB');
  });

  it('names the passes: statistics, epochs of the asked number, then the final pass', () => {
    expect([0, 1, 5, 6].map((k) => passLabel(k, 5))).toEqual(['statistics', 'epoch 1/5', 'epoch 5/5', 'final pass']);
    expect(passLabel(2, undefined, 'pass')).toBe('pass 2');
  });
});

describe('ProgressLine', () => {
  it('redraws with \\r at most every 100 ms, counts bytes and rows, and clears when the pass ends', async () => {
    const { written, out } = fakeTerminal();
    let t = 0;
    const line = new ProgressLine(out, () => t);
    const seen: number[] = [];
    for await (const c of line.track('epoch 1/2', chunksOf([10, 20, 30, 40]), 100)) {
      line.onBytes(1024);
      seen.push(c.rows);
      t += 60; // draws at 0, 120 (60 is too soon), 180 (after 120: too soon) -> at chunks 1 and 3
    }
    expect(seen).toEqual([10, 20, 30, 40]); // the chunks pass through unchanged
    expect(written).toEqual([
      '\r' + 'epoch 1/2  [##------------------]  10%  0 B  10/100 rows' + '\x1b[K',
      '\r' + 'epoch 1/2  [############--------]  60%  2.0 KiB  60/100 rows  500 rows/s' + '\x1b[K',
      '\r\x1b[K',
    ]);
  });

  it('clears before other output, and after a pass that fails', async () => {
    const { written, out } = fakeTerminal();
    const line = new ProgressLine(out, () => 0);
    async function* failing() {
      yield { rows: 1 };
      throw new Error('bad row');
    }
    const it = line.track('statistics', failing())[Symbol.asyncIterator]();
    await it.next();
    clearProgress();
    expect(written.at(-1)).toBe('\r\x1b[K');
    clearProgress(); // nothing drawn now: nothing written
    expect(written.length).toBe(2);
    await expect(it.next()).rejects.toThrow('bad row');
  });

  it('is not drawn off a terminal or with --json; passTracker then hands the chunks over as they are', () => {
    const { out } = fakeTerminal();
    expect(cliProgress(false, { ...out, isTTY: false })).toBeUndefined();
    expect(cliProgress(false, { write: out.write })).toBeUndefined();
    expect(cliProgress(true, out)).toBeUndefined();
    expect(cliProgress(false, out)).toBeInstanceOf(ProgressLine);
    const chunks = chunksOf([1]);
    expect(passTracker(streamProgress(false, 3, undefined, { ...out, isTTY: false }))(chunks)).toBe(chunks);
  });
});

describe('the CLI off a terminal', () => {
  const dir = suiteTempDir('progress');
  it('writes no progress line when stderr is a pipe', async () => {
    const file = join(dir, 'd.csv');
    writeFileSync(file, ['x,y', ...Array.from({ length: 2000 }, (_, i) => `${i / 100},${(3 * i) / 100 + 2}`)].join('\n'));
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile('node', ['bin/nabla.mjs', 'train', '--data', file, '--target', 'y', '--stream', '--device', 'cpu', '--epochs', '30'],
        { cwd: join(import.meta.dirname, '..', '..'), timeout: 60_000 }, (err, _out, stderr) => resolve({ code: err ? 1 : 0, stderr }));
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/read 2000 rows/);
    expect(r.stderr).not.toMatch(/\r|statistics|rows\/s/);
  }, 60_000);
});

describe('divergenceText', () => {
  it('counts epochs at full batch, and updates (with their epoch) under mini-batches', () => {
    expect(divergenceText({ divergedAtEpoch: 3, epochs: 2, updates: 2 }, false)).toBe('training diverged at epoch 3; kept the parameters of epoch 2');
    expect(divergenceText({ divergedAtEpoch: 1, epochs: 1, updates: 6 }, true)).toBe('training diverged at update 7 (epoch 2); kept the parameters of update 6');
    expect(divergenceText({ divergedAtEpoch: 0, epochs: 0, updates: 0 }, true)).toBe('training diverged at update 1 (epoch 1); kept the starting parameters');
  });
});
