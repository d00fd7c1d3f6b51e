// The (loss, |grad|) ring the GPU training steps write, one slot per update at step % capacity
// (shaders/mlp_history.wgsl, for formula models and networks alike), as read back.

/** Update `step`'s (loss, |grad|) from a read-back ring of (loss, |grad|) float pairs. */
export function historyAt(ring: Float32Array, step: number): { loss: number; gradNorm: number } {
  const at = (step % (ring.length / 2)) * 2;
  return { loss: ring[at], gradNorm: ring[at + 1] };
}

/** Updates from .. from + count - 1 of the ring, in order. */
export function historySpan(ring: Float32Array, from: number, count: number): { losses: Float64Array; gradNorms: Float64Array } {
  const losses = new Float64Array(count);
  const gradNorms = new Float64Array(count);
  for (let s = 0; s < count; s++) {
    const { loss, gradNorm } = historyAt(ring, from + s);
    losses[s] = loss;
    gradNorms[s] = gradNorm;
  }
  return { losses, gradNorms };
}
