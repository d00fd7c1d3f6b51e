// The TF.js 4.22 WebGPU side of the MLP benchmark (Chromium page only). The network is written in
// tfjs-core ops the way tf.layers.dense computes it: z = matMul(a, W) + b with W stored fan_in x fan_out
// (nabla's W_l transposed at copy), ReLU between layers, and the cross-entropy of the logits as
// -mean(sum(onehot * logSoftmax(z))). Variables start at nabla's float32 starting point; tf.train.adam
// gets the same lr, beta1, beta2 and eps. The batches are the same consecutive rows, pre-sliced into
// tensors before timing, visited in the order nabla's engines take them (BatchSchedule, shuffled per epoch
// from the seed), so the three paths make the same updates and their losses can be compared.
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { layerShapes } from '../../src/models/network.ts';
import { BatchSchedule } from '../../src/models/batches.ts';
import { checkModelGradient, thetaLayout, TFJS_MLP_REL_TOL, transposed } from './mlp-data.ts';
import type { MlpTask, PeerMlpOutcome, PeerMlpRunner } from './mlp-step.ts';
import { flush, withTfjsScope } from './tfjs-backend.ts';

async function measure(b: WebGPUBackend, task: MlpTask): Promise<PeerMlpOutcome> {
  const { config: c, data, batch, theta0 } = task;
  const { d } = data;
  const K = c.outputs;
  const notes: string[] = [];
  const owned: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => (owned.push(t), t);
  const vars: tf.Variable[] = layerShapes(c).flatMap((s, l) => [
    keep(tf.variable(tf.tensor2d(transposed(theta0, s.wOffset, s.fanOut, s.fanIn), [s.fanIn, s.fanOut]), true, `W${l + 1}`)),
    keep(tf.variable(tf.tensor1d(Float32Array.from(theta0.subarray(s.wOffset + s.fanOut * s.fanIn, s.wOffset + s.fanOut * s.fanIn + s.fanOut))), true, `b${l + 1}`)),
  ]);
  const schedule = new BatchSchedule(data.n, batch, task.seed);
  const batches: { x: tf.Tensor2D; onehot: tf.Tensor2D; rows: number }[] = [];
  for (const { start, rows } of schedule.ranges) {
    const labels = tf.tensor1d(Int32Array.from(data.y.subarray(start, start + rows)), 'int32');
    batches.push({
      x: keep(tf.tensor2d(data.x.subarray(start * d, (start + rows) * d), [rows, d])),
      onehot: keep(tf.cast(tf.oneHot(labels, K), 'float32') as tf.Tensor2D),
      rows,
    });
    labels.dispose();
  }
  const lossOf = (x: tf.Tensor2D, onehot: tf.Tensor2D) => (): tf.Scalar => {
    let a: tf.Tensor2D = x;
    for (let l = 0; l < vars.length / 2; l++) {
      const z = tf.add(tf.matMul(a, vars[2 * l] as tf.Tensor2D), vars[2 * l + 1]) as tf.Tensor2D;
      a = l < vars.length / 2 - 1 ? tf.relu(z) : z;
    }
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(a)), 1))) as tf.Scalar;
  };
  const { beta1, beta2, eps } = task.optimizer;
  const optimizer = tf.train.adam(task.lr, beta1, beta2, eps);
  try {
    // Validate before timing: loss and gradient at the starting point on the first batch.
    const first = lossOf(batches[0].x, batches[0].onehot);
    const { value, grads } = tf.variableGrads(first, vars);
    const parts = await Promise.all(vars.map((v) => grads[v.name].data() as Promise<Float32Array>));
    const loss = (await value.data())[0];
    tf.dispose([value, ...Object.values(grads)]);
    const check = checkModelGradient({ loss, grad: thetaLayout(c, parts) }, task.want, TFJS_MLP_REL_TOL);
    if (!check.ok) return { epochMs: null, rel: check.rel, lastLoss: null, validation: check.verdict, notes: [] };

    // Epoch e: every batch once in the schedule's order, each update one variableGrads + applyGradients;
    // the summed batch losses stay on the GPU and are read at the end (a read per step would sync).
    const perEpoch = schedule.perEpoch;
    const epoch = (e: number): tf.Scalar => tf.tidy(() => {
      let sum: tf.Scalar = tf.scalar(0);
      for (let s = 0; s < perEpoch; s++) {
        const bt = batches[schedule.indexAt(e * perEpoch + s)];
        const { value: l, grads: g } = tf.variableGrads(lossOf(bt.x, bt.onehot), vars);
        optimizer.applyGradients(g as Parameters<typeof optimizer.applyGradients>[0]);
        sum = tf.add(sum, tf.mul(l, bt.rows));
        flush(b);
      }
      return tf.div(sum, data.n);
    });
    const warm = epoch(0); // shader compilation, uploads, Adam's state
    await warm.data();
    warm.dispose();
    const tensorsBefore = tf.memory().numTensors;
    const t0 = performance.now();
    let last: tf.Scalar | null = null;
    for (let e = 1; e <= task.epochs; e++) {
      last?.dispose();
      last = epoch(e);
    }
    flush(b);
    await b.device.queue.onSubmittedWorkDone();
    const epochMs = (performance.now() - t0) / task.epochs;
    const lastLoss = (await last!.data())[0];
    last!.dispose();
    const leaked = tf.memory().numTensors - tensorsBefore;
    if (leaked) notes.push(`TF.js leaked ${leaked} tensors over ${task.epochs} epochs`);
    return { epochMs, rel: check.rel, lastLoss, validation: 'passed', notes };
  } finally {
    tf.dispose(owned);
    optimizer.dispose();
    flush(b);
  }
}

export const tfjsMlpRunner: PeerMlpRunner = {
  label: 'TF.js 4.22 (webgpu)',
  run(task) {
    return withTfjsScope(
      (b) => measure(b, task),
      (note, partial) => ({ epochMs: null, rel: partial?.rel ?? null, lastLoss: null, validation: `failed: ${note}`, notes: [] }),
    );
  },
};
