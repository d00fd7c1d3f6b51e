// Pass 1 for wide rows of a generalised linear model (src/formula/shapes.ts: linearPredictor, yhat = F(η + b,
// q..)): shaders/formula_linear_predictor.wgsl, which computes η a row and then the column sums Σ (∂ℓ/∂b)·x_c
// with the threads spread over the columns, where the generated kernel keeps every one of the P + 1 sums in
// each thread (129 at 128 columns, which no adapter keeps in registers). Bound, gridded and reduced as the
// generated kernel (formula-passes.ts), so it takes every batch; its defines are pure, unit-tested without a GPU.
import { wgslHelpers } from '../../formula/emit-wgsl.ts';
import { gradientProgram, type SampleProgram } from '../../formula/program.ts';
import type { FormulaModel } from '../../formula/model.ts';
import { linearPredictor, type LinearPredictorShape } from '../../formula/shapes.ts';
import type { DeviceShape } from '../dispatch.ts';
import { assembleMlpWgsl } from '../models/mlp-passes.ts';
import { shaderSources as src } from '../shaders.ts';
import { specializeWgsl } from '../wgsl.ts';
import {
  FORMULA_BLOCK, FORMULA_MAX_GROUPS, FORMULA_WORKGROUP_SIZES, formulaShapeClass, formulaTreeRows, groupLadder, type FormulaKernelConfig,
} from './formula-grid.ts';
import { FormulaGradientPasses, type FormulaBuffers } from './formula-passes.ts';
import { accumulate, foldBody, fusedExpression, QUAD_LOAD_MAX_WIDTH } from './formula-row-code.ts';
import type { FormulaKernelVariant } from './formula-tuning.ts';

export const LINEAR_PREDICTOR_FAMILY = 'formula.linear-predictor';

const PARAM_NONE = 0xffffffff;
/**
 * Rows a thread takes in a tile's row phase: a tile is this many times the workgroup's rows, two barriers a
 * tile (4: 127 against 138 ms a gradient on SwiftShader at one, linear(128 columns) over 2^18 rows).
 */
export const TILE_THREAD_ROWS = 4;

/** Workgroup memory the kernel needs besides its reduce scratch: the coefficients and a tile's slopes. */
function fixedStorage(rowWidth: number, workgroupSize: number): number {
  return rowWidth * 4 + TILE_THREAD_ROWS * workgroupSize * 4;
}

/**
 * Rows this wide or wider run the linear predictor kernel without tuning the generated one beside it: at 256
 * columns (20,000 rows, SwiftShader) the predictor ran as fast (77 against 86 ms for three gradients) and the
 * generated kernel took 13 s to compile against 0.7 s; at 128 the generated one was the faster (README, "Wider rows").
 */
export const PREDICTOR_ALONE_WIDTH = 256;

/**
 * The model's linear predictor where the kernel takes it, else null: rows wider than the generated kernel's
 * quad loads (QUAD_LOAD_MAX_WIDTH columns; narrower rows it runs faster), its coefficients, slopes and one
 * reduce row within the adapter's workgroup memory at workgroups of 64. The shape is sought only then.
 */
export function predictorFor(model: FormulaModel, program: SampleProgram, maxWorkgroupStorage: number): LinearPredictorShape | null {
  if (program.rowWidth <= QUAD_LOAD_MAX_WIDTH || fixedStorage(program.rowWidth, 64) + 64 * 4 > maxWorkgroupStorage) return null;
  return linearPredictor(model);
}

/**
 * Every placeholder of formula_linear_predictor.wgsl for `program` (the model's gradient program) at one
 * workgroup size; reduced: the gradient program of shape.reduced.
 */
export function linearPredictorDefines(
  program: SampleProgram, shape: LinearPredictorShape, workgroupSize: number, maxWorkgroupStorage: number, reduced = gradientProgram(shape.reduced),
) {
  const W = program.rowWidth;
  const P = program.params;
  const C = predictorChunks(W);
  const chunk = W / C;
  const slots = C <= workgroupSize ? Math.floor(workgroupSize / C) : 1;
  const cpt = C <= workgroupSize ? 1 : Math.ceil(C / workgroupSize);
  const tile = TILE_THREAD_ROWS * workgroupSize;
  const left = maxWorkgroupStorage - fixedStorage(W, workgroupSize);
  if (left < workgroupSize * 4) throw new RangeError(`linear predictor kernel: ${W} columns and workgroups of ${workgroupSize} exceed ${maxWorkgroupStorage} bytes of workgroup memory`);
  const treeRows = formulaTreeRows(P + 1, workgroupSize, left);
  const column = new Array<number>(P + 1).fill(PARAM_NONE);
  const scalar = new Array<number>(P + 1).fill(0);
  shape.weights.forEach((p, c) => (column[p] = c));
  shape.reducedParams.forEach((p, j) => (scalar[p] = j));
  scalar[P] = reduced.outputs.length - 1;
  const coef = Array.from({ length: W }, (_, k) => (k < shape.weights.length ? shape.weights[k] : PARAM_NONE));
  const u32s = (a: readonly number[]) => a.map((v) => `${v >>> 0}u`).join(', ');
  return {
    CHUNK_TYPE: chunk === 4 ? 'vec4<f32>' : 'f32', CHUNK: chunk, VEC4: chunk === 4, C, W, FEATURES: program.features, OUTPUTS: P + 1,
    SCALARS: reduced.outputs.length, PARAMS: reduced.params, SLOTS: slots, CPT: cpt, BLOCK_TILES: Math.max(1, Math.floor(FORMULA_BLOCK / TILE_THREAD_ROWS)), FOLD_ROWS: FORMULA_BLOCK,
    TILE: tile, TREE_ROWS: treeRows, SCRATCH: workgroupSize * treeRows, COEF_LENGTH: W, COEF_PARAM: u32s(coef),
    OUT_COLUMN: u32s(column), OUT_SCALAR: u32s(scalar), ...reducedRowCode(reduced, shape, program),
  };
}

/**
 * add_row's program part (η is bound as x0 already), the scalar sums' fold and the parameters' load. The
 * reduced program's first output, ∂ℓ/∂b weighted, is the row's slope: it is also what each column's sum takes.
 */
function reducedRowCode(reduced: SampleProgram, shape: LinearPredictorShape, program: SampleProgram): { ROW_BODY: string; FOLD_BODY: string; LOAD_PARAMS: string } {
  const row = Array.from({ length: reduced.params }, (_, j) => `  let p${j} = params[${j}];`);
  if (program.weighted) row.push(`  let w = x_at(row * W + FEATURES);`);
  row.push(...reduced.lets.map(({ name, node }) => `  let ${name} = ${fusedExpression(node)};`));
  row.push(`  nabla_slope = ${fusedExpression(reduced.outputs[0])};`, '  block_sum[0] = block_sum[0] + nabla_slope;');
  reduced.outputs.forEach((n, k) => k > 0 && row.push(accumulate(k, n)));
  const load = shape.reducedParams.map((p, j) => `  params[${j}] = theta[${p}];`);
  return { ROW_BODY: row.join('\n'), FOLD_BODY: foldBody(reduced.outputs.length), LOAD_PARAMS: load.join('\n') };
}

export function linearPredictorWgsl(program: SampleProgram, shape: LinearPredictorShape, workgroupSize: number, maxWorkgroupStorage: number): string {
  const reduced = gradientProgram(shape.reduced);
  const stage = specializeWgsl(src.formulaLinearPredictor, linearPredictorDefines(program, shape, workgroupSize, maxWorkgroupStorage, reduced), 'formula_linear_predictor.wgsl');
  return assembleMlpWgsl(stage, [src.mlpLayout, src.compensatedSum, src.segmentedSum, wgslHelpers([...reduced.lets.map((l) => l.node), ...reduced.outputs])]);
}

/** Chunks a row of `rowWidth` floats is read in: vec4s where the width is a multiple of 4, else floats. */
export function predictorChunks(rowWidth: number): number {
  return rowWidth % 4 === 0 ? rowWidth / 4 : rowWidth;
}

/**
 * Most row chunks a workgroup reads in one dispatch. Under Deno on Mesa's llvmpipe, one workgroup over more
 * than about 115,000 rows of 32 vec4s, or 14,000 rows of 128, left its partials unwritten, silently (the reduce
 * then folded what an earlier pass had left), whatever the tile size; the same rows over two workgroups, and
 * every smaller batch, agreed with the twin. The cause is not found; 2^19 chunks is four times below the least
 * failing count seen.
 */
export const PREDICTOR_MAX_CHUNKS = 2 ** 19;

/** The grid with at least the workgroups that keep each within PREDICTOR_MAX_CHUNKS chunks of `rows` rows. */
export function predictorGrid(config: FormulaKernelConfig, rows: number, rowWidth: number): FormulaKernelConfig {
  const least = Math.ceil((rows * predictorChunks(rowWidth)) / PREDICTOR_MAX_CHUNKS);
  return least > config.groups ? { ...config, groups: Math.min(FORMULA_MAX_GROUPS, least) } : config;
}

/** The kernel's passes (pass 1, then mlp_reduce.wgsl); code: replacement pass-1 WGSL (tests inject faults). */
export function createLinearPredictorPasses(
  device: GPUDevice, program: SampleProgram, shape: LinearPredictorShape, config: FormulaKernelConfig, maxPerDim: number, buffers: FormulaBuffers, slots: number,
  code = linearPredictorWgsl(program, shape, config.workgroupSize, device.limits.maxComputeWorkgroupStorageSize),
): Promise<FormulaGradientPasses> {
  return FormulaGradientPasses.create(device, program, config, maxPerDim, buffers, slots, { code, label: `${FormulaGradientPasses.kLabel}.linear-predictor` });
}

/**
 * The grids tried: a ladder per layout and workgroup size from one workgroup up to one tile of rows per
 * workgroup of the tuning prefix (a workgroup's unit of work is a tile, not a thread's block of rows), blocked
 * in runs of 16 tiles or strided.
 */
export function linearPredictorCandidates(tuneRows: number, shape: DeviceShape): FormulaKernelConfig[] {
  const out: FormulaKernelConfig[] = [];
  for (const kind of [{ layout: 'strided' as const }, { layout: 'blocked' as const, span: 16 }]) {
    for (const workgroupSize of FORMULA_WORKGROUP_SIZES.filter((wg) => wg <= shape.maxWorkgroupSize)) {
      const top = Math.max(1, Math.min(FORMULA_MAX_GROUPS, shape.maxWorkgroupsPerDimension, Math.ceil(tuneRows / (workgroupSize * (kind.span ?? 1)))));
      for (const groups of groupLadder(top)) out.push({ workgroupSize, groups, ...kind });
    }
  }
  return out;
}

/** The kernel as a tuning variant, keyed by its text at workgroups of 64 (the model's program and its width). */
export function linearPredictorVariant(program: SampleProgram, shape: LinearPredictorShape, n: number, maxPerDim: number, maxWorkgroupStorage: number, code?: string): FormulaKernelVariant {
  return {
    family: LINEAR_PREDICTOR_FAMILY,
    shape: formulaShapeClass(linearPredictorWgsl(program, shape, 64, maxWorkgroupStorage), n, program.rowWidth),
    candidates: linearPredictorCandidates,
    build: (device, config, buffers) => createLinearPredictorPasses(device, program, shape, config, maxPerDim, buffers, 1, code),
  };
}
