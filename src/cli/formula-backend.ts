// Where a formula model trains on the CPU: the fast path (src/cpu-fast/formula-engine.ts: the generated row
// sums on float32 shards over worker threads, bit-identical for every thread count) or the float64 twin
// (cpu64). The GPU (--device gpu, or auto on a hardware adapter) runs in the headless page instead
// (formula-gpu.ts); openGpuSession (backend.ts) decides, and says why when auto stays on the CPU.
import type { FormulaModel } from '../formula/model.ts';
import type { FormulaData, FormulaEngine } from '../models/formula.ts';
import { CpuFormulaEngine } from '../cpu/formula-engine.ts';
import { FastCpuFormulaEngine } from '../cpu-fast/formula-engine.ts';
import { NodeWorkerPool } from '../cpu-fast/node-pool.ts';
import { InlinePool, type ShardPool } from '../cpu-fast/pool.ts';

/** An engine and what it holds (worker threads): close() releases both. */
export interface OpenedFormulaEngine {
  engine: FormulaEngine;
  close(): void;
}

/** The fast path's worker threads; a pool that cannot start leaves one thread. */
export async function openPool(notice: (message: string) => void): Promise<ShardPool> {
  return NodeWorkerPool.create().catch((e: Error) => {
    notice(`CPU worker threads unavailable (${e.message.split('\n')[0]}); computing on one thread`);
    return new InlinePool();
  });
}

/** reference: the float64 twin (cpu64) instead of the fast path. */
export async function openFormulaEngine(
  reference: boolean, model: FormulaModel, data: FormulaData, start: Float64Array, notice: (message: string) => void,
): Promise<OpenedFormulaEngine> {
  if (reference) {
    const engine = new CpuFormulaEngine(model, data, start);
    return { engine, close: () => engine.dispose() };
  }
  const pool = await openPool(notice);
  try {
    const engine = new FastCpuFormulaEngine(model, data, start, { pool });
    return { engine, close: () => { engine.dispose(); pool.dispose(); } };
  } catch (e) {
    pool.dispose();
    throw e;
  }
}
