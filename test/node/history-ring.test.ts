// The read-back (loss, |grad|) ring of the GPU training programs (src/gpu/history-ring.ts): slot step % capacity.
import { describe, expect, it } from 'vitest';
import { historyAt, historySpan } from '../../src/gpu/history-ring.ts';

describe('history ring', () => {
  // Capacity 4: slot s holds the update whose step % 4 = s; here update u wrote (u, 100 + u) for u = 4 .. 7.
  const ring = new Float32Array([4, 104, 5, 105, 6, 106, 7, 107]);

  it('finds an update by its step, wrapping at the capacity', () => {
    expect(historyAt(ring, 6)).toEqual({ loss: 6, gradNorm: 106 });
    expect(historyAt(ring, 4)).toEqual({ loss: 4, gradNorm: 104 });
  });

  it('reads a span in update order across the wrap', () => {
    // Steps 6, 7 and then 8, 9 in slots 0 and 1 (overwritten: here the ring holds 4 and 5 there).
    const { losses, gradNorms } = historySpan(ring, 6, 4);
    expect(Array.from(losses)).toEqual([6, 7, 4, 5]);
    expect(Array.from(gradNorms)).toEqual([106, 107, 104, 105]);
    expect(historySpan(ring, 5, 0).losses).toHaveLength(0);
  });
});
