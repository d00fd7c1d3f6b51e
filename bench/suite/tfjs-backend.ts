// The TF.js 4.22 WebGPU backend as the comparisons use it (Chromium page only; the Deno bundle leaves it
// out): one backend on its own GPUDevice, every op on the GPU, explicit flushes, and the buffer pool
// emptied between rows. Shared by tfjs-step.ts (linear) and tfjs-mlp.ts (MLP).
import * as tf from '@tensorflow/tfjs-core';
// The ES entry of tfjs-core registers no gradients (the union package does): without this, variableGrads
// fails with "gradient function not found for Mean".
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-webgpu';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

let ready: Promise<WebGPUBackend> | null = null;

export function tfjsBackend(): Promise<WebGPUBackend> {
  ready ??= (async () => {
    // Small tensors would otherwise run on the CPU kernels: keep every op on the GPU.
    tf.env().set('WEBGPU_CPU_FORWARD', false);
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
    await tf.ready();
    return tf.backend() as WebGPUBackend;
  })();
  return ready;
}

/** TF batches dispatches and submits every 15; end the batch now so the queue can drain. */
export function flush(b: WebGPUBackend): void {
  b.endComputePassEncoder();
  if ((b as unknown as { commandEncoder: GPUCommandEncoder | null }).commandEncoder) b.submitQueue();
}

/**
 * Destroys the pooled, unused buffers. TF keeps every released buffer for reuse, so rows of different
 * sizes would pile up gigabytes; the key list must stay (releaseBuffer stops pooling when it is empty).
 */
export function dropPooledBuffers(b: WebGPUBackend): void {
  const pool = b.bufferManager as unknown as { freeBuffers: Map<string, GPUBuffer[]>; numFreeBuffers: number; numBytesAllocated: number };
  for (const list of pool.freeBuffers.values()) {
    for (const buf of list) {
      pool.numBytesAllocated -= buf.size;
      buf.destroy();
    }
    list.length = 0;
  }
  pool.numFreeBuffers = 0;
}

/**
 * Runs `body` with TF.js's device errors (out of memory, a binding over the limit: asynchronous) scoped
 * to it, then empties the pool. Returns body's outcome, or `onError(message)` for the first device error.
 */
export async function withTfjsScope<T>(body: (b: WebGPUBackend) => Promise<T>, onError: (message: string, partial: T | null) => T): Promise<T> {
  let b: WebGPUBackend;
  try {
    b = await tfjsBackend();
  } catch (e) {
    return onError(`TF.js WebGPU backend unavailable: ${(e as Error).message}`, null);
  }
  b.device.pushErrorScope('out-of-memory');
  b.device.pushErrorScope('validation');
  let outcome: T | null = null;
  let failure: string | null = null;
  try {
    outcome = await body(b);
  } catch (e) {
    failure = `TF.js failed: ${(e as Error).message.split('\n')[0]}`;
  }
  const errors = [await b.device.popErrorScope(), await b.device.popErrorScope()].filter((e) => e !== null);
  await b.device.queue.onSubmittedWorkDone();
  dropPooledBuffers(b);
  if (errors.length) return onError(`TF.js device error: ${errors[0]!.message.split('\n')[0]}`, outcome);
  if (failure !== null) return onError(failure, null);
  return outcome!;
}
