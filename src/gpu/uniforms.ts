// Host packing (and read-back) of the structs in shaders/shared/linear_layout.wgsl, standardize.wgsl and
// read_bandwidth.wgsl (all 16-byte multiples); test/node/uniforms.test.ts and wgsl-structs.test.ts check them.
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

/** StandardizeUniforms { count_x, rows: u32, y_mean, y_inv_std: f32 } for a chunk of `rows` samples of d features. */
export function packStandardizeUniforms(rows: number, d: number, yMean: number, yStd: number): ArrayBuffer {
  const buf = new ArrayBuffer(16);
  new Uint32Array(buf, 0, 2).set([rows * d, rows]);
  new Float32Array(buf, 8, 2).set([yMean, 1 / yStd]);
  return buf;
}

/** TrainState { status, step: u32, best_loss: f32, _pad: u32 } as apply_update.wgsl keeps it between steps. */
export const TRAIN_STATE_BYTES = 16;

export interface TrainStateValues {
  status: number;
  step: number;
  bestLoss: number;
}

export function packTrainState(v: TrainStateValues): ArrayBuffer {
  const buf = new ArrayBuffer(TRAIN_STATE_BYTES);
  new Uint32Array(buf).set([v.status, v.step]);
  new Float32Array(buf)[2] = v.bestLoss;
  return buf;
}

/** Reads a TrainState that starts at byte `offset` of a read-back buffer. */
export function readTrainState(raw: ArrayBuffer, offset = 0): TrainStateValues {
  const u = new Uint32Array(raw, offset, 2);
  return { status: u[0], step: u[1], bestLoss: new Float32Array(raw, offset + 8, 1)[0] };
}

/** ReadUniforms { count, num_groups, groups_x, _pad: u32 } of read_bandwidth.wgsl; count in elements of the load type. */
export function packReadUniforms(count: number, numGroups: number, groupsX: number): ArrayBuffer {
  return new Uint32Array([count, numGroups, groupsX, 0]).buffer;
}
