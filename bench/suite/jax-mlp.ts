// jax-js's side of the MLP benchmarks (the GPU page's and bench:cpu's): the same network, start, batches and
// order as nabla and TF.js (tfjs-mlp.ts), any activation, the bce or ce head, written in jax-js ops with Adam
// in its ops too (@jax-js/optax is not published). Its
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
  const { config: c, data, theta0 } = task;
  const device = backend;
  const { d } = data;
  const K = c.outputs;
  const shapes = layerShapes(c);
  const initial = (): Params => shapes.map((s) => ({
    W: np.array(transposed(theta0, s.wOffset, s.fanOut, s.fanIn), { shape: [s.fanIn, s.fanOut], device }),
    b: np.array(Float32Array.from(theta0.subarray(s.wOffset + s.fanOut * s.fanIn, s.wOffset + s.fanOut * s.fanIn + s.fanOut)), { device }),
  }));
  const zeros = (): Params => shapes.map((s) => ({ W: np.zeros([s.fanIn, s.fanOut], { device }), b: np.zeros([s.fanOut], { device }) }));
  const activate = (z: np.Array) => (c.activation === 'relu' ? nn.relu(z) : c.activation === 'tanh' ? np.tanh(z) : nn.sigmoid(z));
  // bce: mean(softplus(z) - z y); ce: -mean(sum(onehot * logSoftmax(z))).
  const lossOf = (x: np.Array, target: np.Array) => (p: Params): np.Array => {
    let a = x.ref;
    p.forEach((layer, l) => {
      const z = np.matmul(a, layer.W).add(layer.b);
      a = l < p.length - 1 ? activate(z) : z;
    });
    if (c.head === 'bce') return np.mean(nn.softplus(a.ref).sub(a.mul(target.ref)));
    return np.mean(np.sum(target.ref.mul(nn.logSoftmax(a, -1)), 1)).mul(-1);
  };
  const schedule = new BatchSchedule(data.n, task.batch, task.seed);
  const { beta1, beta2, eps } = task.optimizer;
  const lr = task.lr;
  const owned: { dispose(): void }[] = [];
  const batches = schedule.ranges.map(({ start, rows }) => {
    const x = np.array(data.x.subarray(start * d, (start + rows) * d), { shape: [rows, d], device });
    let target: np.Array;
    if (c.head === 'bce') target = np.array(data.y.slice(start, start + rows), { shape: [rows, 1], device });
    else {
      const hot = new Float32Array(rows * K);
      for (let i = 0; i < rows; i++) hot[i * K + data.y[start + i]] = 1;
      target = np.array(hot, { shape: [rows, K], device });
    }
    owned.push(x, target);
    const loss = lossOf(x, target);
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
    const first = jit(valueAndGrad(batches[0].loss));
    owned.push(first);
    const [value, g] = first(initial());
    const parts = await Promise.all(g.flatMap((layer) => [layer.W.data(), layer.b.data()]));
    const check = checkModelGradient({ loss: (await value.data())[0], grad: thetaLayout(c, parts) }, task.want, JAX_MLP_REL_TOL);
    if (!check.ok) return failed(check.verdict, check.rel);
    let p = initial();
    let m = zeros();
    let v = zeros();
    let t = 0;
    const perEpoch = schedule.perEpoch;
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
    const warm = epoch(0);
    await warm.data();
    await blockUntilReady(p);
    const t0 = performance.now();
    let last: np.Array | null = null;
    for (let e = 1; e <= task.epochs; e++) {
      last?.dispose();
      last = epoch(e);
      // One epoch at a time, as nabla's engines run: left unsynchronised for hundreds of epochs, jax-js's
      // per-epoch time grew with the epoch count here (50 epochs: 63 ms each; 300: 219 ms each).
      await blockUntilReady(p);
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
