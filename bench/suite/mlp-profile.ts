// Per-stage GPU time of one MLP gradient evaluation (--mlp-profile): each dispatch of the engine's chain
// (forward per layer, head, grad partials and backprop per layer, reduce) timed in its own compute pass
// with gpu-timer.ts (timestamp-query where the device has it, else wall clock). The stages are read from
// the engine's MlpGradientPasses at run time (the bench must not change engine code): if their shape
// changes, the profile says so instead of failing the row.
import type { GpuContext } from '../../src/gpu/device.ts';
import type { GpuModelEngine } from '../../src/gpu/models/gpu-model-engine.ts';
import type { MlpStageProfile } from '../report.ts';
import { summarize, timeComputePasses } from './gpu-timer.ts';

interface StageLike {
  pipeline: GPUComputePipeline;
  bindGroup?: GPUBindGroup;
  bindGroups?: GPUBindGroup[];
  groups: { x: number; y: number; z?: number };
}

function stagesOf(engine: GpuModelEngine): StageLike[] | null {
  const stages = (engine as unknown as { passes?: { stages?: unknown } }).passes?.stages;
  if (!Array.isArray(stages) || stages.length === 0) return null;
  const ok = stages.every((s: Partial<StageLike>) => s?.pipeline && s.groups && (s.bindGroup || s.bindGroups?.length));
  return ok ? (stages as StageLike[]) : null;
}

const KINDS = ['forward', 'head', 'gradPartials', 'gradWeights', 'gradBiases', 'backprop', 'reduce'];

/**
 * The engine's dispatch order for L layers (mlp-passes.ts): forward 1..L, head, then from layer L down
 * gradPartials l and (for l > 1) backprop l, then reduce: 3L + 1 stages.
 */
export function stageOrder(L: number): string[] {
  const names = Array.from({ length: L }, (_, l) => `forward ${l + 1}`);
  names.push('head');
  for (let l = L; l >= 1; l--) names.push(...(l > 1 ? [`gradPartials ${l}`, `backprop ${l}`] : [`gradPartials ${l}`]));
  names.push('reduce');
  return names;
}

/**
 * Names each stage from its pipeline label ('nabla.mlp.forward.pipeline' -> 'forward 1') where the labels say
 * which kind it is, else from the dispatch order (stageOrder) when the count fits it, else by position
 * and label ('stage 3 (nabla.mlp.gemm)').
 */
export function stageNames(labels: readonly string[]): string[] {
  // Pipeline labels read e.g. 'nabla.mlp.forward.pipeline': the kind is the segment that names one.
  const kinds = labels.map((l) => l.split('.').find((part) => KINDS.includes(part)) ?? '');
  if (kinds.every((k) => KINDS.includes(k))) {
    const L = kinds.filter((k) => k === 'forward').length;
    const seen: Record<string, number> = {};
    return kinds.map((k) => {
      if (k === 'head' || k === 'reduce') return k;
      seen[k] = (seen[k] ?? 0) + 1;
      return `${k} ${k === 'forward' ? seen[k] : L + 1 - seen[k]}`;
    });
  }
  const generic = labels.every((l) => !l || l === 'pipeline');
  if (generic && (labels.length - 1) % 3 === 0 && labels.length >= 4) return stageOrder((labels.length - 1) / 3);
  return labels.map((l, k) => `stage ${k + 1}${l ? ` (${l})` : ''}`);
}

export async function profileMlpStages(gpu: GpuContext, engine: GpuModelEngine, reps = 2): Promise<MlpStageProfile | null> {
  const stages = stagesOf(engine);
  if (!stages) return null;
  const names = stageNames(stages.map((s) => s.pipeline.label));
  const out: MlpStageProfile = { method: 'wall-clock', stages: [], totalMs: 0, notes: [] };
  for (const [k, s] of stages.entries()) {
    const bindGroup = s.bindGroup ?? s.bindGroups![0];
    const t = await timeComputePasses(gpu, reps, 1, (pass) => {
      pass.setPipeline(s.pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(s.groups.x, s.groups.y, s.groups.z ?? 1);
    });
    out.method = t.method;
    out.notes.push(...t.notes.map((note) => `${names[k]}: ${note}`));
    const ms = summarize(t.samples).median;
    out.stages.push({ name: names[k], ms, workgroups: s.groups.x * s.groups.y * (s.groups.z ?? 1) });
    out.totalMs += ms;
  }
  return out;
}
