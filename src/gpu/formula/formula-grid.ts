// The grid of a formula model's pass 1 (shaders/formula_partials.wgsl) as data: which configurations exist,
// the untuned default, what the tuner tries and under which key. Pure, unit-tested without a GPU.
import { chooseWorkgroupSize, type DeviceShape } from '../dispatch.ts';
import type { ShapeClass } from '../tuning/cache.ts';

/**
 * Rows a thread sums plainly before each compensated fold (formula_partials.wgsl's BLOCK; a multiple of 4,
 * its quads of rows). 64, as the quad kernel's blocks: a fold costs about ten operations per output, which at
 * 16 rows a block was a quarter of a linear model's row work on SwiftShader; the plain block adds ~64 eps.
 */
export const FORMULA_BLOCK = 64;
/** Largest grid: more workgroups than any SwiftShader wants, enough to fill a large GPU. */
export const FORMULA_MAX_GROUPS = 4096;
/** Workgroup sizes tried (those within the adapter's limit): the same list on every adapter. */
export const FORMULA_WORKGROUP_SIZES = [64, 256] as const;
/**
 * Bytes of rows the tuner times over (a prefix of the data): more than a core's L2 holds, so that the layout
 * is chosen where large data runs (over a 4 MiB prefix, in this machine's 2 MiB L2 caches, SwiftShader ran
 * y ~ exp(linear(16 columns)) strided and blocked alike and the tuner picked strided, 144 ms a gradient at
 * 2^22 rows where blocked ran 90 ms); a second or two of timing on a software adapter.
 */
export const FORMULA_TUNE_BYTES = 32 * 2 ** 20;
/**
 * Most rows the validation of a kernel at creation reads (float64 reference on the host, row by row). A
 * prime: with a power of two, any power-of-two grid gives every thread whole blocks of rows, so the
 * remainder loop of formula_partials.wgsl would go unchecked on every dataset of 4096 rows or more.
 */
export const FORMULA_CHECK_ROWS = 4093;

export const FORMULA_FAMILY = 'formula.partials';

/**
 * Most outputs (sums) one generated kernel keeps in each thread, 512 parameters and the loss: its body grows
 * with them, and SwiftShader took 44 s to compile a kernel of 513 and lost the device compiling one of 1,025.
 * A program of more runs as several kernels, each a pass over the rows keeping a slice of the sums
 * (formula-passes.ts: outputSlices); wider generalised linear models run the linear predictor kernel instead.
 */
export const FORMULA_MAX_SUMS = 513;

/**
 * How a thread's rows lie (the pass-1 kernels' BLOCKED override): 'strided', a block's quads a grid apart
 * (neighbouring threads read neighbouring quads, what a hardware GPU coalesces); 'blocked', a block's quads
 * consecutive and the blocks a grid apart (what a CPU-backed adapter, running a workgroup a few lanes at a
 * time through the whole loop, streams). Tuned per adapter like the grid.
 */
export type FormulaLayout = 'strided' | 'blocked';
export const FORMULA_LAYOUTS: readonly FormulaLayout[] = ['strided', 'blocked'];
/**
 * Blocked: consecutive blocks a thread takes before its next grid step (the kernels' SPAN). Longer runs read
 * faster on SwiftShader (2^22 rows, poisson16 98 -> 90 ms, exp-decay 18.1 -> 15.5 ms at 16 blocks), but
 * leave the threads past the data idle on small batches: tuned, one and sixteen.
 */
export const FORMULA_SPANS = [1, 16] as const;

export interface FormulaKernelConfig {
  workgroupSize: number;
  /** Workgroups of pass 1 = partials rows the reduce folds. */
  groups: number;
  /** Default 'strided' (tables written before there was a choice hold strided grids). */
  layout?: FormulaLayout;
  /** Blocked only: consecutive blocks a thread takes (FORMULA_SPANS); default 1. */
  span?: number;
}

export function isFormulaKernelConfig(c: unknown): c is FormulaKernelConfig {
  if (typeof c !== 'object' || c === null) return false;
  const { workgroupSize, groups, layout, span } = c as Record<string, unknown>;
  return Number.isInteger(workgroupSize) && (workgroupSize as number) >= 1 && Number.isInteger(groups) && (groups as number) >= 1
    && (layout === undefined || FORMULA_LAYOUTS.includes(layout as FormulaLayout))
    && (span === undefined || (layout === 'blocked' && Number.isInteger(span) && (span as number) >= 1));
}

/** The pass-1 kernels' pipeline constants for a grid. */
export function formulaKernelConstants(c: FormulaKernelConfig): Record<string, number> {
  return { WG: c.workgroupSize, BLOCKED: c.layout === 'blocked' ? 1 : 0, SPAN: c.span ?? 1 };
}

/** For messages and reports: "64 x 8", "64 x 8 blocked" or "64 x 8 blocked span 16". */
export function describeFormulaConfig(c: FormulaKernelConfig): string {
  return `${c.workgroupSize} x ${c.groups}${c.layout === 'blocked' ? ' blocked' : ''}${(c.span ?? 1) > 1 ? ` span ${c.span}` : ''}`;
}

export function checkFormulaConfig(c: FormulaKernelConfig, shape: DeviceShape): void {
  if (!isFormulaKernelConfig(c)) {
    throw new RangeError(`formula kernel: expected positive integers { workgroupSize, groups }, a layout of ${FORMULA_LAYOUTS.join(' or ')} and, blocked, a positive span, got ${JSON.stringify(c)}`);
  }
  if (c.workgroupSize > shape.maxWorkgroupSize || (c.workgroupSize & (c.workgroupSize - 1)) !== 0) {
    throw new RangeError(`formula kernel: workgroupSize ${c.workgroupSize} must be a power of two within the adapter's ${shape.maxWorkgroupSize}`);
  }
  if (c.groups > Math.min(FORMULA_MAX_GROUPS, shape.maxWorkgroupsPerDimension)) {
    throw new RangeError(`formula kernel: ${c.groups} groups exceed ${Math.min(FORMULA_MAX_GROUPS, shape.maxWorkgroupsPerDimension)}`);
  }
}

/**
 * The untuned grid: on a software adapter (its workgroups run on a few CPU threads; 2-16 of 64 were best in
 * every measured sweep) 8 workgroups of 64, blocked; on hardware workgroups of 256 with about 4 blocks of rows
 * per thread, up to FORMULA_MAX_GROUPS, strided.
 */
export function defaultFormulaConfig(rows: number, shape: DeviceShape, software: boolean): FormulaKernelConfig {
  const cap = Math.min(FORMULA_MAX_GROUPS, shape.maxWorkgroupsPerDimension);
  if (software) {
    const workgroupSize = chooseWorkgroupSize(shape, 64);
    return { workgroupSize, groups: Math.max(1, Math.min(8, cap, Math.ceil(rows / workgroupSize))), layout: 'blocked' };
  }
  const workgroupSize = chooseWorkgroupSize(shape, 256);
  return { workgroupSize, groups: Math.max(1, Math.min(cap, Math.ceil(rows / (workgroupSize * 4 * FORMULA_BLOCK)))) };
}

/** Sums the workgroup reduces per round: all S when its scratch (WG x rows floats) fits, else fewer rounds. */
export function formulaTreeRows(outputs: number, workgroupSize: number, maxWorkgroupStorage: number): number {
  const fit = Math.floor(maxWorkgroupStorage / (workgroupSize * 4));
  if (fit < 1) throw new RangeError(`formula kernel: one row of ${workgroupSize} floats exceeds ${maxWorkgroupStorage} bytes of workgroup memory`);
  return Math.min(outputs, fit, 16);
}

/** Rows of the tuning prefix: FORMULA_TUNE_BYTES of the data, at least one, at most n. */
export function formulaTuneRows(n: number, rowWidth: number): number {
  return Math.max(1, Math.min(n, Math.floor(FORMULA_TUNE_BYTES / ((rowWidth + 1) * 4))));
}

/**
 * Outputs (P + 1 sums a row) above which a software adapter tunes fewer kernels: each layout, span and
 * workgroup size is a pipeline of its own, and there a wide kernel takes seconds to compile (y ~ linear(256
 * columns): 55 s to create the engine over six; workgroups of 256 and spans of 16 were never faster there,
 * 35.7 and 23.9 ms against 22.3 ms a gradient at 64, strided).
 */
export const SOFTWARE_WIDE_OUTPUTS = 64;

/**
 * Ladders (one per layout, span and workgroup size) of growing grids: powers of two up to one block (or span
 * of blocks) of rows per thread of the tuning prefix (more leaves threads idle), at most FORMULA_MAX_GROUPS.
 * A wide program (more than SOFTWARE_WIDE_OUTPUTS outputs) on a software adapter: workgroups of 64 and spans
 * of one block only.
 */
export function formulaCandidates(tuneRows: number, shape: DeviceShape, wideOnSoftware = false): FormulaKernelConfig[] {
  const sizes = FORMULA_WORKGROUP_SIZES.filter((wg) => wg <= shape.maxWorkgroupSize && (!wideOnSoftware || wg === FORMULA_WORKGROUP_SIZES[0]));
  if (sizes.length === 0) sizes.push(chooseWorkgroupSize(shape) as 64);
  const out: FormulaKernelConfig[] = [];
  const spans = wideOnSoftware ? [1] : FORMULA_SPANS;
  const kinds: Pick<FormulaKernelConfig, 'layout' | 'span'>[] = [{ layout: 'strided' }, ...spans.map((span) => ({ layout: 'blocked' as const, span }))];
  for (const kind of kinds) {
    const span = kind.span ?? 1;
    for (const workgroupSize of sizes) {
      const top = Math.max(1, Math.min(FORMULA_MAX_GROUPS, shape.maxWorkgroupsPerDimension, Math.ceil(tuneRows / (workgroupSize * FORMULA_BLOCK * span))));
      for (const groups of groupLadder(top)) out.push({ workgroupSize, groups, ...kind });
    }
  }
  return out;
}

/** One ladder's group counts: the powers of two below `top`, then `top`. */
export function groupLadder(top: number): number[] {
  const out: number[] = [];
  for (let groups = 1; groups < top; groups *= 2) out.push(groups);
  out.push(top);
  return out;
}

/** A candidate's ladder: its layout (and span) and workgroup size. */
export function formulaLadder(c: FormulaKernelConfig): string {
  return `${c.layout ?? 'strided'}${(c.span ?? 1) > 1 ? ` span${c.span}` : ''} wg${c.workgroupSize}`;
}

/** FNV-1a (32 bits) of the generated program text, as 8 hex digits: the tuning key's program. */
export function programHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * The tuning key's shape class: the program (its hash: another formula or loss is another kernel), the row
 * width and log2 of the rows up to the tuning prefix (larger data shares one entry).
 */
export function formulaShapeClass(program: string, n: number, rowWidth: number): ShapeClass {
  const rows = Math.min(n, formulaTuneRows(Infinity, rowWidth));
  return { program: programHash(program), rowWidth, log2Rows: Math.ceil(Math.log2(Math.max(1, rows))) };
}

/**
 * Workgroup size of the small passes of a formula's training step (the history ring and the optimizer update,
 * O(P) work): the power of two that covers the P parameters, between 32 and 256. Threads past P idle, and a
 * software adapter pays for every invocation: on SwiftShader, 100 full-batch steps of y ~ linear(x) over 4096
 * rows took 65 ms with workgroups of 256 and 28 ms with 32 (linear(16 columns): 86 and 51 ms).
 */
export function stepWorkgroupSize(params: number): number {
  return Math.min(256, Math.max(32, 2 ** Math.ceil(Math.log2(Math.max(1, params)))));
}
