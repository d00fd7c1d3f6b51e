// The TF.js 4.22 WebGPU side of the linear suite (Chromium page only; the Deno bundle leaves it out).
// TF.js gets its own GPUDevice through tf.setBackend('webgpu') and the data stay on it. Timed like
// nabla: wall clock from the call to the values on the host (data() of the results).
//   gradient: variableGrads(mean(square(matMul(X, w) + b - y))), reading the loss and both gradients;
//   gd: `steps` x sgd.applyGradients(variableGrads(loss)), then reading w and b.
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import type { GradientResult, LinearData, LinearParams } from '../../src/models/linear.ts';
import { checkGradient, checkParams, GD_REL_TOL, TFJS_REL_TOL } from './data.ts';
import { WARMUP_MS } from './gpu-timer.ts';
import { notTimed, timed, wallSamples, warmCalls, type LinearPeer, type PeerOutcome } from './peers.ts';
import { flush, withTfjsScope } from './tfjs-backend.ts';

interface Problem {
  X: tf.Tensor2D;
  Y: tf.Tensor2D;
  w: tf.Variable;
  b: tf.Variable;
  loss: () => tf.Scalar;
  set(at: LinearParams): void;
  dispose(): void;
}

function problem(data: LinearData, at: LinearParams): Problem {
  const { n, d } = data;
  const X = tf.tensor2d(data.x, [n, d]);
  const Y = tf.tensor2d(data.y, [n, 1]);
  const w = tf.variable(tf.tensor2d(Float32Array.from(at.w), [d, 1]));
  const b = tf.variable(tf.scalar(at.b));
  return {
    X, Y, w, b,
    loss: () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(X, w), b), Y))) as tf.Scalar,
    set(p) {
      tf.tidy(() => {
        w.assign(tf.tensor2d(Float32Array.from(p.w), [d, 1]));
        b.assign(tf.scalar(p.b));
      });
    },
    dispose: () => tf.dispose([X, Y, w, b]),
  };
}

async function gradientAt(be: WebGPUBackend, p: Problem): Promise<GradientResult> {
  const { value, grads } = tf.variableGrads(p.loss, [p.w, p.b]);
  flush(be);
  const [loss, gw, gb] = await Promise.all([value.data(), grads[p.w.name].data(), grads[p.b.name].data()]);
  tf.dispose([value, ...Object.values(grads)]);
  return { loss: loss[0], gradW: Float64Array.from(gw), gradB: gb[0] };
}

async function gdRun(be: WebGPUBackend, p: Problem, at: LinearParams, steps: number, optimizer: tf.Optimizer): Promise<LinearParams> {
  p.set(at);
  for (let s = 0; s < steps; s++) {
    tf.tidy(() => optimizer.applyGradients(tf.variableGrads(p.loss, [p.w, p.b]).grads));
    flush(be);
  }
  const [w, b] = await Promise.all([p.w.data(), p.b.data()]);
  return { w: Float64Array.from(w), b: b[0] };
}

/** TF.js's matMul grid is too tall for WebGPU past ~2^21 rows: that is a size it cannot run, not a wrong result. */
function failure(note: string, partial: PeerOutcome | null): PeerOutcome {
  if (/dispatch size exceeds/i.test(note)) return notTimed(`skipped: TF.js cannot run this size (${note.replace(/^TF\.js [a-z ]+: /i, '')})`);
  return notTimed(`failed: ${note}`, partial?.rel ?? null);
}

function leakNote(before: number, what: string): string[] {
  const leaked = tf.memory().numTensors - before;
  return leaked ? [`TF.js leaked ${leaked} tensors over ${what}`] : [];
}

export const tfjsLinearPeer: LinearPeer = {
  label: 'TF.js 4.22 (webgpu)',
  gradient(data, at, want, sampling) {
    return withTfjsScope(async (be) => {
      const p = problem(data, at);
      try {
        const check = checkGradient(await gradientAt(be, p), want, TFJS_REL_TOL);
        if (!check.ok) return notTimed(check.verdict, check.rel);
        const call = () => gradientAt(be, p);
        await warmCalls(call, 1, WARMUP_MS); // after the checked call
        const before = tf.memory().numTensors;
        const samples = await wallSamples(call, sampling);
        return timed(samples, check.rel, leakNote(before, `${samples.length} calls`));
      } finally {
        p.dispose();
        flush(be);
      }
    }, failure);
  },
  gd(data, at, want, { steps, lr, ...sampling }) {
    return withTfjsScope(async (be) => {
      const p = problem(data, at);
      const optimizer = tf.train.sgd(lr);
      try {
        const run = () => gdRun(be, p, at, steps, optimizer);
        const check = checkParams(await run(), want, GD_REL_TOL);
        if (!check.ok) return notTimed(check.verdict, check.rel);
        await warmCalls(run, 1, 0); // after the checked run
        const before = tf.memory().numTensors;
        const samples = await wallSamples(run, sampling);
        return timed(samples, check.rel, leakNote(before, `${samples.length} runs`));
      } finally {
        p.dispose();
        optimizer.dispose();
        flush(be);
      }
    }, failure);
  },
};
