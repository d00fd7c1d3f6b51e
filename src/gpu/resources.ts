// Checked creation of GPU objects: a WGSL compile or validation error, or an allocation the device
// refuses, becomes an exception that names the shader or the buffer instead of silent zeros.

export class GpuShaderError extends Error {
  constructor(readonly shader: string, message: string) {
    super(`WGSL ${shader}: ${message}`);
    this.name = 'GpuShaderError';
  }
}

/**
 * Pipelines already built on a device, by label, code and constants: engines created one after another
 * (tests, recovery, the demo's resets) share them instead of compiling again, which on a software
 * adapter takes seconds for a shader with barriers. A failed build is not kept.
 */
const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

export function createComputePipeline(
  device: GPUDevice,
  label: string,
  code: string,
  constants: Record<string, number> = {},
): Promise<GPUComputePipeline> {
  let cache = pipelineCache.get(device);
  if (!cache) {
    cache = new Map();
    pipelineCache.set(device, cache);
  }
  const key = `${label}\u0000${JSON.stringify(constants)}\u0000${code}`;
  let pipeline = cache.get(key);
  if (!pipeline) {
    pipeline = buildComputePipeline(device, label, code, constants);
    cache.set(key, pipeline);
    pipeline.catch(() => cache.delete(key));
  }
  return pipeline;
}

async function buildComputePipeline(device: GPUDevice, label: string, code: string, constants: Record<string, number>): Promise<GPUComputePipeline> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: `${label}.module`, code });
  const info = await module.getCompilationInfo?.();
  const errors = info?.messages.filter((m) => m.type === 'error') ?? [];
  const moduleError = await device.popErrorScope();
  if (errors.length > 0) {
    throw new GpuShaderError(label, errors.map((m) => `line ${m.lineNum}:${m.linePos} ${m.message}`).join('; '));
  }
  if (moduleError) throw new GpuShaderError(label, moduleError.message);
  device.pushErrorScope('validation');
  let pipeline: GPUComputePipeline;
  try {
    pipeline = await device.createComputePipelineAsync({
      label: `${label}.pipeline`,
      layout: 'auto',
      compute: { module, entryPoint: 'main', constants },
    });
  } catch (e) {
    await device.popErrorScope();
    throw new GpuShaderError(label, (e as Error).message);
  }
  const pipelineError = await device.popErrorScope();
  if (pipelineError) throw new GpuShaderError(label, pipelineError.message);
  return pipeline;
}

/** A buffer larger than the device allows in one is refused before asking it. */
function checkBufferSize(device: GPUDevice, descriptor: GPUBufferDescriptor): void {
  const limit = Math.min(device.limits.maxBufferSize, descriptor.usage & GPUBufferUsage.STORAGE
    ? device.limits.maxStorageBufferBindingSize : device.limits.maxBufferSize);
  if (descriptor.size > limit) {
    throw new RangeError(`${descriptor.label}: ${descriptor.size} bytes asked for, the device allows ${limit} per buffer`);
  }
}

/** Creates a buffer and reports an allocation the device refused with the size asked for. */
export async function createBufferChecked(device: GPUDevice, descriptor: GPUBufferDescriptor): Promise<GPUBuffer> {
  checkBufferSize(device, descriptor);
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  const buffer = device.createBuffer(descriptor);
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  if (oom || validation) {
    buffer.destroy();
    throw new RangeError(`${descriptor.label}: could not allocate ${descriptor.size} bytes (${(oom ?? validation)!.message})`);
  }
  return buffer;
}

/**
 * Buffers made together under one pair of error scopes: one round trip to the GPU process for all of them
 * where createBufferChecked takes one each (on a software adapter a round trip is ~0.3 ms, and a training
 * run makes a dozen buffers). A refusal is traced to its buffer by making them again one at a time.
 */
export async function createBuffersChecked(device: GPUDevice, descriptors: readonly GPUBufferDescriptor[]): Promise<GPUBuffer[]> {
  for (const descriptor of descriptors) checkBufferSize(device, descriptor);
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  const buffers = descriptors.map((descriptor) => device.createBuffer(descriptor));
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  if (!oom && !validation) return buffers;
  for (const b of buffers) b.destroy();
  const made: GPUBuffer[] = [];
  try {
    for (const descriptor of descriptors) made.push(await createBufferChecked(device, descriptor));
  } catch (e) {
    for (const b of made) b.destroy();
    throw e;
  }
  // Refused together, made one by one (memory freed in between): keep them.
  return made;
}

/**
 * The rows a GPU engine uploads must be Float32Arrays: createUploadedBuffer copies any other array through a
 * typed view, which turns a Float64Array or a plain array into uint32 integers, and the engine would train on
 * other numbers without an error. Checked before any GPU call.
 */
export function requireFloat32Rows(data: { readonly x: unknown; readonly y: unknown }): void {
  for (const name of ['x', 'y'] as const) {
    const v = data[name];
    if (!(v instanceof Float32Array)) {
      const got = v === null ? 'null' : typeof v === 'object' ? (v.constructor?.name ?? 'an object') : typeof v;
      throw new TypeError(`data: ${name}: expected a Float32Array (the GPU holds the rows as float32), got ${got}`);
    }
  }
}

export async function createUploadedBuffer(
  device: GPUDevice,
  label: string,
  data: Float32Array | Uint32Array,
  byteSize: number,
  usage: number,
): Promise<GPUBuffer> {
  const buffer = await createBufferChecked(device, { label, size: byteSize, usage, mappedAtCreation: true });
  const view = data instanceof Float32Array ? new Float32Array(buffer.getMappedRange()) : new Uint32Array(buffer.getMappedRange());
  view.set(data);
  buffer.unmap();
  return buffer;
}
