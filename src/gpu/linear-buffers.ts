// The GPU resources of a linear-model dataset: its chunks (one X/y buffer pair each, uploaded once) and, per
// batch size, the uniforms and bind groups of every mini-batch, built once and reused every epoch.
import type { LinearData } from '../models/linear.ts';
import type { GpuContext } from './device.ts';
import { planBatches, planChunks, type BatchSpec, type ChunkSpec } from './data-layout.ts';
import { createBufferChecked } from './resources.ts';
import { packGridUniforms, packReduceUniforms } from './uniforms.ts';
import type { LinearPartialsPass } from './passes/linear-partials-pass.ts';
import type { ReduceBinding, ReducePartialsPass } from './passes/reduce-partials-pass.ts';
import type { ApplyUpdatePass } from './passes/apply-update-pass.ts';
import type { LinearGridPlan, LinearKernelConfig } from './dispatch.ts';

export interface GpuChunk {
  x: GPUBuffer;
  y: GPUBuffer;
}

export interface GpuBatch {
  rows: number;
  slices: Array<{ bindGroup: GPUBindGroup; plan: LinearGridPlan }>;
  reduce: ReduceBinding;
  /** Reduce + update in one dispatch (apply_update.wgsl FUSED_REDUCE), when the reduce is one workgroup. */
  fusedUpdate: GPUBindGroup | null;
}

export interface GpuBatchSet {
  batchSize: number;
  batches: GpuBatch[];
  uniforms: GPUBuffer[];
}


/**
 * Uploads data chunk by chunk (whole quads, zero padded); destroys what it made if one fails. writeBuffer in
 * slices rather than mappedAtCreation: the latter took 100x longer for 256 MiB under Deno/wgpu on an H100.
 */
export async function uploadChunks(gpu: GpuContext, data: LinearData, specs: ChunkSpec[], label: string): Promise<GpuChunk[]> {
  const chunks: GpuChunk[] = [];
  const { d } = data;
  const made: GPUBuffer[] = [];
  const upload = async (name: string, values: Float32Array, bytes: number) => {
    const buffer = await createBufferChecked(gpu.device, { label: `${label}.${name}`, size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    made.push(buffer);
    for (let at = 0; at < values.length; at += UPLOAD_SLICE_FLOATS) {
      gpu.device.queue.writeBuffer(buffer, at * 4, values.subarray(at, Math.min(values.length, at + UPLOAD_SLICE_FLOATS)) as Float32Array<ArrayBuffer>);
    }
    return buffer;
  };
  try {
    for (const [k, c] of specs.entries()) {
      const quads = Math.ceil(c.rows / 4);
      const x = await upload(`chunk${k}.x`, data.x.subarray(c.startRow * d, (c.startRow + c.rows) * d), quads * d * 16);
      const y = await upload(`chunk${k}.y`, data.y.subarray(c.startRow, c.startRow + c.rows), quads * 16);
      chunks.push({ x, y });
    }
    return chunks;
  } catch (e) {
    for (const b of made) b.destroy();
    throw e;
  }
}

/** 16 MiB per writeBuffer: bounded staging memory on the host side of the queue. */
const UPLOAD_SLICE_FLOATS = 4 * 1024 * 1024;

/** Two staging pairs for streamed data: chunk k is written to pair k % 2 while the GPU reads the other. */
export async function createStagingPairs(device: GPUDevice, chunkRows: number, d: number, label: string): Promise<GpuChunk[]> {
  const made: GPUBuffer[] = [];
  const make = async (name: string, size: number) => {
    const b = await createBufferChecked(device, { label: `${label}.${name}`, size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    made.push(b);
    return b;
  };
  try {
    const pairs: GpuChunk[] = [];
    for (const k of [0, 1]) pairs.push({ x: await make(`staging${k}.x`, chunkRows * d * 4), y: await make(`staging${k}.y`, chunkRows * 4) });
    return pairs;
  } catch (e) {
    for (const b of made) b.destroy();
    throw e;
  }
}

export function chunkSpecs(gpu: GpuContext, n: number, d: number, chunkBytes?: number): ChunkSpec[] {
  return planChunks(n, d, Math.min(chunkBytes ?? Infinity, gpu.maxBindingBytes));
}

export function batchSpecs(gpu: GpuContext, specs: ChunkSpec[], batchSize: number, d: number, config: LinearKernelConfig): BatchSpec[] {
  return planBatches(specs, batchSize, d, gpu.shape, config);
}

export function buildBatchSet(
  device: GPUDevice,
  specs: BatchSpec[],
  chunks: GpuChunk[],
  d: number,
  partialsPass: LinearPartialsPass,
  reducePass: ReducePartialsPass,
  updatePass: ApplyUpdatePass,
  label: string,
): GpuBatchSet {
  const uniforms: GPUBuffer[] = [];
  const uniform = (name: string, data: ArrayBuffer) => {
    const b = device.createBuffer({ label: `${label}.${name}`, size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(b, 0, data);
    uniforms.push(b);
    return b;
  };
  const batches = specs.map((batch, b): GpuBatch => {
    const reduceUniforms = uniform(`batch${b}.reduce`, packReduceUniforms(batch.groups, d, batch.rows));
    const reduce = reducePass.bind(reduceUniforms, batch.groups, `batch${b}`);
    return {
      rows: batch.rows,
      slices: batch.slices.map((slice, s) => ({
        plan: slice.plan,
        bindGroup: partialsPass.bind({ grid: uniform(`batch${b}.slice${s}.grid`, packGridUniforms(slice)), ...chunks[slice.chunk] }, `batch${b}.slice${s}`),
      })),
      reduce,
      fusedUpdate: reduce.single ? updatePass.bindFused(reduceUniforms, `batch${b}`) : null,
    };
  });
  return { batchSize: specs[0].rows, batches, uniforms };
}
