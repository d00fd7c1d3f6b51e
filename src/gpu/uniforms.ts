// Uniform packing for the structs in shaders/shared/linear_layout.wgsl (all 16-byte multiples).
import type { SliceSpec } from './data-layout.ts';

/** LinearGridUniforms { n, num_tiles, num_groups, groups_x, first_group, row_offset, _pad0, _pad1: u32 } */
export function packGridUniforms(slice: SliceSpec): ArrayBuffer {
  const { plan } = slice;
  return new Uint32Array([slice.rows, plan.numTiles, plan.numGroups, plan.groupsX, slice.firstGroup, slice.rowOffset, 0, 0]).buffer;
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
