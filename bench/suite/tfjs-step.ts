// The TF.js 4.22 WebGPU comparison (Chromium page only; the Deno bundle leaves it out). TF.js gets its
// own GPUDevice through tf.setBackend('webgpu'), tensors stay on the GPU, and one step is
// variableGrads(loss) + sgd.applyGradients, timed on the wall clock until TF's queue is idle.
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { GradientResult, LinearData, LinearParams } from '../../src/models/linear.ts';
import { checkGradient, TFJS_REL_TOL } from './data.ts';
import { summarize, WARMUP_MS } from './gpu-timer.ts';
import type { TfjsOutcome, TfjsRunner } from './linear-step.ts';
import { flush, withTfjsScope } from './tfjs-backend.ts';

async function measure(b: WebGPUBackend, data: LinearData, at: LinearParams, want: GradientResult, lr: number, reps: number, warmup: number): Promise<TfjsOutcome> {
  const { n, d } = data;
  const owned: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => (owned.push(t), t);
  const X = keep(tf.tensor2d(data.x, [n, d]));
  const Y = keep(tf.tensor2d(data.y, [n, 1]));
  const w = keep(tf.variable(tf.tensor2d(Float32Array.from(at.w), [d, 1])));
  const bias = keep(tf.variable(tf.scalar(at.b)));
  const optimizer = tf.train.sgd(lr);
  const loss = () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(X, w), bias), Y))) as tf.Scalar;
  try {
    const { value, grads } = tf.variableGrads(loss, [w as tf.Variable, bias as tf.Variable]);
    const [lossV, gw, gb] = await Promise.all([value.data(), grads[w.name].data(), grads[bias.name].data()]);
    tf.dispose([value, ...Object.values(grads)]);
    const check = checkGradient({ loss: lossV[0], gradW: Float64Array.from(gw), gradB: gb[0] }, want, TFJS_REL_TOL);
    if (!check.ok) return { ms: null, rel: check.rel, note: `TF.js gradient ${check.verdict}; not timed` };

    const step = () => {
      tf.tidy(() => optimizer.applyGradients(tf.variableGrads(loss, [w as tf.Variable, bias as tf.Variable]).grads));
      flush(b);
    };
    // Shader compilation, first upload of X and y, clocks: as long as nabla's warm-up (gpu-timer.ts).
    const w0 = performance.now();
    for (let i = 0; i < warmup || performance.now() - w0 < WARMUP_MS; i++) {
      step();
      await b.device.queue.onSubmittedWorkDone();
    }
    const tensorsBefore = tf.memory().numTensors;
    const samples: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      step();
      await b.device.queue.onSubmittedWorkDone();
      samples.push(performance.now() - t0);
    }
    const leaked = tf.memory().numTensors - tensorsBefore;
    return { ms: summarize(samples).median, rel: check.rel, note: leaked ? `TF.js leaked ${leaked} tensors over ${reps} steps` : null };
  } finally {
    tf.dispose(owned);
    optimizer.dispose();
    flush(b);
  }
}

export const tfjsRunner: TfjsRunner = {
  run(data, at, want, options) {
    return withTfjsScope(
      (b) => measure(b, data, at, want, options.lr, options.reps, options.warmup),
      (note, partial) => ({ ms: null, rel: partial?.rel ?? null, note }),
    );
  },
};
