// The linear model's weights in the data's units on both of train's paths: the default one (features and
// target standardized) and the model trainer (features standardized), which --save or --optimizer choose.
// Both converge to the least-squares fit, so their weights agree; logistic reports its logit's weights.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain as run } from '../cli-main.ts';
import { suiteTempDir } from '../temp-dir.ts';

const dir = suiteTempDir('cli-linear-weights');
const data = join(dir, 'lin.csv');
// y = 3x − z + 2 with a little noise, x and z on scales far from 1 so that unstandardizing matters.
const rows = Array.from({ length: 200 }, (_, i) => {
  const x = 50 + (i % 17) * 3;
  const z = 0.01 * ((i * 7) % 23);
  return [x, z, 3 * x - z + 2 + 0.01 * Math.sin(i)];
});
writeFileSync(data, `x,z,y\n${rows.map((r) => r.join(',')).join('\n')}\n`);

/** The least-squares weights and bias (normal equations of [x, z, 1], solved by Cramer's rule). */
function leastSquares(): [number, number, number] {
  const A = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  const v = [0, 0, 0];
  for (const [x, z, y] of rows.map((r) => r.map(Math.fround))) {
    const a = [x, z, 1];
    for (let p = 0; p < 3; p++) {
      v[p] += a[p] * y;
      for (let q = 0; q < 3; q++) A[p][q] += a[p] * a[q];
    }
  }
  const det = (m: number[][]) => m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const D = det(A);
  return [0, 1, 2].map((k) => det(A.map((row, p) => row.map((c, q) => (q === k ? v[p] : c)))) / D) as [number, number, number];
}

describe('train on the linear model reports its weights in the data\'s units', () => {
  it('on the default path and on the model trainer (--save, --optimizer), to the same fit', async () => {
    const [wx, wz, b] = leastSquares();
    const base = ['train', '--data', data, '--target', 'y', '--device', 'cpu64', '--epochs', '5000', '--json'];
    for (const more of [[], ['--save', join(dir, 'm.json')], ['--optimizer', 'momentum', '--lr', '0.05']]) {
      const r = await run([...base, ...more]);
      expect(r.code, r.err).toBe(0);
      const j = JSON.parse(r.out);
      expect(Object.keys(j.weights)).toEqual(['x', 'z']);
      const path = more[0] ?? 'the default path';
      expect(j.weights.x, `${path}: w[x]`).toBeCloseTo(wx, 5);
      expect(j.weights.z, `${path}: w[z]`).toBeCloseTo(wz, 3);
      expect(j.bias, `${path}: b`).toBeCloseTo(b, 3);
    }
    const text = await run(['train', '--data', data, '--target', 'y', '--device', 'cpu64', '--epochs', '50', '--optimizer', 'sgd']);
    expect(text.out).toMatch(/\n {2}w\[x\] = \S+\n {2}w\[z\] = \S+\n {2}b = \S+\n {2}J = /);
  });

  it('logistic: the logit\'s weights, unstandardized; an mlp reports none', async () => {
    const labels = join(dir, 'labels.csv');
    writeFileSync(labels, `x,label\n${Array.from({ length: 200 }, (_, i) => `${100 + i},${(i * 37) % 200 < 100 + (i - 100) * 0.8 ? 1 : 0}`).join('\n')}\n`);
    const r = await run(['train', '--model', 'logistic', '--data', labels, '--target', 'label', '--device', 'cpu64', '--epochs', '300', '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    // The logit from the reported weights equals the one from the standardized parameters.
    const std = Math.sqrt(Array.from({ length: 200 }, (_, i) => (i - 99.5) ** 2).reduce((a, b) => a + b) / 200);
    expect(j.weights.x * 150 + j.bias).toBeCloseTo(j.parameters[0] * (150 - 199.5) / std + j.parameters[1], 9);
    const mlp = JSON.parse((await run(['train', '--model', 'mlp', '--hidden', '3', '--data', labels, '--target', 'label', '--device', 'cpu64', '--epochs', '3', '--json'])).out);
    expect(mlp.weights).toBeUndefined();
  });
});
