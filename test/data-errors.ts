// Shared by the data tests: fixture paths, and the DataError a call must end in.
import { expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { DataError } from '../src/data/errors.ts';

export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

export function dataErrorOf(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError, nothing was thrown');
}

export async function asyncDataErrorOf(p: Promise<unknown> | (() => Promise<unknown>)): Promise<DataError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError, nothing was thrown');
}
