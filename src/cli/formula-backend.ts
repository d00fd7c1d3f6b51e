// Where a formula model trains: the fast CPU path (src/cpu-fast/formula-engine.ts: the generated row sums on
// float32 shards over worker threads, bit-identical for every thread count) or the float64 twin (cpu64).
// The GPU engine implements the same FormulaEngine API and takes its place here when the CLI's page can run
// it; until then --device gpu with a formula is refused by name, and auto says on stderr that it uses the CPU.
import type { FormulaModel } from '../formula/model.ts';
import type { FormulaData, FormulaEngine } from '../models/formula.ts';
import { CpuFormulaEngine } from '../cpu/formula-engine.ts';
import { FastCpuFormulaEngine } from '../cpu-fast/formula-engine.ts';
import { NodeWorkerPool } from '../cpu-fast/node-pool.ts';
import { InlinePool, type ShardPool } from '../cpu-fast/pool.ts';
import { UsageError } from './args.ts';
import type { DeviceChoice } from './flags.ts';

/** Refuses, before any data is read, a device that has no formula engine in the CLI yet. */
export function checkFormulaDevice(device: DeviceChoice): void {
  if (device === 'gpu') {
    throw new UsageError('--device gpu: formula models do not run on the GPU from the command line yet; use --device cpu (the fast CPU path, also what auto picks) or cpu64');
  }
}

/** An engine and what it holds (worker threads): close() releases both. */
export interface OpenedFormulaEngine {
  engine: FormulaEngine;
  close(): void;
}

/** The fast path's worker threads (auto says where it runs); a pool that cannot start leaves one thread. */
export async function openPool(device: DeviceChoice, notice: (message: string) => void): Promise<ShardPool> {
  if (device === 'auto') notice('formula models run on the CPU path from the command line for now (the GPU engine is not wired to the CLI yet)');
  return NodeWorkerPool.create().catch((e: Error) => {
    notice(`CPU worker threads unavailable (${e.message.split('\n')[0]}); computing on one thread`);
    return new InlinePool();
  });
}

export async function openFormulaEngine(
  device: DeviceChoice, model: FormulaModel, data: FormulaData, start: Float64Array, notice: (message: string) => void,
): Promise<OpenedFormulaEngine> {
  checkFormulaDevice(device);
  if (device === 'cpu64') {
    const engine = new CpuFormulaEngine(model, data, start);
    return { engine, close: () => engine.dispose() };
  }
  const pool = await openPool(device, notice);
  try {
    const engine = new FastCpuFormulaEngine(model, data, start, { pool });
    return { engine, close: () => { engine.dispose(); pool.dispose(); } };
  } catch (e) {
    pool.dispose();
    throw e;
  }
}
