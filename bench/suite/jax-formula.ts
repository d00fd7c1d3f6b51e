// jax-js's side of the formula suite, in its fastest form: the rows uploaded once and CAPTURED inside the
// jitted function (arrays passed as arguments are copied on every call), jit(valueAndGrad(J)) with J the same
// formula and loss written in jax ops: huber via where/abs, poisson as exp(eta) - y*eta (the stable form
// nabla's generated program also reaches). Validated against the same float64 twin as nabla (each
// component within JAX_REL_TOL of its mean |term|), then timed like nabla: wall clock from the call to the
// values on the host. The backend is a parameter: 'webgpu' in the bench page, 'wasm' in the Node tests.
import { jit, numpy as np, valueAndGrad } from '@jax-js/jax';
import type { FormulaModel } from '../../src/formula/model.ts';
import type { FormulaData } from '../../src/models/formula.ts';
import { checkFormulaResult, formulaError, type FormulaReference } from '../../src/gpu/formula/formula-check.ts';
import { WARMUP_MS } from './gpu-timer.ts';
import { errorText, notTimed, timed, wallSamples, warmCalls, type PeerOutcome, type Sampling } from './peers.ts';
import { jaxLabel, useJaxBackend, type JaxBackend } from './jax-backend.ts';
import type { BenchFormulaCase, FormulaCaseKey } from './formula-cases.ts';
import { JAX_REL_TOL } from './jax-linear.ts';

export interface FormulaPeer {
  readonly label: string;
  /** (dJ/dθ, J) at `at` over every row, checked against the float64 twin's `ref`, then timed. */
  gradient(c: BenchFormulaCase, model: FormulaModel, data: FormulaData, at: Float64Array, ref: FormulaReference, sampling: Sampling): Promise<PeerOutcome>;
}

type Params = Record<string, np.Array>;

/** Per case: the parameters as jax arrays from theta (model order), back to a flat gradient, and J of the captured rows. */
interface JaxForm {
  params(theta: Float64Array, device: JaxBackend): Params;
  flat(g: Params): Promise<number[]>;
  loss(X: np.Array, Y: np.Array, p: Params): np.Array;
}

/** linear(x1..x16): w (16) and b, theta = [w..., b]. */
const linearParams = (theta: Float64Array, device: JaxBackend): Params => ({
  w: np.array(Float32Array.from(theta.subarray(0, theta.length - 1)), { device }),
  b: np.array(theta[theta.length - 1], { device }),
});
const linearFlat = async (g: Params): Promise<number[]> => {
  const [w, b] = await Promise.all([g.w.data(), g.b.data()]);
  return [...w, b[0]];
};
/** X w + b (X is n x 16). Captured arrays are passed by .ref (jax-js ownership: an op consumes its operands). */
const eta = (X: np.Array, p: Params) => np.matmul(X.ref, p.w).add(p.b);

const FORMS: Record<FormulaCaseKey, JaxForm> = {
  'exp-decay': {
    params: (theta, device) => ({ b1: np.array(theta[0], { device }), b2: np.array(theta[1], { device }) }),
    flat: async (g) => [(await g.b1.data())[0], (await g.b2.data())[0]],
    // mean((b1 (1 - exp(-b2 x)) - y)^2), X of shape [n]
    loss: (X, Y, p) => np.mean(np.square(p.b1.mul(np.subtract(1, np.exp(X.ref.mul(np.negative(p.b2))))).sub(Y.ref))),
  },
  'linear16-huber': {
    params: linearParams, flat: linearFlat,
    // huber, δ = 1: r²/2 where |r| <= 1, |r| - 1/2 beyond
    loss: (X, Y, p) => {
      const r = eta(X, p).sub(Y.ref);
      const a = np.abs(r.ref);
      return np.mean(np.where(np.lessEqual(a.ref, 1), np.square(r).mul(0.5), a.sub(0.5)));
    },
  },
  poisson16: {
    params: linearParams, flat: linearFlat,
    // exp(eta) - y eta
    loss: (X, Y, p) => {
      const e = eta(X, p);
      return np.mean(np.exp(e.ref).sub(Y.ref.mul(e)));
    },
  },
  'linear16-mse': {
    params: linearParams, flat: linearFlat,
    loss: (X, Y, p) => np.mean(np.square(eta(X, p).sub(Y.ref))),
  },
};

/** The rows on the device and the jitted value-and-gradient that captures them; dispose() frees all of it. */
class JaxFormulaProblem {
  private readonly X: np.Array;
  private readonly Y: np.Array;
  private readonly vg: ((p: Params) => [np.Array, Params]) & { dispose(): void };

  constructor(private readonly backend: JaxBackend, private readonly form: JaxForm, data: FormulaData) {
    this.X = np.array(data.x, { shape: data.d === 1 ? [data.n] : [data.n, data.d], device: backend });
    this.Y = np.array(data.y, { device: backend });
    this.vg = jit(valueAndGrad((p: Params) => this.form.loss(this.X, this.Y, p))) as unknown as typeof this.vg;
  }

  /** [dJ/dθ..., J] on the host. */
  async call(theta: Float64Array): Promise<number[]> {
    const [value, g] = this.vg(this.form.params(theta, this.backend));
    const [loss, grad] = await Promise.all([value.data(), this.form.flat(g)]);
    return [...grad, loss[0]];
  }

  dispose(): void {
    this.vg.dispose();
    this.X.dispose();
    this.Y.dispose();
  }
}

export function jaxFormulaPeer(backend: JaxBackend): FormulaPeer {
  return {
    label: jaxLabel(backend),
    async gradient(c, model, data, at, ref, sampling) {
      try {
        await useJaxBackend(backend);
      } catch (e) {
        return notTimed(`skipped: ${errorText(e)}`);
      }
      let problem: JaxFormulaProblem | null = null;
      try {
        problem = new JaxFormulaProblem(backend, FORMS[c.key], data);
        const p = problem;
        const got = await p.call(at);
        const rel = formulaError(got, ref);
        const wrong = checkFormulaResult(got, ref, model.params, JAX_REL_TOL);
        if (wrong !== null) return notTimed(`failed: ${wrong}`, rel);
        const call = () => p.call(at);
        await warmCalls(call, 1, WARMUP_MS); // after the checked call
        return timed(await wallSamples(call, sampling), rel);
      } catch (e) {
        return notTimed(`failed: ${jaxLabel(backend)} threw: ${errorText(e)}`);
      } finally {
        problem?.dispose();
      }
    },
  };
}
