// The float64 path: the same LinearEngine API as the GPU engine, the reference in tests and for the fast
// CPU path (src/cpu-fast/). Training runs the one loop (src/train/) over linearGradient.
import { validateLinearData, validateParams, type GradientResult, type LinearData, type LinearEngine, type LinearParams, type TrainOptions, type TrainResult } from '../models/linear.ts';
import { linearGradient } from './linear_partials.ts';
import { CpuProgram, linearSource } from './cpu-program.ts';
import { trainLinear } from '../train/linear.ts';
import { rowsOf } from '../models/batches.ts';

export class CpuLinearEngine implements LinearEngine {
  readonly device = 'cpu' as const;
  readonly adapter = null;
  readonly n: number;
  readonly d: number;
  private data: LinearData | null;

  constructor(data: LinearData) {
    validateLinearData(data);
    this.data = data;
    this.n = data.n;
    this.d = data.d;
  }

  private live(): LinearData {
    if (!this.data) throw new Error('CpuLinearEngine: used after dispose()');
    return this.data;
  }

  async gradient(at: LinearParams): Promise<GradientResult> {
    validateParams(at, this.d);
    return linearGradient(this.live(), at);
  }

  async train(options: TrainOptions): Promise<TrainResult> {
    const data = this.live();
    const { n, d } = this;
    return trainLinear(new CpuProgram(linearSource(n, d, (at, r) => linearGradient(rowsOf(data, r), at))), d, options);
  }

  dispose(): void {
    this.data = null;
  }
}
