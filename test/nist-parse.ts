// NIST StRD nonlinear regression files (test/fixtures/nist/*.dat, from the ceres-solver repository's copy
// of https://www.itl.nist.gov/div898/strd/nls/): the model line as a formula, the two starts, the
// certified estimates and standard deviations, the certified residual sum of squares, and the data. No
// Node imports: the browser tests parse the same files.
export interface NistProblem {
  name: string;
  formula: string;
  params: string[];
  starts: [number[], number[]];
  certified: number[];
  certifiedSd: number[];
  rss: number;
  x: Float64Array;
  y: Float64Array;
}

/** A problem from its file's text (the browser tests import the file with ?raw). */
export function parseNist(name: string, text: string): NistProblem {
  const lines = text.split(/\r?\n/);
  const modelAt = lines.findIndex((l) => /^\s*y\s*=/.test(l));
  let model = lines[modelAt].trim();
  for (let k = modelAt + 1; !/\+\s*e\s*$/.test(model); k++) model += ' ' + lines[k].trim();
  const rhs = model.replace(/^y\s*=\s*/, '').replace(/\+\s*e\s*$/, '').replace(/\[/g, '(').replace(/\]/g, ')').replace(/\bexp\(/g, 'exp(');
  const params: string[] = [];
  const starts: [number[], number[]] = [[], []];
  const certified: number[] = [];
  const certifiedSd: number[] = [];
  for (const l of lines) {
    const m = /^\s*(b\d+)\s*=\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/.exec(l);
    if (!m) continue;
    params.push(m[1]);
    starts[0].push(Number(m[2]));
    starts[1].push(Number(m[3]));
    certified.push(Number(m[4]));
    certifiedSd.push(Number(m[5]));
  }
  const rss = Number(/Residual Sum of Squares:\s*(\S+)/.exec(text)![1]);
  const dataAt = lines.findIndex((l) => /^\s*Data:\s*y\s+x/.test(l));
  const rows = lines.slice(dataAt + 1).map((l) => l.trim()).filter((l) => l !== '').map((l) => l.split(/\s+/).map(Number));
  return { name, formula: `y ~ ${rhs}`, params, starts, certified, certifiedSd, rss, x: Float64Array.from(rows, (r) => r[1]), y: Float64Array.from(rows, (r) => r[0]) };
}
