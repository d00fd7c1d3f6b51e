// The demo's loss surface on the GPU: shaders/loss_surface_moments.wgsl (one read of the data into
// per-workgroup residual moments) then shaders/loss_surface_grid.wgsl (fold, then J on every grid cell).
// It owns a copy of the data: the engine's buffers are private and padded for its own kernels.
// CPU twin: src/cpu/loss_surface.ts.
import { shaderSources } from '../shaders.ts';
import { validateLinearData, type LinearData, type LinearParams } from '../../models/linear.ts';
import type { SurfaceGridSpec, SurfaceMoments } from '../../core/loss-surface.ts';
import { assembleWgsl } from '../wgsl.ts';
import { createBufferChecked, createComputePipeline, createUploadedBuffer } from '../resources.ts';

const kLabel = 'nabla.demo.surface';
const MAX_GROUPS = 256;
const GRID_WG = 64;

/** SurfaceUniforms { n, d, k, num_groups: u32, w0, b0, dw, db: f32, nx, ny: u32, inv_n: f32, _pad } */
export function packSurfaceUniforms(n: number, d: number, k: number, numGroups: number, spec: SurfaceGridSpec): ArrayBuffer {
  const buf = new ArrayBuffer(48);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  u[0] = n; u[1] = d; u[2] = k; u[3] = numGroups;
  f[4] = spec.w0; f[5] = spec.b0; f[6] = spec.dw; f[7] = spec.db;
  u[8] = spec.nx; u[9] = spec.ny; f[10] = 1 / n;
  return buf;
}

export interface SurfaceResult {
  moments: SurfaceMoments;
  grid: Float32Array;
}

export class LossSurfacePass {
  static readonly kLabel = kLabel;
  private gridBuffer: GPUBuffer | null = null;
  private readback: GPUBuffer | null = null;
  private gridBind: GPUBindGroup | null = null;
  private cells = 0;
  private disposed = false;
  /** k and theta_ref of the moments in the partials buffer: the same again skips the read of the data. */
  private momentsKey = '';

  private constructor(
    private readonly device: GPUDevice,
    readonly n: number,
    readonly d: number,
    private readonly numGroups: number,
    private readonly buffers: { uniforms: GPUBuffer; x: GPUBuffer; y: GPUBuffer; theta: GPUBuffer; partials: GPUBuffer; moments: GPUBuffer },
    private readonly momentsPipeline: GPUComputePipeline,
    private readonly momentsBind: GPUBindGroup,
    private readonly gridPipeline: GPUComputePipeline,
  ) {}

  static async create(device: GPUDevice, data: LinearData, maxWorkgroupSize = 256): Promise<LossSurfacePass> {
    validateLinearData(data);
    const { n, d } = data;
    let wg = 1;
    while (wg * 2 <= Math.min(256, maxWorkgroupSize)) wg *= 2;
    const numGroups = Math.min(MAX_GROUPS, Math.ceil(n / wg));
    const S = GPUBufferUsage.STORAGE;
    const created: GPUBuffer[] = [];
    const make = async (label: string, size: number, usage: number) => {
      const b = await createBufferChecked(device, { label: `${kLabel}.${label}`, size: Math.ceil(size / 16) * 16, usage });
      created.push(b);
      return b;
    };
    try {
      const x = await createUploadedBuffer(device, `${kLabel}.x`, data.x, Math.ceil(n * d / 4) * 16, S);
      created.push(x);
      const y = await createUploadedBuffer(device, `${kLabel}.y`, data.y, Math.ceil(n / 4) * 16, S);
      created.push(y);
      const buffers = {
        x, y,
        uniforms: await make('uniforms', 48, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
        theta: await make('thetaRef', (d + 1) * 4, S | GPUBufferUsage.COPY_DST),
        partials: await make('partials', numGroups * 32, S),
        moments: await make('moments', 32, S | GPUBufferUsage.COPY_SRC),
      };
      const momentsPipeline = await createComputePipeline(device, `${kLabel}.moments`, assembleWgsl([shaderSources.lossSurfaceLayout], shaderSources.lossSurfaceMoments), { WG: wg });
      const gridPipeline = await createComputePipeline(device, `${kLabel}.grid`, assembleWgsl([shaderSources.lossSurfaceLayout], shaderSources.lossSurfaceGrid), { WG: GRID_WG });
      const momentsBind = device.createBindGroup({
        label: `${kLabel}.moments.bindGroup`,
        layout: momentsPipeline.getBindGroupLayout(0),
        entries: [buffers.uniforms, x, y, buffers.theta, buffers.partials].map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      return new LossSurfacePass(device, n, d, numGroups, buffers, momentsPipeline, momentsBind, gridPipeline);
    } catch (e) {
      for (const b of created) b.destroy();
      throw e;
    }
  }

  private async ensureGrid(cells: number): Promise<void> {
    if (this.cells === cells) return;
    this.gridBuffer?.destroy();
    this.readback?.destroy();
    this.gridBuffer = this.readback = null;
    const size = Math.ceil(cells / 4) * 16;
    this.gridBuffer = await createBufferChecked(this.device, { label: `${kLabel}.grid`, size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    this.readback = await createBufferChecked(this.device, { label: `${kLabel}.readback`, size: 32 + size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.gridBind = this.device.createBindGroup({
      label: `${kLabel}.grid.bindGroup`,
      layout: this.gridPipeline.getBindGroupLayout(0),
      entries: [this.buffers.uniforms, this.buffers.partials, this.buffers.theta, this.buffers.moments, this.gridBuffer]
        .map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    this.cells = cells;
  }

  /** Records the stages (the moments only when asked); the uniforms and theta_ref must have been written. */
  run(pass: GPUComputePassEncoder, moments = true): void {
    if (moments) {
      pass.setPipeline(this.momentsPipeline);
      pass.setBindGroup(0, this.momentsBind);
      pass.dispatchWorkgroups(this.numGroups);
    }
    pass.setPipeline(this.gridPipeline);
    pass.setBindGroup(0, this.gridBind!);
    pass.dispatchWorkgroups(Math.ceil(this.cells / GRID_WG));
  }

  /**
   * J over the grid around `ref` (every weight but w_k held there) and the moments it came from. With
   * the same ref and k as the call before, only the grid stage runs: a new window costs no pass over the data.
   */
  async evaluate(ref: LinearParams, k: number, spec: SurfaceGridSpec): Promise<SurfaceResult> {
    if (this.disposed) throw new Error('LossSurfacePass: used after dispose()');
    if (!(Number.isInteger(k) && k >= 0 && k < this.d)) throw new RangeError(`feature index ${k} is out of range for ${this.d} features`);
    if (ref.w.length !== this.d) throw new RangeError(`weights: expected ${this.d} values, got ${ref.w.length}`);
    const cells = spec.nx * spec.ny;
    if (!(Number.isInteger(cells) && cells > 0)) throw new RangeError(`grid: ${spec.nx} x ${spec.ny} cells`);
    await this.ensureGrid(cells);
    const q = this.device.queue;
    q.writeBuffer(this.buffers.uniforms, 0, packSurfaceUniforms(this.n, this.d, k, this.numGroups, spec));
    const theta = new Float32Array(this.d + 1);
    theta.set(Array.from(ref.w));
    theta[this.d] = ref.b;
    q.writeBuffer(this.buffers.theta, 0, theta);
    const key = `${k}:${Array.from(theta).join(',')}`;
    const encoder = this.device.createCommandEncoder({ label: `${kLabel}.encoder` });
    const pass = encoder.beginComputePass({ label: `${kLabel}.pass` });
    this.run(pass, key !== this.momentsKey);
    this.momentsKey = key;
    pass.end();
    encoder.copyBufferToBuffer(this.buffers.moments, 0, this.readback!, 0, 32);
    encoder.copyBufferToBuffer(this.gridBuffer!, 0, this.readback!, 32, cells * 4);
    q.submit([encoder.finish()]);
    const rb = this.readback!;
    await rb.mapAsync(GPUMapMode.READ, 0, 32 + cells * 4);
    const raw = rb.getMappedRange(0, 32 + cells * 4).slice(0);
    rb.unmap();
    const m = new Float32Array(raw, 0, 8);
    return { moments: { r: m[0], rr: m[1], rx: m[2], x: m[3], xx: m[4] }, grid: new Float32Array(raw, 32, cells) };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of Object.values(this.buffers)) b.destroy();
    this.gridBuffer?.destroy();
    this.readback?.destroy();
  }
}
