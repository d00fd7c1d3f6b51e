// The GPU resources of a linear-model dataset: its chunks (one X/y buffer pair each, uploaded once) and, per
// batch size, the uniforms and bind groups of every mini-batch, built once and reused every epoch.
import type { LinearData } from '../models/linear.ts';
import type { GpuContext } from './device.ts';
import { planBatches, planChunks, type BatchSpec, type ChunkSpec } from './data-layout.ts';
import { createBufferChecked } from './resources.ts';
import { packGridUniforms, packReduceUniforms } from './uniforms.ts';
import type { LinearPartialsPass } from './passes/linear-partials-pass.ts';
import type { ReducePartialsPass } from './passes/reduce-partials-pass.ts';
import type { LinearGridPlan } from './dispatch.ts';

export interface GpuChunk {
  x: GPUBuffer;
  y: GPUBuffer;
}

export interface GpuBatch {
  rows: number;
  slices: Array<{ bindGroup: GPUBindGroup; plan: LinearGridPlan }>;
  reduce: GPUBindGroup;
}

export interface GpuBatchSet {
  batchSize: number;
  batches: GpuBatch[];
  uniforms: GPUBuffer[];
}

const S = GPUBufferUsage.STORAGE;

/** Uploads data chunk by chunk (whole quads, zero padded); destroys what it made if one fails. */
export async function uploadChunks(gpu: GpuContext, data: LinearData, specs: ChunkSpec[], label: string): Promise<GpuChunk[]> {
  const chunks: GpuChunk[] = [];
  const { d } = data;
  try {
    for (const [k, c] of specs.entries()) {
      const quads = Math.ceil(c.rows / 4);
      const x = await createBufferChecked(gpu.device, { label: `${label}.chunk${k}.x`, size: quads * d * 16, usage: S, mappedAtCreation: true });
      new Float32Array(x.getMappedRange()).set(data.x.subarray(c.startRow * d, (c.startRow + c.rows) * d));
      x.unmap();
      const y = await createBufferChecked(gpu.device, { label: `${label}.chunk${k}.y`, size: quads * 16, usage: S, mappedAtCreation: true }).catch((e) => {
        x.destroy();
        throw e;
      });
      new Float32Array(y.getMappedRange()).set(data.y.subarray(c.startRow, c.startRow + c.rows));
      y.unmap();
      chunks.push({ x, y });
    }
    return chunks;
  } catch (e) {
    for (const c of chunks) {
      c.x.destroy();
      c.y.destroy();
    }
    throw e;
  }
}

export function chunkSpecs(gpu: GpuContext, n: number, d: number, chunkBytes?: number): ChunkSpec[] {
  return planChunks(n, d, Math.min(chunkBytes ?? Infinity, gpu.maxBindingBytes));
}

export function batchSpecs(gpu: GpuContext, specs: ChunkSpec[], batchSize: number, d: number, workgroupSize?: number): BatchSpec[] {
  return planBatches(specs, batchSize, d, gpu.shape, workgroupSize);
}

export function buildBatchSet(
  device: GPUDevice,
  specs: BatchSpec[],
  chunks: GpuChunk[],
  d: number,
  partialsPass: LinearPartialsPass,
  reducePass: ReducePartialsPass,
  label: string,
): GpuBatchSet {
  const uniforms: GPUBuffer[] = [];
  const uniform = (name: string, data: ArrayBuffer) => {
    const b = device.createBuffer({ label: `${label}.${name}`, size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(b, 0, data);
    uniforms.push(b);
    return b;
  };
  const batches = specs.map((batch, b): GpuBatch => ({
    rows: batch.rows,
    slices: batch.slices.map((slice, s) => ({
      plan: slice.plan,
      bindGroup: partialsPass.bind({ grid: uniform(`batch${b}.slice${s}.grid`, packGridUniforms(slice)), ...chunks[slice.chunk] }, `batch${b}.slice${s}`),
    })),
    reduce: reducePass.bind(uniform(`batch${b}.reduce`, packReduceUniforms(batch.groups, d, batch.rows)), `batch${b}`),
  }));
  return { batchSize: specs[0].rows, batches, uniforms };
}
