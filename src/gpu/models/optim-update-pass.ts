// The fused optimizer update (shaders/optim_update.wgsl) with its state buffers on the GPU. Steps chained
// in one submit each need their own lr and bias corrections, and queue.writeBuffer() lands before the
// submit: so the uniform holds one 256-byte slot per chained step, each with its own bind group.
import { biasCorrections, OPTIMIZER_CODES, stateSlots, validateOptimizer, type OptimizerConfig } from '../../optim/config.ts';
import type { OptimState } from '../../optim/state.ts';
import { assembleWgsl } from '../wgsl.ts';
import { createBuffersChecked, createComputePipeline } from '../resources.ts';
import { fold2d } from '../dispatch.ts';
import { shaderSources } from '../shaders.ts';

/** WebGPU's default minUniformBufferOffsetAlignment; every adapter accepts it. */
export const SLOT_BYTES = 256;
const STEP_BYTES = 48;

/** A tolerance no gradient norm reaches (the norm is >= 0, and NaN compares false). */
export const NO_TOLERANCE = -1;
/** TrainControl (shaders/shared/optim_layout.wgsl): status, stopped_at. */
export const CONTROL_BYTES = 8;
export const CONTROL_CONVERGED = 1;

/** OptimStep (shaders/shared/optim_layout.wgsl) for update number t (1-based). */
export function packOptimStep(c: OptimizerConfig, params: number, t: number, lr: number, groupsX: number, tol = NO_TOLERANCE): ArrayBuffer {
  const buf = new ArrayBuffer(STEP_BYTES);
  const f = new Float32Array(buf);
  const u = new Uint32Array(buf);
  const { bc1, bc2 } = biasCorrections(c, t);
  f.set([lr, bc1, bc2, c.weightDecay, c.momentum, c.beta1, c.beta2, c.eps]);
  u.set([params, t, groupsX], 8);
  f[11] = tol;
  return buf;
}

export interface OptimUpdateOptions {
  config: OptimizerConfig;
  params: number;
  workgroupSize: number;
  maxWorkgroupsPerDimension: number;
  /** Longest run of chained steps (uniform slots). */
  maxSlots: number;
  /** The gradient (its first `params` values) and the parameters. */
  grad: GPUBuffer;
  theta: GPUBuffer;
  /** 1 where weight decay applies; default everywhere. */
  decayMask?: Float32Array;
}

export class OptimUpdatePass {
  static readonly kLabel = 'nabla.optim.update';

  private constructor(
    private readonly device: GPUDevice,
    readonly config: OptimizerConfig,
    readonly params: number,
    private readonly pipeline: GPUComputePipeline,
    private readonly bindGroups: GPUBindGroup[],
    private readonly groups: { x: number; y: number },
    private readonly buffers: { uniforms: GPUBuffer; m: GPUBuffer; v: GPUBuffer; mask: GPUBuffer; control: GPUBuffer },
  ) {}

  static async create(device: GPUDevice, o: OptimUpdateOptions): Promise<OptimUpdatePass> {
    validateOptimizer(o.config);
    const P = o.params;
    if (!(Number.isInteger(P) && P >= 1)) throw new RangeError(`params: expected a positive integer, got ${P}`);
    if (o.decayMask && o.decayMask.length !== P) throw new RangeError(`decayMask: expected ${P} values, got ${o.decayMask.length}`);
    const label = OptimUpdatePass.kLabel;
    const S = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const bytes = Math.max(16, Math.ceil(P / 4) * 16);
    const slots = stateSlots(o.config.kind);
    const made = await createBuffersChecked(device, [
      { label: `${label}.uniforms`, size: o.maxSlots * SLOT_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST },
      // sgd reads neither and adam-less kinds not v, but the bindings are static: keep them tiny.
      { label: `${label}.m`, size: slots >= 1 ? bytes : 16, usage: S },
      { label: `${label}.v`, size: slots === 2 ? bytes : 16, usage: S },
      { label: `${label}.decayMask`, size: bytes, usage: S },
      { label: `${label}.control`, size: 16, usage: S },
    ]);
    try {
      const [uniforms, m, v, mask, control] = made;
      const buffers = { uniforms, m, v, mask, control };
      device.queue.writeBuffer(buffers.mask, 0, o.decayMask ? Float32Array.from(o.decayMask) : new Float32Array(P).fill(1));
      const code = assembleWgsl([shaderSources.optimLayout, shaderSources.optimRule], shaderSources.optimUpdate);
      const pipeline = await createComputePipeline(device, label, code, { WG: o.workgroupSize, KIND: OPTIMIZER_CODES[o.config.kind] });
      const bindGroups = Array.from({ length: o.maxSlots }, (_, s) => device.createBindGroup({
        label: `${label}.bindGroup.${s}`,
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: buffers.uniforms, offset: s * SLOT_BYTES, size: STEP_BYTES } },
          ...[o.grad, o.theta, buffers.m, buffers.v, buffers.mask, buffers.control].map((buffer, k) => ({ binding: k + 1, resource: { buffer } })),
        ],
      }));
      const groups = fold2d(Math.ceil(P / o.workgroupSize), o.maxWorkgroupsPerDimension);
      return new OptimUpdatePass(device, o.config, P, pipeline, bindGroups, groups, buffers);
    } catch (e) {
      for (const b of made) b.destroy();
      throw e;
    }
  }

  get maxSlots(): number {
    return this.bindGroups.length;
  }

  /** The uniform slot s as a binding (other per-step stages read the same values). */
  slotBinding(s: number): GPUBufferBinding {
    return { buffer: this.buffers.uniforms, offset: s * SLOT_BYTES, size: STEP_BYTES };
  }

  /** The moments, the weight-decay mask and the stop flag, bound after grad and theta (bindings 3-6) by every stage of optim_rule.wgsl. */
  get stateBuffers(): readonly GPUBuffer[] {
    return [this.buffers.m, this.buffers.v, this.buffers.mask, this.buffers.control];
  }

  /** The stop flag (TrainControl) the history pass sets and every update reads. */
  get control(): GPUBuffer {
    return this.buffers.control;
  }

  /**
   * Fills slots 0..lrs.length-1 for updates done+1, done+2, ... (done: updates applied before them); the
   * history pass stops training at a gradient norm <= tol.
   */
  writeSteps(done: number, lrs: readonly number[], tol = NO_TOLERANCE): void {
    if (lrs.length > this.bindGroups.length) throw new RangeError(`steps: ${lrs.length} asked for, ${this.bindGroups.length} slots`);
    const all = new Uint8Array(lrs.length * SLOT_BYTES);
    lrs.forEach((lr, s) => all.set(new Uint8Array(packOptimStep(this.config, this.params, done + s + 1, lr, this.groups.x, tol)), s * SLOT_BYTES));
    this.device.queue.writeBuffer(this.buffers.uniforms, 0, all);
  }

  /** Records the update of slot s (written by writeSteps). */
  run(pass: GPUComputePassEncoder, slot: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroups[slot]);
    pass.dispatchWorkgroups(this.groups.x, this.groups.y);
  }

  /** Zeroes the moments and the stop flag (a fresh run). */
  reset(): void {
    for (const b of [this.buffers.m, this.buffers.v, this.buffers.control]) this.device.queue.writeBuffer(b, 0, new Float32Array(b.size / 4));
  }

  /** Uploads a saved state (resume). */
  writeState(state: OptimState): void {
    const slots = stateSlots(this.config.kind);
    if (state.m.length !== (slots >= 1 ? this.params : 0) || state.v.length !== (slots === 2 ? this.params : 0)) {
      throw new RangeError(`optimizer state: does not match ${this.params} parameters with ${this.config.kind}`);
    }
    this.reset();
    if (state.m.length) this.device.queue.writeBuffer(this.buffers.m, 0, Float32Array.from(state.m));
    if (state.v.length) this.device.queue.writeBuffer(this.buffers.v, 0, Float32Array.from(state.v));
  }

  /** Records copies of the moments into dst at offset (m then v, params floats each when present). */
  copyState(encoder: GPUCommandEncoder, dst: GPUBuffer, offset: number): number {
    const slots = stateSlots(this.config.kind);
    const bytes = this.params * 4;
    if (slots >= 1) encoder.copyBufferToBuffer(this.buffers.m, 0, dst, offset, bytes);
    if (slots === 2) encoder.copyBufferToBuffer(this.buffers.v, 0, dst, offset + bytes, bytes);
    return slots * bytes;
  }

  dispose(): void {
    for (const b of Object.values(this.buffers)) b.destroy();
  }
}
