// NIST StRD problems read from test/fixtures/nist/ in Node (parsing: nist-parse.ts).
import { readFileSync } from 'node:fs';
import { parseNist, type NistProblem } from './nist-parse.ts';

export type { NistProblem };

export function readNist(name: string): NistProblem {
  return parseNist(name, readFileSync(new URL(`./fixtures/nist/${name}.dat`, import.meta.url), 'utf8'));
}
