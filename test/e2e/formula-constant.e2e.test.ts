// The formula mode on a file with a model of parameters alone, y ~ c (as the CLI takes it): the page reads
// the target alone, trains and fits c to the mean on WebGPU, and plots the target by row with ŷ across it.
import { describe, expect, it } from 'vitest';
import { seededUniform } from '../../src/data/shuffle.ts';
import { formulaLayoutState, num, openPage, probeCanvas, typeFormula, upload, useSite } from './page.ts';

const site = useSite();

describe('demo page, formula mode: a model that reads no column', () => {
  it('y ~ c on a file trains and fits c to the target\'s mean, and plots the target by row', async () => {
    const { page, problems, close } = await openPage(site.browser, site.server.url);
    try {
      const rand = seededUniform(11);
      const lines = ['x,y'];
      const ys: number[] = [];
      for (let i = 0; i < 300; i++) {
        const y = Number((7 + 4 * (rand() - 0.5)).toFixed(4));
        ys.push(y);
        lines.push(`${rand().toFixed(4)},${i === 5 ? '' : y}`); // row 6's target is missing: dropped
      }
      const kept = ys.filter((_, i) => i !== 5);
      const mean = kept.reduce((a, b) => a + b, 0) / kept.length;
      await page.check('#mode-formula');
      await formulaLayoutState(page, ['ready']);
      await upload(page, 'level.csv', lines.join('\n'));
      await typeFormula(page, 'y ~ c');
      await page.fill('#f-params input[data-param="c"][data-role="start"]', '0');
      await formulaLayoutState(page, ['ready', 'error']);
      expect(await page.getAttribute('#formula-layout', 'data-state'), (await page.textContent('#f-status'))!).toBe('ready');
      expect(await page.isHidden('#f-data-error')).toBe(true);
      expect(await page.textContent('#f-dataset-label')).toBe('level.csv: y alone (the model reads no other column: c is a parameter) (N = 299, 1 row with missing values dropped)');
      expect(await page.getAttribute('#f-device', 'data-engine')).toBe('gpu');
      expect(await page.getAttribute('#f-fit', 'data-kind')).toBe('by-row');
      expect(await page.textContent('#f-fit-note')).toMatch(/^y by row .* the model reads no column, so ŷ is the same for every row/);

      await page.fill('#f-lr', '0.1');
      await page.fill('#f-epochs', '300');
      await page.click('#f-train');
      await formulaLayoutState(page, ['done', 'diverged', 'error'], 120_000);
      expect(await page.getAttribute('#formula-layout', 'data-state'), (await page.textContent('#f-status'))!).toBe('done');
      const c = Number(await page.getAttribute('#f-params output[data-now="c"]', 'data-value'));
      expect(Math.abs(c - mean), `c = ${c}, mean ${mean}`).toBeLessThan(1e-3);
      expect(await num(page, '#f-loss-value')).toBeLessThan(2); // the variance of U(-2, 2): 4/3
      // The level line at c and the points about it are drawn.
      expect((await probeCanvas(page, '#f-fit', [60, 10, 480, 280], [])).inked).toBeGreaterThan(0.01);

      await page.click('#f-fit-lm');
      await page.waitForFunction(() => ['done', 'stopped', 'failed'].includes(document.getElementById('f-lm')?.dataset.state ?? ''), undefined, { timeout: 120_000 });
      expect(await page.getAttribute('#f-lm', 'data-state'), (await page.textContent('#f-lm-error'))!).toBe('done');
      const estimate = await num(page, '#f-lm-table tr[data-param="c"] td[data-key="estimate"]');
      expect(Math.abs(estimate - mean) / mean, `estimate ${estimate}, mean ${mean}`).toBeLessThan(1e-5);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
