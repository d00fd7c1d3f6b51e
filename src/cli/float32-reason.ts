// Gradient descent reads its data as float32 on every device, --device cpu64 included: the float64 twin computes
// in float64 over the very inputs the GPU and the fast path hold, which is what makes it their reference. A value
// past float32's range is refused by the readers (src/data/select.ts); with cpu64, whose name promises float64,
// the message says why that device refuses it too.
import { DataError } from '../data/errors.ts';

const FLOAT32_RANGE = /too large for float32/;

/** Runs `read`; a float32 range refusal under --device cpu64 goes on with the reason. */
export async function readAsFloat32<T>(device: string | undefined, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (device !== 'cpu64' || !(e instanceof DataError) || !FLOAT32_RANGE.test(e.detail)) throw e;
    const { file, line, element, column } = e;
    throw new DataError(`${e.detail}; --device cpu64 computes in float64 but trains on the data as every device holds them, in float32, so that it is a reference for the GPU and the fast CPU path on the same inputs`,
      { file, line, element, column });
  }
}
