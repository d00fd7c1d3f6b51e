// The in-memory modes read every format the package reads, end to end on the CPU path: a Parquet file and a
// JSON Lines file of the same rows each train the formula mode's default model to the same fit, with the
// missing value dropped and counted and a column of text refused by name; an Arrow file and the linear mode
// read the same way; bytes with no known name are refused, saying which names are read.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { Float64, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { seededUniform } from '../../src/data/shuffle.ts';
import { parquetBytes } from '../node/data-parquet-writer.ts';
import { filePayload, formulaLayoutState, num, openPage, train, typeFormula, upload, useSite, waitForState } from './page.ts';

const site = useSite();

// y = 500 (1 - exp(-x)) + noise (σ = 10), the default formula's truth; row 8's x is missing; "who" is text.
const N = 400;
const rand = seededUniform(7);
const x = Array.from({ length: N }, (_, i) => (i === 7 ? null : Number((5 * rand()).toFixed(5))));
const y = x.map((v) => {
  const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return Number((500 * (1 - Math.exp(-(v ?? 1))) + 10 * z).toFixed(4));
});
const who = x.map((_, i) => `p${i}`);

const parquet = parquetBytes([{ name: 'x', type: 'DOUBLE', values: x }, { name: 'who', type: 'UTF8', values: who }, { name: 'y', type: 'DOUBLE', values: y }], 128);
const jsonl = x.map((v, i) => JSON.stringify({ x: v, who: who[i], y: y[i] })).join('\n');
const arrow = tableToIPC(new Table({
  x: vectorFromArray(x, new Float64()), who: vectorFromArray(who, new Utf8()), y: vectorFromArray(y, new Float64()),
}), 'file');
const dropped = `(N = ${N - 1}, 1 row with missing values dropped)`;

/** Trains the default formula from its preset start and returns the parameters it reaches. */
async function trainDefault(page: Page): Promise<{ b1: number; b2: number }> {
  const loss0 = await num(page, '#f-loss-value');
  await page.fill('#f-epochs', '2000');
  await page.click('#f-train');
  await formulaLayoutState(page, ['done', 'diverged', 'error'], 150_000);
  expect(await page.getAttribute('#formula-layout', 'data-state'), (await page.textContent('#f-status'))!).toBe('done');
  expect(await num(page, '#f-loss-value')).toBeLessThan(loss0 / 100);
  return { b1: await num(page, '#f-params output[data-now="b1"]'), b2: await num(page, '#f-params output[data-now="b2"]') };
}

const dataError = (page: Page) => page.evaluate(() => {
  const e = document.getElementById('f-data-error')!;
  return e.hidden ? null : e.textContent;
});

describe('demo page: the in-memory modes read every format', () => {
  it('formula mode: a Parquet and a JSON Lines file train to the same fit; Arrow and a nameless binary', async () => {
    const { page, problems, close } = await openPage(site.browser, `${site.server.url}?cpu=1`);
    try {
      await page.check('#mode-formula');
      await formulaLayoutState(page, ['ready']);
      expect(await page.getAttribute('#f-file-input', 'accept')).toBe('.csv,.json,.jsonl,.ndjson,.parquet,.arrow,.arrows,.feather,.f32');
      expect(await page.inputValue('#f-formula')).toBe('y ~ b1*(1-exp(-b2*x))');

      await upload(page, 'd.parquet', parquet);
      expect(await page.textContent('#f-dataset-label')).toBe(`d.parquet: y from x ${dropped}`);
      expect(await dataError(page)).toBeNull();
      const fromParquet = await trainDefault(page);
      expect(Math.abs(fromParquet.b1 - 500), `b1 = ${fromParquet.b1}`).toBeLessThan(10);
      expect(Math.abs(fromParquet.b2 - 1), `b2 = ${fromParquet.b2}`).toBeLessThan(0.05);
      // A column of text named by the formula is an error at the name, as for a CSV.
      await typeFormula(page, 'y ~ b1*(1-exp(-b2*who))');
      expect(await page.textContent('#f-formula-error')).toMatch(/^"who" is a column of d\.parquet but not numeric/);
      await typeFormula(page, 'y ~ b1*(1-exp(-b2*x))');

      await upload(page, 'd.jsonl', jsonl);
      expect(await page.textContent('#f-dataset-label')).toBe(`d.jsonl: y from x ${dropped}`);
      const fromJsonl = await trainDefault(page);
      // The same rows in float32 either way, the same float64 twin: the same fit.
      expect(fromJsonl.b1).toBeCloseTo(fromParquet.b1, 6);
      expect(fromJsonl.b2).toBeCloseTo(fromParquet.b2, 8);

      await upload(page, 'd.arrow', arrow);
      expect(await page.textContent('#f-dataset-label')).toBe(`d.arrow: y from x ${dropped}`);
      await typeFormula(page, 'z ~ b1*(1-exp(-b2*x))');
      expect(await page.textContent('#f-formula-error')).toMatch(/^the target "z" is not a column of the data \(columns: x, who, y\)/);

      await upload(page, 'data.bin', parquet);
      expect(await dataError(page)).toBe('data.bin could not be read, so there is no data to train on: data.bin: not text, and the name does not say ' +
        'which format it is: it must end in .csv, .json, .jsonl, .ndjson, .parquet, .arrow, .arrows, .feather or .f32. Choose another file, or use the generated data.');
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('linear mode: a Parquet file is read and trained on', async () => {
    const { page, problems, close } = await openPage(site.browser, `${site.server.url}?cpu=1`);
    try {
      expect(await page.getAttribute('#file-input', 'accept')).toBe('.csv,.json,.jsonl,.ndjson,.parquet,.arrow,.arrows,.feather,.f32');
      await page.setInputFiles('#file-input', filePayload('d.parquet', parquet));
      await page.waitForFunction(() => document.getElementById('dataset-label')?.textContent?.startsWith('d.parquet'), undefined, { timeout: 60_000 });
      await waitForState(page, ['ready']);
      expect(await page.textContent('#dataset-label')).toBe(`d.parquet: y from x ${dropped}`);
      expect(await page.$$eval('#target-select option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['x', 'y']);
      expect(await page.isHidden('#file-error')).toBe(true);
      expect(await train(page, 50)).toMatch(/done|converged/);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
