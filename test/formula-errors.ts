// The FormulaError a formula test expects, for its reason and position.
import { FormulaError } from '../src/formula/parse.ts';

/** The FormulaError a thunk throws (fails the test when it throws nothing or something else). */
export function formulaError(f: () => unknown): FormulaError {
  try {
    f();
  } catch (e) {
    if (e instanceof FormulaError) return e;
    throw e;
  }
  throw new Error('expected a FormulaError');
}
