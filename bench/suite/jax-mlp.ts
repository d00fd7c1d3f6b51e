// jax-js's side of the MLP benchmark: the same network, start, batches and order as nabla and TF.js
// (tfjs-mlp.ts), written in jax-js ops with Adam in its ops too (@jax-js/optax is not published). Its
// fastest idiomatic form: one jitted update per batch with that batch's rows and one-hot labels CAPTURED
// (uploaded once, never passed as arguments), valueAndGrad of the loss inside, parameters and Adam's
// moments kept on the device between updates. Adam's bias corrections come from the host in float64
// per update (biasCorrections), as nabla's engines use them. The backend is a parameter.
import { blockUntilReady, jit, nn, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
import { BatchSchedule } from '../../src/models/batches.ts';
import { layerShapes } from '../../src/models/network.ts';
import { biasCorrections } from '../../src/optim/config.ts';
import { checkModelGradient, thetaLayout, transposed } from './mlp-data.ts';
import type { MlpTask, PeerMlpOutcome, PeerMlpRunner } from './mlp-step.ts';
import { jaxLabel, useJaxBackend, type JaxBackend } from './jax-backend.ts';
import { errorText } from './peers.ts';

/** jax-js vs float64 on one batch: the same float32 bound as TF.js (TFJS_MLP_REL_TOL, mlp-data.ts). */
export const JAX_MLP_REL_TOL = 1e-4;

type Layer = { W: np.Array; b: np.Array };
type Params = Layer[];
type Update = (p: Params, m: Params, v: Params, bc1: np.Array, bc2: np.Array) => [Params, Params, Params, np.Array];

function failed(validation: string, rel: number | null = null): PeerMlpOutcome {
  return { epochMs: null, rel, lastLoss: null, validation, notes: [] };
}

async function measure(backend: JaxBackend, task: MlpTask): Promise<PeerMlpOutcome> {
  const { config: c, data, batch, theta0 } = task;
  const { d } = data;
  const K = c.outputs;
  const device = backend;
  const shapes = layerShapes(c);
  const initial = (): Params => shapes.map((s) => ({
    W: np.array(transposed(theta0, s.wOffset, s.fanOut, s.fanIn), { shape: [s.fanIn, s.fanOut], device }),
    b: np.array(Float32Array.from(theta0.subarray(s.wOffset + s.fanOut * s.fanIn, s.wOffset + s.fanOut * s.fanIn + s.fanOut)), { device }),
  }));
  const zeros = (): Params => shapes.map((s) => ({ W: np.zeros([s.fanIn, s.fanOut], { device }), b: np.zeros([s.fanOut], { device }) }));

  const schedule = new BatchSchedule(data.n, batch, task.seed);
  const owned: { dispose(): void }[] = [];
  // -mean(sum(onehot * logSoftmax(z))), z = a W + b per layer (W stored fan_in x fan_out), ReLU between.
  const lossOf = (x: np.Array, onehot: np.Array) => (p: Params): np.Array => {
    let a = x.ref;
    p.forEach((layer, l) => {
      const z = np.matmul(a, layer.W).add(layer.b);
      a = l < p.length - 1 ? nn.relu(z) : z;
    });
    return np.mean(np.sum(onehot.ref.mul(nn.logSoftmax(a, -1)), 1)).mul(-1);
  };
  const { beta1, beta2, eps } = task.optimizer;
  const lr = task.lr;
  const batches = schedule.ranges.map(({ start, rows }) => {
    const x = np.array(data.x.subarray(start * d, (start + rows) * d), { shape: [rows, d], device });
    const hot = new Float32Array(rows * K);
    for (let i = 0; i < rows; i++) hot[i * K + data.y[start + i]] = 1;
    const onehot = np.array(hot, { shape: [rows, K], device });
    owned.push(x, onehot);
    const loss = lossOf(x, onehot);
    const update = jit((p: Params, m: Params, v: Params, bc1: np.Array, bc2: np.Array) => {
      const [value, g] = valueAndGrad(loss)(tree.ref(p));
      const m2 = tree.map((mk: np.Array, gk: np.Array) => mk.mul(beta1).add(gk.mul(1 - beta1)), m, tree.ref(g)) as Params;
      const v2 = tree.map((vk: np.Array, gk: np.Array) => vk.mul(beta2).add(np.square(gk).mul(1 - beta2)), v, g) as Params;
      const p2 = tree.map((pk: np.Array, mk: np.Array, vk: np.Array) =>
        pk.sub(mk.div(bc1.ref).div(np.sqrt(vk.div(bc2.ref)).add(eps)).mul(lr)), p, tree.ref(m2), tree.ref(v2)) as Params;
      bc1.dispose();
      bc2.dispose();
      return [p2, m2, v2, value];
    });
    owned.push(update);
    return { rows, loss, update: update as unknown as Update };
  });

  try {
    // Validate before timing: loss and gradient at the starting point on the first batch.
    const firstBatch = jit(valueAndGrad(batches[0].loss));
    owned.push(firstBatch);
    const [value, g] = firstBatch(initial());
    const parts = await Promise.all(g.flatMap((layer) => [layer.W.data(), layer.b.data()]));
    const check = checkModelGradient({ loss: (await value.data())[0], grad: thetaLayout(c, parts) }, task.want, JAX_MLP_REL_TOL);
    if (!check.ok) return failed(check.verdict, check.rel);

    let p = initial();
    let m = zeros();
    let v = zeros();
    let t = 0;
    const perEpoch = schedule.perEpoch;
    // Epoch e: every batch once in the schedule's order; the batch losses are summed on the device.
    const epoch = (e: number): np.Array => {
      let sum = np.zeros([], { device });
      for (let s = 0; s < perEpoch; s++) {
        const bt = batches[schedule.indexAt(e * perEpoch + s)];
        const { bc1, bc2 } = biasCorrections(task.optimizer, ++t);
        let loss: np.Array;
        [p, m, v, loss] = bt.update(p, m, v, np.array(bc1, { device }), np.array(bc2, { device }));
        sum = sum.add(loss.mul(bt.rows));
      }
      return sum.div(data.n);
    };
    const warm = epoch(0); // compilation, uploads
    await warm.data();
    await blockUntilReady(p);
    const t0 = performance.now();
    let last: np.Array | null = null;
    for (let e = 1; e <= task.epochs; e++) {
      last?.dispose();
      last = epoch(e);
    }
    const lastLoss = (await last!.data())[0];
    await blockUntilReady(p);
    const epochMs = (performance.now() - t0) / task.epochs;
    tree.dispose([p, m, v]);
    return { epochMs, rel: check.rel, lastLoss, validation: 'passed', notes: [] };
  } finally {
    for (const o of owned) o.dispose();
  }
}

/** The MLP peer on one jax-js backend ('webgpu' in the page; 'wasm' for the CPU comparison). */
export function jaxMlpPeer(backend: JaxBackend): PeerMlpRunner {
  return {
    label: jaxLabel(backend),
    async run(task) {
      try {
        await useJaxBackend(backend);
      } catch (e) {
        return failed(`skipped: ${errorText(e)}`);
      }
      try {
        return await measure(backend, task);
      } catch (e) {
        return failed(`failed: ${jaxLabel(backend)} threw: ${errorText(e)}`);
      }
    },
  };
}
