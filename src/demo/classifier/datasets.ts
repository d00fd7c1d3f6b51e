// Generated 2-D classification datasets for the classifier mode: Gaussian blobs (K = 2..4 classes), two
// interleaved spirals and XOR. Seeded (the same seed gives the same points), classes balanced, x in the
// float32 n x 2 row-major layout the model engines take, y the class index.
import { seededUniform } from '../../data/shuffle.ts';
import type { ModelData } from '../../models/network.ts';

export const SHAPES = ['blobs', 'spirals', 'xor'] as const;
export type Shape = (typeof SHAPES)[number];

export interface ClassifierParams {
  shape: Shape;
  n: number;
  /** Classes; only blobs take more than 2. */
  classes: number;
  /** Standard deviation of the Gaussian jitter added to every point. */
  noise: number;
  seed: number;
}

export interface ClassifierDataset {
  data: ModelData;
  classes: number;
  label: string;
}

export function classesOf(p: Pick<ClassifierParams, 'shape' | 'classes'>): number {
  return p.shape === 'blobs' ? p.classes : 2;
}

export function validateClassifierParams(p: ClassifierParams): void {
  if (!(SHAPES as readonly string[]).includes(p.shape)) throw new RangeError(`dataset: expected ${SHAPES.join(', ')}, got "${p.shape}"`);
  if (!(Number.isInteger(p.n) && p.n >= 4 && p.n <= 100_000)) throw new RangeError('samples: a whole number from 4 to 100 000');
  if (p.shape === 'blobs' && !(Number.isInteger(p.classes) && p.classes >= 2 && p.classes <= 4)) {
    throw new RangeError('classes: 2, 3 or 4');
  }
  if (!(Number.isFinite(p.noise) && p.noise >= 0 && p.noise <= 5)) throw new RangeError('noise: a number from 0 to 5');
}

export function generateClassifier(p: ClassifierParams): ClassifierDataset {
  validateClassifierParams(p);
  const K = classesOf(p);
  const rand = seededUniform(p.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const x = new Float32Array(p.n * 2);
  const y = new Float32Array(p.n);
  for (let i = 0; i < p.n; i++) {
    const c = i % K;
    let px: number, py: number;
    if (p.shape === 'blobs') {
      // Centres evenly on a circle of radius 2 (K = 2: opposite each other).
      const a = (2 * Math.PI * c) / K + Math.PI / 4;
      px = 2 * Math.cos(a);
      py = 2 * Math.sin(a);
    } else if (p.shape === 'spirals') {
      // Arm c turns 1.25 times outwards from near the centre; the arms are a half turn apart.
      const t = rand();
      const r = 0.15 + 0.85 * t;
      const a = 2.5 * Math.PI * t + Math.PI * c;
      px = r * Math.cos(a);
      py = r * Math.sin(a);
    } else {
      // XOR: the quadrant decides; points keep a small gap from the axes before the jitter.
      const sx = rand() < 0.5 ? -1 : 1;
      const sy = c === 0 ? sx : -sx;
      px = sx * (0.1 + 0.9 * rand());
      py = sy * (0.1 + 0.9 * rand());
    }
    x[2 * i] = px + p.noise * gauss();
    x[2 * i + 1] = py + p.noise * gauss();
    y[i] = c;
  }
  const name = p.shape === 'blobs' ? `Gaussian blobs, ${K} classes` : p.shape === 'spirals' ? 'two interleaved spirals' : 'XOR';
  return { data: { x, y, n: p.n, d: 2 }, classes: K, label: `${name} (noise ${p.noise}), N = ${p.n}` };
}
