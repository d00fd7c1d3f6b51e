// Uniform packing for the structs in shaders/shared/linear_layout.wgsl (all 16-byte multiples).
import type { LinearGridPlan } from './dispatch.ts';

/** LinearGridUniforms { n, num_tiles, num_groups, groups_x: u32 } */
export function packGridUniforms(n: number, plan: LinearGridPlan): ArrayBuffer {
  return new Uint32Array([n, plan.numTiles, plan.numGroups, plan.groupsX]).buffer;
}

/** ReduceUniforms { num_groups: u32, components: u32, inv_n: f32, _pad: u32 } */
export function packReduceUniforms(numGroups: number, d: number, n: number): ArrayBuffer {
  const buf = new ArrayBuffer(16);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  u[0] = numGroups;
  u[1] = d + 2;
  f[2] = 1 / n;
  return buf;
}

export interface UpdateUniformValues {
  lr: number;
  tol: number;
  explodeFactor: number;
  maxUpdates: number;
  params: number;
  historyCap: number;
}

/** UpdateUniforms { lr, tol, explode_factor: f32, max_updates, params, history_cap, _pad0, _pad1: u32 } */
export function packUpdateUniforms(v: UpdateUniformValues): ArrayBuffer {
  const buf = new ArrayBuffer(32);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  f[0] = v.lr;
  f[1] = v.tol;
  f[2] = Math.min(v.explodeFactor, 3.4e38);
  u[3] = Math.min(v.maxUpdates, 0xffffffff);
  u[4] = v.params;
  u[5] = v.historyCap;
  return buf;
}
