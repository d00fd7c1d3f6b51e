// The plain single-threaded baselines of the CPU bench (bench/cpu.ts), written the way one would without
// tricks: a sum over the bytes (the linear rows' yardstick) and a Float32Array MLP trainer with straight
// i-k-j loops (the MLP rows' yardstick): matrices as Float32Array, W stored fan_in x fan_out, no tiling,
// no register blocking, no fusion, one thread. It trains the same network from the same start on the same
// batches in the same order with the same Adam, and its gradient is validated against float64 first.
import type { ModelData, NetworkConfig } from '../../src/models/network.ts';
import { layerShapes, parameterCount } from '../../src/models/network.ts';
import { BatchSchedule } from '../../src/models/batches.ts';
import { biasCorrections, type OptimizerConfig } from '../../src/optim/config.ts';

/** The linear rows' yardstick: the GPU bench's plain read loop (cpu-ref.ts), one definition. */
export { sumFloats as plainSum } from './cpu-ref.ts';

interface PlainLayer {
  fanIn: number;
  fanOut: number;
  /** fan_in x fan_out */
  W: Float32Array;
  b: Float32Array;
  gW: Float32Array;
  gb: Float32Array;
  mW: Float32Array; vW: Float32Array; mb: Float32Array; vb: Float32Array;
}

export class PlainMlp {
  private readonly layers: PlainLayer[];
  private acts: Float32Array[] = [];
  private deltas: Float32Array[] = [];
  private rowsAllocated = 0;
  private t = 0;

  constructor(private readonly c: NetworkConfig, theta0: ArrayLike<number>) {
    if (c.head === 'mse') throw new RangeError('plain MLP: bce and ce heads only');
    this.layers = layerShapes(c).map((s) => {
      const W = new Float32Array(s.fanIn * s.fanOut);
      for (let o = 0; o < s.fanOut; o++) for (let k = 0; k < s.fanIn; k++) W[k * s.fanOut + o] = theta0[s.wOffset + o * s.fanIn + k];
      const b = Float32Array.from({ length: s.fanOut }, (_, o) => theta0[s.wOffset + s.fanOut * s.fanIn + o]);
      const z = () => new Float32Array(W.length);
      const zb = () => new Float32Array(b.length);
      return { fanIn: s.fanIn, fanOut: s.fanOut, W, b, gW: z(), gb: zb(), mW: z(), vW: z(), mb: zb(), vb: zb() };
    });
  }

  private allocate(rows: number): void {
    if (rows <= this.rowsAllocated) return;
    this.acts = [new Float32Array(rows * this.c.inputs), ...this.layers.map((l) => new Float32Array(rows * l.fanOut))];
    this.deltas = this.acts.map((a) => new Float32Array(a.length));
    this.rowsAllocated = rows;
  }

  private act(z: number): number {
    const a = this.c.activation;
    return a === 'relu' ? (z > 0 ? z : 0) : a === 'tanh' ? Math.tanh(z) : 1 / (1 + Math.exp(-z));
  }

  private slope(a: number): number {
    const k = this.c.activation;
    return k === 'relu' ? (a > 0 ? 1 : 0) : k === 'tanh' ? 1 - a * a : a * (1 - a);
  }

  /** Mean loss over rows start..start+rows; leaves the mean gradient in each layer's gW, gb. */
  lossAndGradient(data: ModelData, start: number, rows: number): number {
    this.allocate(rows);
    const { acts, deltas, layers, c } = this;
    const L = layers.length;
    acts[0].set(data.x.subarray(start * c.inputs, (start + rows) * c.inputs));
    for (let l = 0; l < L; l++) {
      const { fanIn: fi, fanOut: fo, W, b } = layers[l];
      const A = acts[l];
      const Z = acts[l + 1];
      Z.fill(0, 0, rows * fo);
      for (let i = 0; i < rows; i++) {
        for (let k = 0; k < fi; k++) {
          const a = A[i * fi + k];
          for (let j = 0; j < fo; j++) Z[i * fo + j] += a * W[k * fo + j];
        }
      }
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < fo; j++) {
          const z = Z[i * fo + j] + b[j];
          Z[i * fo + j] = l === L - 1 ? z : this.act(z);
        }
      }
    }
    const K = c.outputs;
    const z = acts[L];
    const dz = deltas[L];
    let loss = 0;
    for (let i = 0; i < rows; i++) {
      const y = data.y[start + i];
      if (c.head === 'bce') {
        const v = z[i];
        loss += Math.max(v, 0) - v * y + Math.log1p(Math.exp(-Math.abs(v)));
        dz[i] = (1 / (1 + Math.exp(-v)) - y) / rows;
      } else {
        let max = -Infinity;
        for (let k = 0; k < K; k++) max = Math.max(max, z[i * K + k]);
        let sum = 0;
        for (let k = 0; k < K; k++) sum += Math.exp(z[i * K + k] - max);
        const lse = max + Math.log(sum);
        loss += lse - z[i * K + y];
        for (let k = 0; k < K; k++) dz[i * K + k] = (Math.exp(z[i * K + k] - lse) - (k === y ? 1 : 0)) / rows;
      }
    }
    for (let l = L - 1; l >= 0; l--) {
      const { fanIn: fi, fanOut: fo, W, gW, gb } = layers[l];
      const A = acts[l];
      const D = deltas[l + 1];
      gW.fill(0);
      gb.fill(0);
      for (let i = 0; i < rows; i++) {
        for (let k = 0; k < fi; k++) {
          const a = A[i * fi + k];
          for (let j = 0; j < fo; j++) gW[k * fo + j] += a * D[i * fo + j];
        }
        for (let j = 0; j < fo; j++) gb[j] += D[i * fo + j];
      }
      if (l === 0) break;
      const P = deltas[l];
      for (let i = 0; i < rows; i++) {
        for (let k = 0; k < fi; k++) {
          let s = 0;
          for (let j = 0; j < fo; j++) s += D[i * fo + j] * W[k * fo + j];
          P[i * fi + k] = s * this.slope(A[i * fi + k]);
        }
      }
    }
    return loss / rows;
  }

  /** The last gradient in nabla's theta layout (for validation). */
  gradient(): Float64Array {
    const out = new Float64Array(parameterCount(this.c));
    layerShapes(this.c).forEach((s, l) => {
      const { gW, gb } = this.layers[l];
      for (let o = 0; o < s.fanOut; o++) {
        for (let k = 0; k < s.fanIn; k++) out[s.wOffset + o * s.fanIn + k] = gW[k * s.fanOut + o];
        out[s.wOffset + s.fanOut * s.fanIn + o] = gb[o];
      }
    });
    return out;
  }

  /** One Adam update from the last gradient (no weight decay). */
  adamStep(o: OptimizerConfig, lr: number): void {
    const { bc1, bc2 } = biasCorrections(o, ++this.t);
    const update = (p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array) => {
      for (let k = 0; k < p.length; k++) {
        m[k] = o.beta1 * m[k] + (1 - o.beta1) * g[k];
        v[k] = o.beta2 * v[k] + (1 - o.beta2) * g[k] * g[k];
        p[k] -= (lr * (m[k] / bc1)) / (Math.sqrt(v[k] / bc2) + o.eps);
      }
    };
    for (const l of this.layers) {
      update(l.W, l.gW, l.mW, l.vW);
      update(l.b, l.gb, l.mb, l.vb);
    }
  }

  /** 1 + epochs epochs of Adam in BatchSchedule order; ms per epoch after the first, and the last epoch's mean batch loss. */
  train(data: ModelData, batch: number, seed: number, epochs: number, o: OptimizerConfig, lr: number): { epochMs: number; lastLoss: number } {
    const schedule = new BatchSchedule(data.n, batch, seed);
    let t0 = 0;
    let lastLoss = NaN;
    for (let e = 0; e <= epochs; e++) {
      if (e === 1) t0 = performance.now();
      let sum = 0;
      for (let s = 0; s < schedule.perEpoch; s++) {
        const r = schedule.at(e * schedule.perEpoch + s);
        sum += r.rows * this.lossAndGradient(data, r.start, r.rows);
        this.adamStep(o, lr);
      }
      lastLoss = sum / data.n;
    }
    return { epochMs: (performance.now() - t0) / epochs, lastLoss };
  }
}
