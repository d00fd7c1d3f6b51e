// Controls that must agree with what the page does: the linear mode's target, feature and standardize
// controls wait while a dataset loads (each rebuilds the run from the dataset being replaced), the last
// dataset asked for is the one shown (a file chosen while a generation runs), and in the
// formula mode a file dropped on the drop zone is read, the Dataset line forgets the rows of a model that
// no longer compiles, and the contour keeps its parameters by name when the formula changes. On the CPU path
// (the same page code, quicker here).
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { formulaLayoutState, openPage, typeFormula, useSite, waitForState } from './page.ts';

const site = useSite();

const selected = (page: Page, id: string) => page.evaluate((i) => (document.getElementById(i) as HTMLSelectElement).selectedOptions[0]?.text, id);

describe('demo page: controls and what they show', () => {
  it('linear mode: target, feature and standardize wait while a dataset loads, so no choice undoes another', async () => {
    const { page, problems, close } = await openPage(site.browser, `${site.server.url}?cpu=1`);
    try {
      const rows = ['a,b,c,y'];
      for (let i = 0; i < 2000; i++) {
        const [a, b, c] = [Math.sin(i), Math.cos(3 * i), ((i * 7) % 13) / 13];
        rows.push(`${a.toFixed(5)},${b.toFixed(5)},${c.toFixed(5)},${(2 * a - b + 0.5 * c + 1).toFixed(5)}`);
      }
      await page.setInputFiles('#file-input', { name: 'three.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
      await page.waitForFunction(() => document.getElementById('dataset-label')!.textContent!.startsWith('three.csv'));
      await waitForState(page, ['ready']);
      expect(await page.isChecked('#standardize')).toBe(true);

      // The change event starts the load at once (read in the same task): a feature chosen now would rebuild
      // from the dataset of y.
      const during = await page.evaluate(() => {
        const target = document.getElementById('target-select') as HTMLSelectElement;
        target.value = 'a';
        target.dispatchEvent(new Event('change'));
        return ['target-select', 'feature-select', 'standardize'].map((id) => (document.getElementById(id) as HTMLInputElement).disabled);
      });
      expect(during).toEqual([true, true, true]);
      await page.selectOption('#feature-select', 'c'); // waits until the select is enabled again
      await page.waitForFunction(() => document.getElementById('surface-note')!.textContent!.includes('w[c]'));
      await waitForState(page, ['ready']);
      expect(await page.textContent('#dataset-label')).toBe('three.csv: a from b, c, y (N = 2000)');
      expect(await page.inputValue('#target-select')).toBe('a');

      await page.click('#standardize'); // off: waits for nothing now, and the run follows the box
      await page.waitForFunction(() => document.getElementById('space-note')!.textContent!.startsWith('Optimizing on the raw data'));
      await waitForState(page, ['ready']);
      expect(await page.isChecked('#standardize')).toBe(false);
      expect(await page.inputValue('#feature-select')).toBe('c');

      // A file chosen while a large dataset generates is the user's last choice: the generated one, done
      // later, must not replace it.
      await page.fill('#gen-n', '3000000');
      await page.click('#generate');
      await page.setInputFiles('#file-input', { name: 'later.csv', mimeType: 'text/csv', buffer: Buffer.from('u,y\n1,3\n2,5\n3,7.1\n') });
      await page.waitForFunction(() => document.getElementById('dataset-label')!.textContent!.startsWith('later.csv'), null, { timeout: 60_000 });
      await waitForState(page, ['ready']);
      await page.waitForTimeout(4000); // the generation's end (about a second here)
      expect(await page.textContent('#dataset-label')).toBe('later.csv: y from u (N = 3)');
      expect(await page.getAttribute('body', 'data-state')).toBe('ready');
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('formula mode: a dropped file is read; the Dataset line and the contour follow the formula', async () => {
    const { page, problems, close } = await openPage(site.browser, `${site.server.url}?cpu=1`);
    try {
      await page.check('#mode-formula');
      await formulaLayoutState(page, ['ready']);
      await page.evaluate(() => {
        const dt = new DataTransfer();
        dt.items.add(new File(['x,y\n1,2.1\n2,3.9\n3,6.2\n4,7.8\n'], 'dropped.csv', { type: 'text/csv' }));
        document.getElementById('f-drop-zone')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      });
      await page.waitForFunction(() => document.getElementById('f-dataset-label')!.textContent!.startsWith('dropped.csv: y from x'), null, { timeout: 60_000 });
      await formulaLayoutState(page, ['ready']);

      // A target the file does not have: no rows are selected for it, so the line names the file alone.
      await typeFormula(page, 'z ~ b1*(1-exp(-b2*x))');
      expect(await page.getAttribute('#formula-layout', 'data-state')).toBe('invalid');
      expect(await page.textContent('#f-dataset-label')).toBe('dropped.csv: 4 rows, columns x, y');

      await typeFormula(page, 'y ~ a*x^2 + b*x + c');
      for (const p of ['a', 'b', 'c']) await page.fill(`#f-params input[data-param="${p}"][data-role="start"]`, '0.1');
      await formulaLayoutState(page, ['ready']);
      await page.selectOption('#f-axis-a', { label: 'b' });
      await page.selectOption('#f-axis-b', { label: 'c' });
      // Without the a term, b and c are the parameters 0 and 1: the map still shows b across and c up.
      await typeFormula(page, 'y ~ b*x + c');
      expect([await selected(page, 'f-axis-a'), await selected(page, 'f-axis-b')]).toEqual(['b', 'c']);
      await page.waitForFunction(() => document.getElementById('f-contour-note')!.textContent!.startsWith('J over b (across) and c (up)'));
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
