// The gradient of a network's loss as a chain of dispatches (shaders/mlp_*.wgsl), all recorded into one
// compute pass: the forward product per layer, the head, then per layer from the last: the weight
// gradient's product (one partial per split of samples), the bias and loss partials and the backprop
// product; then the reduce over splits. Each product runs the kernel its LayerProducts entry names: a
// matrix-product configuration (gemm-blocked.ts: mlp_gemm.wgsl or mlp_gemm_blocked.wgsl, tuned per adapter
// by gemm-tuning.ts) or one thread per output. Pipelines and bind groups are built once; record() only records work.
// Steps chained in one submit may cover different mini-batches, so every stage reads its uniforms from a
// per-step slot (one bind group per slot); writeSlots() fills them before the submit.
import { ACTIVATION_CODES, type NetworkConfig } from '../../models/network.ts';
import { headStage } from './head-stage.ts';
import { assembleWgsl, specializeWgsl } from '../wgsl.ts';
import { createBufferChecked, createComputePipeline } from '../resources.ts';
import { gemmGrid, gridFor, MLP_UNIFORM_BYTES, packGemmUniforms, packMlpUniforms, type GemmUniformValues, type MlpPlan, type MlpUniformValues } from './mlp-plan.ts';
import { blockedGemmGrid, blockedGemmWgsl, operandLengths, TILED_GEMM, type GemmConfig } from './gemm-blocked.ts';

/** One thread per output: mlp_forward, mlp_backprop, mlp_grad_partials (narrow layers). */
export const SIMPLE_PRODUCT = { kernel: 'simple' } as const;
export type ProductChoice = GemmConfig | typeof SIMPLE_PRODUCT;

/** The kernels of one layer's three products. */
export interface LayerProducts {
  forward: ProductChoice;
  backprop: ProductChoice;
  weights: ProductChoice;
}

/**
 * Which kernels compute the layers' products: 'auto' (tuned per adapter where the product is large enough
 * to pay for it, else 'heuristic'), 'heuristic' (tiled where tiledPays, else simple; no tuning), 'tiled',
 * 'simple', one matrix-product configuration for every product, or one LayerProducts per layer.
 */
export type ProductKernels = 'auto' | 'heuristic' | 'tiled' | 'simple' | GemmConfig | LayerProducts[];

/** Below 32 units on either side most of a 64 x 64 tile is padding; one thread per output wins there. */
export function tiledPays(layer: { fanIn: number; fanOut: number }): boolean {
  return Math.min(layer.fanIn, layer.fanOut) >= 32;
}

/** Every product of every layer the same, or the pre-tuning rule (tiledPays). */
export function uniformProducts(layers: readonly { fanIn: number; fanOut: number }[], kind: 'heuristic' | 'tiled' | 'simple' | GemmConfig): LayerProducts[] {
  return layers.map((l) => {
    const choice: ProductChoice = kind === 'simple' ? SIMPLE_PRODUCT
      : kind === 'tiled' ? TILED_GEMM
        : kind === 'heuristic' ? (tiledPays(l) ? TILED_GEMM : SIMPLE_PRODUCT) : kind;
    return { forward: choice, backprop: choice, weights: choice };
  });
}

/**
 * Lanes per column of mlp_reduce.wgsl. Up to 128 chunk rows one thread sums a column in row order
 * (neighbouring threads read neighbouring columns, no barrier tree); beyond, 32 lanes share a column.
 */
export function reduceLanes(numChunks: number): number {
  return numChunks <= 128 ? 1 : 32;
}

/** mlp_gemm.wgsl's and mlp_gemm_blocked.wgsl's MODE. */
export const GEMM_FORWARD = 0;
export const GEMM_BACKPROP = 1;
export const GEMM_WEIGHTS = 2;
import { SLOT_BYTES } from './optim-update-pass.ts';
import type { BatchRange } from '../../models/batches.ts';
import { shaderSources as src } from '../shaders.ts';

export interface MlpBuffers {
  x: GPUBuffer;
  y: GPUBuffer;
  theta: GPUBuffer;
  /** Outputs of layers 1..L (index l - 1); the last holds the logits. */
  acts: GPUBuffer[];
  /** dJ_i/dz of layers 1..L (index l - 1). */
  deltas: GPUBuffer[];
  losses: GPUBuffer;
  partials: GPUBuffer;
  gradLoss: GPUBuffer;
}

/** One stage of a slotted chain: a pipeline, one bind group per step slot, a fixed grid, its uniforms for a batch. */
export interface SlotStage {
  pipeline: GPUComputePipeline;
  /** One per step slot. */
  bindGroups: GPUBindGroup[];
  /** Sized for the most rows a batch may have; a smaller batch leaves the surplus threads idle (they test their counts). */
  groups: { x: number; y: number; z?: number };
  /** The stage's uniform struct for a batch. */
  pack: (batch: BatchRange) => ArrayBuffer;
}

/**
 * A stage's bind groups, one per step slot: binding 0 its uniforms in that slot (slots one after another,
 * each holding every stage's SLOT_BYTES in stage order), then `buffers` from binding 1.
 */
export function slotBindGroups(
  device: GPUDevice, label: string, pipeline: GPUComputePipeline, uniforms: GPUBuffer, stageIndex: number, stages: number, slots: number,
  buffers: readonly GPUBuffer[],
): GPUBindGroup[] {
  return Array.from({ length: slots }, (_, s) => device.createBindGroup({
    label: `${label}.slot${s}`,
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: uniforms, offset: (s * stages + stageIndex) * SLOT_BYTES, size: MLP_UNIFORM_BYTES } },
      ...buffers.map((buffer, k) => ({ binding: k + 1, resource: { buffer } })),
    ],
  }));
}

/**
 * A chain of stages whose uniforms come from per-step slots, so that steps chained in one submit may each
 * take another batch: writeSlots() fills the slots before the submit, record() only records work.
 */
export class SlotPasses {
  /** The batch each slot's uniforms hold (writeSlot rewrites only the slots that change). */
  private readonly slotBatch: (BatchRange | null)[];

  protected constructor(
    private readonly device: GPUDevice,
    private readonly stages: SlotStage[],
    private readonly uniforms: GPUBuffer,
    readonly slots: number,
  ) {
    this.slotBatch = new Array<BatchRange | null>(slots).fill(null);
  }

  /** Points slot s at batches[s] (queue.writeBuffer lands before the next submit). */
  writeSlots(batches: readonly BatchRange[]): void {
    if (batches.length > this.slots) throw new RangeError(`steps: ${batches.length} asked for, ${this.slots} slots`);
    batches.forEach((batch, s) => this.writeSlot(s, batch));
  }

  /** Points one slot at a batch (streamed chains fill their slots chunk by chunk). */
  writeSlot(slot: number, batch: BatchRange): void {
    if (!(Number.isInteger(slot) && slot >= 0 && slot < this.slots)) throw new RangeError(`slot: ${slot} is outside the ${this.slots} slots`);
    const held = this.slotBatch[slot];
    if (held && held.start === batch.start && held.rows === batch.rows) return;
    const per = this.stages.length * SLOT_BYTES;
    const bytes = new Uint8Array(per);
    this.stages.forEach((stage, j) => bytes.set(new Uint8Array(stage.pack(batch)), j * SLOT_BYTES));
    this.device.queue.writeBuffer(this.uniforms, slot * per, bytes);
    this.slotBatch[slot] = { ...batch };
  }

  /** Records the stages for the batch written to `slot`, in order. */
  record(pass: GPUComputePassEncoder, slot: number): void {
    for (let j = 0; j < this.stages.length; j++) this.recordStage(pass, slot, j);
  }

  /** Records stage j alone for the batch written to `slot`. */
  protected recordStage(pass: GPUComputePassEncoder, slot: number, j: number): void {
    const s = this.stages[j];
    pass.setPipeline(s.pipeline);
    pass.setBindGroup(0, s.bindGroups[slot]);
    pass.dispatchWorkgroups(s.groups.x, s.groups.y, s.groups.z ?? 1);
  }

  dispose(): void {
    this.uniforms.destroy();
  }
}

export class MlpGradientPasses extends SlotPasses {
  static readonly kLabel = 'nabla.mlp';

  static async create(device: GPUDevice, c: NetworkConfig, plan: MlpPlan, maxPerDim: number, b: MlpBuffers, slots: number, products: LayerProducts[]): Promise<MlpGradientPasses> {
    if (products.length !== plan.layers.length) throw new RangeError(`products: ${products.length} layers given, the network has ${plan.layers.length}`);
    const label = MlpGradientPasses.kLabel;
    const wg = plan.workgroupSize;
    const pipelines = new Map<string, Promise<GPUComputePipeline>>();
    const pipeline = (stage: string, source: string, pieces: readonly string[], constants: Record<string, number>) => {
      const key = `${stage}:${JSON.stringify(constants)}:${source}`;
      if (!pipelines.has(key)) {
        pipelines.set(key, createComputePipeline(device, `${label}.${stage}`, assembleMlpWgsl(source, pieces), constants));
      }
      return pipelines.get(key)!;
    };
    const specs: { stage: string; source: string; pieces: readonly string[]; constants: Record<string, number>; buffers: GPUBuffer[]; groups: SlotStage['groups']; pack: SlotStage['pack'] }[] = [];
    // The per-sample stages (head, bias and loss partials, reduce): one thread per work item.
    const perItem = (stage: string, source: string, constants: Record<string, number>, fixed: Pick<MlpUniformValues, 'fanIn' | 'fanOut' | 'wOffset' | 'hasLoss'>,
      buffers: GPUBuffer[], count: (rows: number, numChunks: number) => number, opts: { readsX?: boolean; readsY?: boolean; groupsFor?: number } = {}) => {
      const grid = gridFor(opts.groupsFor ?? count(plan.rows, plan.numChunks), wg, maxPerDim);
      specs.push({
        stage, source, pieces: MLP_PIECES, constants: { WG: wg, ...constants }, buffers, groups: { ...grid, z: 1 },
        pack: (batch) => {
          const numChunks = Math.ceil(batch.rows / plan.chunk);
          return packMlpUniforms({
            ...fixed, n: batch.rows, chunk: plan.chunk, numChunks, stride: plan.stride, lossCol: plan.params, groupsX: grid.x,
            count: count(batch.rows, numChunks), xRow: opts.readsX ? batch.start : 0, yRow: opts.readsY ? batch.start : 0,
          });
        },
      });
    };
    // The matrix products: rows of C are samples (forward, backprop) or units (weights).
    const gemm = (stage: string, config: GemmConfig, mode: number, act: number, buffers: GPUBuffer[], rows: number, cols: number, splits: number,
      values: (batch: BatchRange) => Omit<GemmUniformValues, 'groupsY'>) => {
      const blocked = config.kernel === 'blocked';
      const groups = blocked ? blockedGemmGrid(config, rows, cols, splits, maxPerDim) : gemmGrid(rows, cols, splits, maxPerDim);
      specs.push({
        stage, source: blocked ? blockedGemmWgsl(src.mlpGemmBlocked, config, operandLengths(buffers as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer])) : src.mlpGemm, pieces: GEMM_PIECES,
        constants: blocked ? { MODE: mode, ACT: act, WG: config.wg } : { MODE: mode, ACT: act }, buffers, groups,
        pack: (batch) => packGemmUniforms({ ...values(batch), groupsY: groups.y }),
      });
    };
    const L = plan.layers.length;
    const act = ACTIVATION_CODES[c.activation];
    const input = (l: number) => (l === 0 ? b.x : b.acts[l - 1]);
    // The data x are read from the batch's first row; every other buffer holds the batch from row 0.
    const inputRow = (l: number, batch: BatchRange) => (l === 0 ? batch.start * plan.layers[0].fanIn : 0);
    for (let l = 0; l < L; l++) {
      const s = plan.layers[l];
      const fn = l === L - 1 ? ACTIVATION_CODES.identity : act;
      const p = products[l];
      if (p.forward.kernel !== 'simple') {
        gemm('forward', p.forward, GEMM_FORWARD, fn, [input(l), b.theta, b.acts[l], b.theta], plan.rows, s.fanOut, 1, (batch) => ({
          m: batch.rows, n: s.fanOut, k: s.fanIn, kSplit: s.fanIn, aBase: inputRow(l, batch), aSm: s.fanIn, aSk: 1,
          bBase: s.wOffset, bSk: 1, bSn: s.fanIn, cBase: 0, cSm: s.fanOut, cSplit: 0, auxBase: s.wOffset + s.fanOut * s.fanIn, auxSm: 0,
        }));
      } else {
        perItem('forward', src.mlpForward, { ACT: fn }, { fanIn: s.fanIn, fanOut: s.fanOut, wOffset: s.wOffset, hasLoss: false },
          [input(l), b.theta, b.acts[l]], (rows) => rows * s.fanOut, { readsX: l === 0 });
      }
    }
    const last = plan.layers[L - 1];
    const head = headStage(src.mlpHead, c); // the generated loss text is part of the pipeline key
    perItem('head', head, {}, { fanIn: last.fanIn, fanOut: last.fanOut, wOffset: last.wOffset, hasLoss: false },
      [b.acts[L - 1], b.y, b.deltas[L - 1], b.losses], (rows) => rows, { readsY: true });
    for (let l = L - 1; l >= 0; l--) {
      const s = plan.layers[l];
      const hasLoss = l === L - 1;
      const fixed = { fanIn: s.fanIn, fanOut: s.fanOut, wOffset: s.wOffset, hasLoss };
      const partialBuffers = [b.deltas[l], input(l), b.losses, b.partials];
      const p = products[l];
      if (p.weights.kernel !== 'simple') {
        gemm('gradWeights', p.weights, GEMM_WEIGHTS, 0, [b.deltas[l], input(l), b.partials, b.theta], s.fanOut, s.fanIn, plan.numChunks, (batch) => ({
          m: s.fanOut, n: s.fanIn, k: batch.rows, kSplit: plan.chunk, aBase: 0, aSm: 1, aSk: s.fanOut,
          bBase: inputRow(l, batch), bSk: s.fanIn, bSn: 1, cBase: s.wOffset, cSm: s.fanIn, cSplit: plan.stride, auxBase: 0, auxSm: 0,
        }));
        perItem('gradBiases', src.mlpGradPartials, { SKIP_WEIGHTS: 1 }, fixed, partialBuffers, (_, chunks) => (s.fanOut + (hasLoss ? 1 : 0)) * chunks);
      } else {
        const entries = s.fanOut * s.fanIn + s.fanOut + (hasLoss ? 1 : 0);
        perItem('gradPartials', src.mlpGradPartials, {}, fixed, partialBuffers, (_, chunks) => entries * chunks, { readsX: l === 0 });
      }
      if (l === 0) continue;
      if (p.backprop.kernel !== 'simple') {
        gemm('backprop', p.backprop, GEMM_BACKPROP, act, [b.deltas[l], b.theta, b.deltas[l - 1], b.acts[l - 1]], plan.rows, s.fanIn, 1, (batch) => ({
          m: batch.rows, n: s.fanIn, k: s.fanOut, kSplit: s.fanOut, aBase: 0, aSm: s.fanOut, aSk: 1,
          bBase: s.wOffset, bSk: s.fanIn, bSn: 1, cBase: 0, cSm: s.fanIn, cSplit: 0, auxBase: 0, auxSm: s.fanIn,
        }));
      } else {
        perItem('backprop', src.mlpBackprop, { ACT: act }, { ...fixed, hasLoss: false }, [b.theta, b.deltas[l], b.acts[l - 1], b.deltas[l - 1]], (rows) => rows * s.fanIn);
      }
    }
    const lanes = reduceLanes(plan.numChunks);
    const cols = Math.max(1, wg / lanes);
    perItem('reduce', specializeWgsl(src.mlpReduce, { TREE: lanes > 1 }, 'mlp_reduce.wgsl'), { LANES: Math.min(lanes, wg) }, { fanIn: 0, fanOut: 0, wOffset: 0, hasLoss: false },
      [b.partials, b.gradLoss], () => plan.stride, { groupsFor: Math.ceil(plan.stride / cols) * wg });

    const uniformBuffer = await createBufferChecked(device, {
      label: `${label}.uniforms`, size: slots * specs.length * SLOT_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    try {
      const stages: SlotStage[] = [];
      for (const [j, spec] of specs.entries()) {
        const p = await pipeline(spec.stage, spec.source, spec.pieces, spec.constants);
        const bindGroups = slotBindGroups(device, `${label}.${spec.stage}.bindGroup.${j}`, p, uniformBuffer, j, specs.length, slots, spec.buffers);
        stages.push({ pipeline: p, bindGroups, groups: spec.groups, pack: spec.pack });
      }
      return new MlpGradientPasses(device, stages, uniformBuffer, slots);
    } catch (e) {
      uniformBuffer.destroy();
      throw e;
    }
  }
}

/** shaders/mlp_history.wgsl: (J, |grad J|) of each chained step into a ring and the tolerance stop, one bind group per step slot. */
export class MlpHistoryPass {
  static readonly kLabel = 'nabla.mlp.history';

  private constructor(private readonly pipeline: GPUComputePipeline, private readonly bindGroups: GPUBindGroup[]) {}

  static async create(device: GPUDevice, workgroupSize: number, slots: GPUBufferBinding[], gradLoss: GPUBuffer, history: GPUBuffer, control: GPUBuffer): Promise<MlpHistoryPass> {
    const code = assembleWgsl([src.optimLayout, src.workgroupSum], src.mlpHistory);
    const pipeline = await createComputePipeline(device, MlpHistoryPass.kLabel, code, { WG: workgroupSize, HISTORY_CAP: slots.length });
    const bindGroups = slots.map((slot, s) => device.createBindGroup({
      label: `${MlpHistoryPass.kLabel}.bindGroup.${s}`,
      layout: pipeline.getBindGroupLayout(0),
      entries: [slot, { buffer: gradLoss }, { buffer: history }, { buffer: control }].map((resource, binding) => ({ binding, resource })),
    }));
    return new MlpHistoryPass(pipeline, bindGroups);
  }

  run(pass: GPUComputePassEncoder, slot: number): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroups[slot]);
    pass.dispatchWorkgroups(1);
  }
}

/** The shared pieces of every model stage (the structs and activations) and, after them, of the matrix products. */
export const MLP_PIECES: readonly string[] = [src.mlpLayout];
export const GEMM_PIECES: readonly string[] = [src.mlpLayout, src.gemmEpilogue];

/** A model stage after its shared pieces; the stage's enable/diagnostic directives move to the module's top. */
export function assembleMlpWgsl(stage: string, pieces: readonly string[]): string {
  const lines = stage.split('\n');
  const directive = (line: string) => /^\s*(enable|diagnostic|requires)\b/.test(line);
  const top = lines.filter(directive);
  return assembleWgsl([...top, ...pieces], lines.filter((line) => !directive(line)).join('\n'));
}
