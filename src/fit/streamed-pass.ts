// A Levenberg-Marquardt pass over rows that come in chunks (a file streamed, larger than memory): the
// normal-equations sums of each chunk, added in chunk order in float64, so that the pass holds one chunk
// (and the one read ahead) whatever the file's size, and gives the same bits on every run.
import type { FormulaData } from '../models/formula.ts';
import { checkedPass, checkRowStream, type RowStream } from '../models/row-stream.ts';
import type { NormalEquationsPass } from './curve-fit.ts';

/** sumsOf(chunk, theta): the chunk's normal-equations sums (a backend's pass over rows in memory). */
export function streamedNormalEquations(stream: RowStream, length: number, sumsOf: (chunk: FormulaData, theta: Float64Array) => Promise<Float64Array>): NormalEquationsPass {
  checkRowStream(stream, 'stream');
  return async (theta) => {
    const total = new Float64Array(length);
    for await (const chunk of checkedPass(stream)) {
      const sums = await sumsOf({ x: chunk.x.subarray(0, chunk.rows * stream.d), y: chunk.y.subarray(0, chunk.rows), n: chunk.rows, d: stream.d }, theta);
      for (let k = 0; k < length; k++) total[k] += sums[k];
    }
    return total;
  };
}
