// --inject-fault's kernels for GpuFormulaEngine: a wrong residual in the pass-1 kernel the compiler picks for
// a model (the quad kernel for a linear shape it takes, else the generated one), so that the row it would
// time is the one that must fail. The engine checks its kernels against the float64 twin at creation, so
// the fault surfaces there ("could not build the engine: ... disagrees with the float64 twin").
import type { GpuContext } from '../../src/gpu/device.ts';
import type { GpuFormulaEngineOptions } from '../../src/gpu/formula/gpu-formula-engine.ts';
import { formulaPartialsWgsl } from '../../src/gpu/formula/formula-passes.ts';
import { linearQuadWgsl, quadTakes } from '../../src/gpu/formula/linear-quad-pass.ts';
import { gradientProgram } from '../../src/formula/program.ts';
import { linearShape } from '../../src/formula/shapes.ts';
import type { FormulaModel } from '../../src/formula/model.ts';

/** The grid a faulty kernel is run at (the engine is told exactly this grid: no table, no tuning). */
export const FAULT_KERNEL = { workgroupSize: 64, groups: 4 };

/**
 * Every binding of a row's target in the generated code, `let y_ = ...;` (a row's own load, or a lane of its
 * quad's: formula-row-code.ts): found by pattern so the fault follows the kernel as it changes.
 */
const TARGET_BINDING = /\blet y_ = ([^;]+);/g;
/** The quad kernel's residual of a whole quad, `var r = p - y4[q];` (linear-quad-codegen.ts quadBody). */
const QUAD_RESIDUAL = /(\br\s*=\s*p\s*-\s*)(y4\[[^\]]+\])/;

/** The generated kernel with every row's target read as 2y: every component of (∇J, J) is off by O(1). */
export function faultyFormulaWgsl(gpu: GpuContext, model: FormulaModel): string {
  const good = formulaPartialsWgsl(gradientProgram(model), FAULT_KERNEL.workgroupSize, gpu.device.limits.maxComputeWorkgroupStorageSize);
  const bad = good.replace(TARGET_BINDING, 'let y_ = 2.0 * ($1);');
  if (bad === good) throw new Error('--inject-fault: no target binding (let y_ = ...) in the generated formula WGSL; update TARGET_BINDING');
  return bad;
}

/** The quad kernel with r = p - 2y over every whole quad. */
export function faultyQuadWgsl(model: FormulaModel): string {
  const shape = linearShape(model);
  if (!quadTakes(shape)) throw new Error('--inject-fault: the quad kernel does not take this model');
  const good = linearQuadWgsl(shape);
  const bad = good.replace(QUAD_RESIDUAL, '$12.0 * $2');
  if (bad === good) throw new Error('--inject-fault: no residual line (r = p - y4[...]) in the quad kernel\'s WGSL; update QUAD_RESIDUAL');
  return bad;
}

/** Engine options that make the kernel the compiler picks for `model` wrong (quadCode or code), at FAULT_KERNEL. */
export function faultyKernelOptions(gpu: GpuContext, model: FormulaModel): GpuFormulaEngineOptions {
  return quadTakes(linearShape(model))
    ? { quadKernel: FAULT_KERNEL, quadCode: faultyQuadWgsl(model) }
    : { kernel: FAULT_KERNEL, code: faultyFormulaWgsl(gpu, model) };
}
