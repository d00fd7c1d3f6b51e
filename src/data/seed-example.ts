// The built-in dataset of the seed problem: one feature, y = 3x + 2 + noise, generated deterministically
// so `nabla train` with no file always learns the same line.
import type { Table } from './table.ts';

export const SEED_EXAMPLE = { rows: 10_000, w: 3, b: 2, noise: 1 } as const;

export function seedExampleTable(): Table {
  let state = 20261126;
  const rand = () => {
    // xorshift32: small, seeded, good enough for demo noise
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state / 4294967296;
  };
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < SEED_EXAMPLE.rows; i++) {
    const x = 10 * rand();
    // Sum of three uniforms: a bell-shaped noise with standard deviation SEED_EXAMPLE.noise.
    const noise = (rand() + rand() + rand() - 1.5) * 2 * SEED_EXAMPLE.noise;
    xs.push(x);
    ys.push(SEED_EXAMPLE.w * x + SEED_EXAMPLE.b + noise);
  }
  return {
    file: 'built-in example',
    columns: ['x', 'y'],
    rowCount: SEED_EXAMPLE.rows,
    cell: (row, col) => (col === 0 ? xs[row] : ys[row]),
    lineOf: () => null,
  };
}
