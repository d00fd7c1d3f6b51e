// A value past float32's range under `train --device cpu64`: gradient descent reads its data as float32 on every
// device, the float64 twin's included (it is the reference for the other paths on the same inputs), so the value
// is refused there too, exit 2, naming the file, line and column, and saying why cpu64, which computes in float64,
// does not take it.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain as run } from '../cli-main.ts';
import { suiteTempDir } from '../temp-dir.ts';

const dir = suiteTempDir('cli-float32');
const data = join(dir, 'huge.csv');
writeFileSync(data, `x,y\n${Array.from({ length: 20 }, (_, i) => `${i},${i === 6 ? '1e300' : 2 * i + 1}`).join('\n')}\n`);
const WHY = /; --device cpu64 computes in float64 but trains on the data as every device holds them, in float32, so that it is a reference for the GPU and the fast CPU path on the same inputs$/;

describe('train --device cpu64 on a value past float32', () => {
  for (const [name, model] of [
    ['a formula', ['--formula', 'y ~ a + b*x', '--start', 'a=0,b=0']],
    ['a network', ['--model', 'mlp', '--hidden', '2', '--loss', 'mse', '--target', 'y']],
    ['the linear model', ['--target', 'y']],
  ] as const) {
    for (const stream of [[], ['--stream']]) {
      it(`refuses it for ${name}${stream.length ? ', streamed' : ''}, naming the cell and saying why cpu64 reads float32`, async () => {
        const r = await run(['train', ...model, '--data', data, '--epochs', '2', ...stream, '--device', 'cpu64']);
        expect(r.out).toBe('');
        expect(r.err).toMatch(/^nabla: .*huge\.csv line 8, column "y": "1e300" is too large for float32/);
        expect(r.err).toMatch(WHY);
        expect(r.code).toBe(2);
        const cpu = await run(['train', ...model, '--data', data, '--epochs', '2', ...stream, '--device', 'cpu']);
        expect(cpu.err).toMatch(/"1e300" is too large for float32/);
        expect(cpu.err).not.toMatch(/cpu64/);
      });
    }
  }
});

describe('train --optimizer lm --device cpu64 --stream', () => {
  it('says that its streamed rows are float32, where in memory the CSV is read in float64; the other devices say nothing', async () => {
    const line = join(dir, 'line.csv');
    writeFileSync(line, `x,y\n${Array.from({ length: 20 }, (_, i) => `${i},${0.1 + 2 * i + 0.01 * Math.sin(i)}`).join('\n')}\n`);
    const fit = (device: string, stream: string[]) => run(['train', '--formula', 'y ~ a + b*x', '--start', 'a=0,b=1', '--optimizer', 'lm', '--data', line, '--device', device, ...stream]);
    const streamed = await fit('cpu64', ['--stream']);
    expect(streamed.code, streamed.err).toBe(0);
    expect(streamed.err).toMatch(/nabla: --stream: the streamed rows are held in float32; without --stream, --device cpu64 reads CSV and JSON in float64/);
    for (const [device, stream] of [['cpu64', []], ['cpu', ['--stream']]] as const) {
      const r = await fit(device, [...stream]);
      expect(r.code, r.err).toBe(0);
      expect(r.err, `${device} ${stream.join(' ')}`).not.toMatch(/held in float32/);
    }
  });
});
