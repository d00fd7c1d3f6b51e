// The hand-tuned quad kernel as pass 1 of a formula model of the linear shape (src/formula/shapes.ts: Σ θ·x + b
// with mse, unweighted): the FORMULA variant of shaders/linear_partials_quad.wgsl, bound and gridded as the
// generated kernel is (formula-passes.ts: an MlpUniforms slot per chained step, { workgroupSize, groups }) and
// writing the gradient program's outputs in its order, so mlp_reduce.wgsl folds its rows unchanged. It reads
// rows as vec4 quads, so it takes batches that start on a multiple of 4 rows; RoutedGradientPasses sends every
// other batch (a mini-batch size not a multiple of 4, a ragged chunk piece) to the generated kernel.
import type { LinearShape } from '../../formula/shapes.ts';
import type { SampleProgram } from '../../formula/program.ts';
import type { BatchRange } from '../../models/batches.ts';
import { QUAD_MAX_FEATURES, QUAD_MAX_WORKGROUP } from '../dispatch.ts';
import { assembleMlpWgsl } from '../models/mlp-passes.ts';
import type { SlotGradientPasses } from '../models/streamed-model-program.ts';
import type { PartialRowsSource } from '../models/model-program.ts';
import { quadDefines } from './linear-quad-codegen.ts';
import { shaderSources as src } from '../shaders.ts';
import { specializeWgsl } from '../wgsl.ts';
import { formulaShapeClass } from './formula-grid.ts';
import { FormulaGradientPasses, type FormulaBuffers } from './formula-passes.ts';
import type { FormulaKernelConfig } from './formula-grid.ts';
import type { FormulaKernelVariant } from './formula-tuning.ts';

/** The tuning family of the specialised kernel: its grid is tuned apart from the generated kernel's. */
export const LINEAR_QUAD_FAMILY = 'formula.linear-quad';

/** Which pass-1 kernel computes a formula engine's gradient. */
export type FormulaKernelKind = 'generated' | 'linear-quad' | 'linear-predictor';

/** Whether the quad kernel takes this shape: up to QUAD_MAX_FEATURES columns (its straight-line body grows with D). */
export function quadTakes(shape: LinearShape | null): shape is LinearShape {
  return shape !== null && shape.weights.length <= QUAD_MAX_FEATURES;
}

/** The pass-1 WGSL for `shape`: straight-line quad code for its D columns, its parameters at their indices. */
export function linearQuadWgsl(shape: LinearShape): string {
  const d = shape.weights.length;
  const stage = specializeWgsl(src.linearPartialsQuad, quadDefines(d, shape), 'linear_partials_quad.wgsl (formula)');
  return assembleMlpWgsl(stage, [src.mlpLayout, src.compensatedSum, src.segmentedSum]);
}

/** The quad kernel's passes (pass 1, then mlp_reduce.wgsl); code: replacement pass-1 WGSL (tests inject faults). */
export function createLinearQuadPasses(
  device: GPUDevice, program: SampleProgram, shape: LinearShape, config: FormulaKernelConfig, maxPerDim: number, buffers: FormulaBuffers, slots: number,
  code = linearQuadWgsl(shape),
): Promise<FormulaGradientPasses> {
  if (config.workgroupSize > QUAD_MAX_WORKGROUP) {
    throw new RangeError(`linear quad kernel: workgroups of at most ${QUAD_MAX_WORKGROUP} threads (its scratch is sized for them), got ${config.workgroupSize}`);
  }
  if (program.outputs.length !== shape.weights.length + 2) {
    throw new RangeError(`linear quad kernel: the program has ${program.outputs.length} outputs, a linear shape of ${shape.weights.length} columns ${shape.weights.length + 2}`);
  }
  return FormulaGradientPasses.create(device, program, config, maxPerDim, buffers, slots, { code, label: `${FormulaGradientPasses.kLabel}.linear-quad` });
}

/**
 * The quad kernel as a tuning variant: keyed by D and the rows' size class (the kernel's text depends on
 * nothing else that changes its speed; the parameter order only permutes constant indices).
 */
export function linearQuadVariant(program: SampleProgram, shape: LinearShape, n: number, maxPerDim: number, code?: string): FormulaKernelVariant {
  const d = shape.weights.length;
  return {
    family: LINEAR_QUAD_FAMILY,
    shape: formulaShapeClass(`linear-quad d=${d}`, n, d),
    build: (device, config, buffers) => createLinearQuadPasses(device, program, shape, config, maxPerDim, buffers, 1, code),
  };
}

/**
 * The gradient over the quad kernel where a batch starts on a whole quad, else over the generated kernel:
 * each slot remembers which one its batch went to. Both write the same partials and grad_loss buffers.
 */
export class RoutedGradientPasses implements SlotGradientPasses {
  readonly slots: number;
  private readonly route: FormulaGradientPasses[];

  constructor(readonly quad: FormulaGradientPasses, readonly generic: FormulaGradientPasses) {
    if (quad.slots !== generic.slots) throw new RangeError(`routed passes: ${quad.slots} quad slots, ${generic.slots} generic ones`);
    this.slots = quad.slots;
    this.route = new Array<FormulaGradientPasses>(this.slots).fill(quad);
  }

  /** The passes a batch runs on: the quad kernel reads x and y as vec4s from its start. */
  passesFor(batch: BatchRange): FormulaGradientPasses {
    return batch.start % 4 === 0 ? this.quad : this.generic;
  }

  writeSlot(slot: number, batch: BatchRange): void {
    const passes = this.passesFor(batch);
    passes.writeSlot(slot, batch);
    this.route[slot] = passes;
  }

  writeSlots(batches: readonly BatchRange[]): void {
    if (batches.length > this.slots) throw new RangeError(`steps: ${batches.length} asked for, ${this.slots} slots`);
    batches.forEach((batch, s) => this.writeSlot(s, batch));
  }

  record(pass: GPUComputePassEncoder, slot: number): void {
    this.route[slot].record(pass, slot);
  }

  get partialRows(): PartialRowsSource {
    const { quad, generic, route } = this;
    return {
      partials: quad.partials,
      maxChunks: Math.max(quad.maxChunks, generic.maxChunks),
      chunks: (slot) => route[slot].maxChunks,
      recordPartials: (pass, slot) => route[slot].recordPartials(pass, slot),
    };
  }

  dispose(): void {
    this.quad.dispose();
    this.generic.dispose();
  }
}
