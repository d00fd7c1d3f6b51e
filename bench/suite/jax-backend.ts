// jax-js (npm @jax-js/jax 0.1.25) as the bench uses it: one backend, chosen by the caller, started once.
// 'webgpu' asks the browser (or Deno) for its own GPUDevice; 'wasm' is jax-js's CPU backend
// (multi-threaded where SharedArrayBuffer is available), which also runs under Node.
import { defaultDevice, init, type Device } from '@jax-js/jax';

export type JaxBackend = Extract<Device, 'webgpu' | 'wasm'>;
export const JAX_VERSION = '0.1.25';

const started = new Map<JaxBackend, Promise<void>>();

/** Starts `backend` and makes it jax-js's default device; throws with a reason when it is unavailable. */
export function useJaxBackend(backend: JaxBackend): Promise<void> {
  let ready = started.get(backend);
  if (!ready) {
    ready = (async () => {
      const available = await init(backend);
      if (!available.includes(backend)) throw new Error(`jax-js ${JAX_VERSION}: backend '${backend}' is unavailable here (got ${available.join(', ') || 'none'})`);
    })();
    started.set(backend, ready);
    ready.catch(() => started.delete(backend));
  }
  return ready.then(() => {
    defaultDevice(backend);
  });
}

export function jaxLabel(backend: JaxBackend): string {
  return `jax-js ${JAX_VERSION} (${backend})`;
}
