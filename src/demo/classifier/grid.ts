// The decision-boundary grid: the model's predicted class at the centre of every cell of a res x res grid
// over the data's extent, with the CPU forward pass on the current parameters (cheap: 96^2 small forwards).
import { accuracy, modelLogits, predictFromLogits } from '../../cpu/mlp_gradient.ts';
import type { ModelData, NetworkConfig } from '../../models/network.ts';

export interface Extent { x0: number; x1: number; y0: number; y1: number }

/** The data's bounding box, padded by `pad` of its size on every side and made square (equal scales). */
export function dataExtent(data: ModelData, pad = 0.1): Extent {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < data.n; i++) {
    const a = data.x[2 * i], b = data.x[2 * i + 1];
    x0 = Math.min(x0, a); x1 = Math.max(x1, a);
    y0 = Math.min(y0, b); y1 = Math.max(y1, b);
  }
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const half = (Math.max(x1 - x0, y1 - y0, 1e-6) / 2) * (1 + 2 * pad);
  return { x0: cx - half, x1: cx + half, y0: cy - half, y1: cy + half };
}

/** Cell centres, row 0 at the top (y1), as n x 2 float32 rows. */
export function gridPoints(e: Extent, res: number): Float32Array {
  const pts = new Float32Array(res * res * 2);
  for (let r = 0; r < res; r++) {
    const y = e.y1 - ((r + 0.5) / res) * (e.y1 - e.y0);
    for (let c = 0; c < res; c++) {
      const o = 2 * (r * res + c);
      pts[o] = e.x0 + ((c + 0.5) / res) * (e.x1 - e.x0);
      pts[o + 1] = y;
    }
  }
  return pts;
}

/** The predicted class of every grid cell (row-major, row 0 at the top). */
export function gridClasses(c: NetworkConfig, theta: ArrayLike<number>, points: Float32Array): Uint8Array {
  const n = points.length / 2;
  const pred = predictFromLogits(c, modelLogits(c, theta, points, n), n);
  return Uint8Array.from(pred);
}

/** How many different classes the grid shows. */
export function distinctClasses(cells: Uint8Array): number {
  return new Set(cells).size;
}

export function trainingAccuracy(c: NetworkConfig, theta: ArrayLike<number>, data: ModelData): number {
  return accuracy(c, theta, data);
}
