// jax-js's side of the linear suite, in its fastest idiomatic form: X and y are uploaded once and
// CAPTURED inside the jitted function (arrays passed as arguments would be copied on every call),
// valueAndGrad of mean((X w + b - y)^2) for the gradient, and for gradient descent a jitted step that
// returns the updated parameters, which stay on the device between steps. Timed like nabla: wall clock
// from the call to the values on the host. The backend is a parameter: 'webgpu' in the bench page,
// 'wasm' for the CPU comparison (exported as jaxLinearPeer).
import { jit, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
import type { GradientResult, LinearData, LinearParams } from '../../src/models/linear.ts';
import { checkGradient, checkParams, GD_REL_TOL } from './data.ts';
import { WARMUP_MS } from './gpu-timer.ts';
import { errorText, notTimed, timed, wallSamples, warmCalls, type LinearPeer, type PeerOutcome } from './peers.ts';
import { jaxLabel, useJaxBackend, type JaxBackend } from './jax-backend.ts';

/**
 * jax-js vs float64: its reductions are float32 like TF.js's, with an order of its own choosing; the same
 * bound as TF.js (TFJS_REL_TOL, data.ts): float32 sums whose rounding can grow like sqrt(N) eps.
 */
export const JAX_REL_TOL = 1e-4;

type Params = { w: np.Array; b: np.Array };

/** The dataset on the device and the jitted functions that capture it; dispose() frees all of it. */
class JaxLinearProblem {
  private readonly X: np.Array;
  private readonly Y: np.Array;
  readonly valueAndGradient: (p: Params) => [np.Array, Params];
  private readonly fns: { dispose(): void }[] = [];

  constructor(private readonly backend: JaxBackend, data: LinearData) {
    this.X = np.array(data.x, { shape: [data.n, data.d], device: backend });
    this.Y = np.array(data.y, { device: backend });
    const vg = jit(valueAndGrad(this.loss));
    this.fns.push(vg);
    this.valueAndGradient = vg as unknown as (p: Params) => [np.Array, Params];
  }

  /** mean((X w + b - y)^2): the captured arrays are passed by .ref (jax-js ownership rules). */
  private readonly loss = (p: Params): np.Array => np.mean(np.square(np.matmul(this.X.ref, p.w).add(p.b).sub(this.Y.ref)));

  params(at: LinearParams): Params {
    return { w: np.array(Float32Array.from(at.w), { device: this.backend }), b: np.array(at.b, { device: this.backend }) };
  }

  /** One jitted gradient-descent step: the new parameters, computed on the device. */
  gdStep(lr: number): (p: Params) => Params {
    const step = jit((p: Params): Params => {
      const [value, g] = valueAndGrad(this.loss)(tree.ref(p));
      value.dispose();
      return { w: p.w.sub(g.w.mul(lr)), b: p.b.sub(g.b.mul(lr)) };
    });
    this.fns.push(step);
    return step as unknown as (p: Params) => Params;
  }

  dispose(): void {
    for (const f of this.fns) f.dispose();
    this.X.dispose();
    this.Y.dispose();
  }
}

async function readGradient(problem: JaxLinearProblem, at: LinearParams): Promise<GradientResult> {
  const [value, g] = problem.valueAndGradient(problem.params(at));
  const [loss, gw, gb] = await Promise.all([value.data(), g.w.data(), g.b.data()]);
  return { loss: loss[0], gradW: Float64Array.from(gw), gradB: gb[0] };
}

async function runGd(step: (p: Params) => Params, start: Params, steps: number): Promise<LinearParams> {
  let p = start;
  for (let s = 0; s < steps; s++) p = step(p);
  const [w, b] = await Promise.all([p.w.data(), p.b.data()]);
  return { w: Float64Array.from(w), b: b[0] };
}

async function guarded(backend: JaxBackend, body: () => Promise<PeerOutcome>): Promise<PeerOutcome> {
  try {
    await useJaxBackend(backend);
  } catch (e) {
    return notTimed(`skipped: ${errorText(e)}`);
  }
  try {
    return await body();
  } catch (e) {
    return notTimed(`failed: ${jaxLabel(backend)} threw: ${errorText(e)}`);
  }
}

/** The linear peer on one jax-js backend. */
export function jaxLinearPeer(backend: JaxBackend): LinearPeer {
  return {
    label: jaxLabel(backend),
    gradient(data, at, want, sampling) {
      return guarded(backend, async () => {
        const problem = new JaxLinearProblem(backend, data);
        try {
          const check = checkGradient(await readGradient(problem, at), want, JAX_REL_TOL);
          if (!check.ok) return notTimed(check.verdict, check.rel);
          const call = () => readGradient(problem, at);
          await warmCalls(call, 1, WARMUP_MS); // after the checked call
          return timed(await wallSamples(call, sampling), check.rel);
        } finally {
          problem.dispose();
        }
      });
    },
    gd(data, at, want, { steps, lr, ...sampling }) {
      return guarded(backend, async () => {
        const problem = new JaxLinearProblem(backend, data);
        try {
          const step = problem.gdStep(lr);
          const run = () => runGd(step, problem.params(at), steps);
          const check = checkParams(await run(), want, GD_REL_TOL);
          if (!check.ok) return notTimed(check.verdict, check.rel);
          await warmCalls(run, 1, 0); // after the checked run
          return timed(await wallSamples(run, sampling), check.rel);
        } finally {
          problem.dispose();
        }
      });
    },
  };
}
