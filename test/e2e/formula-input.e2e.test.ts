// The formula mode's handling of the user's input, end to end on the CPU path (the float64 twin, so that
// it runs quickly): each uploaded file replaces the previous one's messages and says what is wrong with it,
// a bad cell is named by line, column and value, a parameter without a starting value blocks training and
// is named, a start where J is not finite is reported before training, the named losses' argument, and what
// the page shows after a run cannot be built, after the optimizer changes and in the Examples menu.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { formulaLayoutState, num, openPage, typeFormula, upload, useSite } from './page.ts';

const site = useSite();
/** Types starting values and waits for the run built from them (its "now" column shows them). */
async function setStart(page: Page, values: Record<string, number>): Promise<void> {
  for (const [name, v] of Object.entries(values)) await page.fill(`#f-params input[data-param="${name}"][data-role="start"]`, String(v));
  await page.waitForFunction((vs) => document.getElementById('formula-layout')?.dataset.state === 'ready' &&
    Object.entries(vs).every(([p, v]) => document.querySelector<HTMLElement>(`#f-params output[data-now="${p}"]`)?.dataset.value === String(v)), values, { timeout: 60_000 });
}

/** The messages on screen: null where hidden. */
const messages = (page: Page) => page.evaluate(() => {
  const shown = (id: string) => {
    const e = document.getElementById(id)!;
    return e.hidden ? null : e.textContent;
  };
  return {
    formula: shown('f-formula-error'), loss: shown('f-loss-error'), data: shown('f-data-error'), params: shown('f-params-error'),
    error: shown('f-error'), status: shown('f-status'), dataset: shown('f-dataset-label'),
  };
});

const startField = (page: Page, name: string) => page.inputValue(`#f-params input[data-param="${name}"][data-role="start"]`);

describe('demo page, formula mode: the user\'s input', () => {
  it('files replace each other\'s messages; bad cells, unreadable files, missing starts and text columns are named', async () => {
    const { page, problems, close } = await openPage(site.browser, `${site.server.url}?cpu=1`);
    try {
      await page.check('#mode-formula');
      await formulaLayoutState(page, ['ready']);
      // A formula that is no example: its parameters have no start, so nothing trains until they get one.
      await typeFormula(page, 'y ~ a*x + b');
      expect(await page.getAttribute('#formula-layout', 'data-state')).toBe('invalid');
      expect(await startField(page, 'a')).toBe('');
      expect((await messages(page)).params).toBe('a and b have no starting value: a name that is not a column is a parameter; give it a value or check the column\'s spelling');
      expect((await messages(page)).status).toMatch(/^Cannot train yet: a and b have no starting value/);
      expect(await page.isDisabled('#f-train')).toBe(true);
      expect(await page.inputValue('#f-example'), 'the Examples menu shows no example for an edited formula').toBe('');
      await setStart(page, { a: 1, b: 0 });
      expect((await messages(page)).params).toBeNull();

      await upload(page, 'two.csv', 'x,y\n1,2\n2,4');
      expect(await page.getAttribute('#formula-layout', 'data-state')).toBe('ready');
      expect((await messages(page)).dataset).toBe('two.csv: y from x (N = 2)');
      await upload(page, 'overflow.csv', 'x,y\n1,1e39\n2,2\n3,3');
      const overflow = await messages(page);
      expect(overflow.data).toMatch(/^overflow\.csv line 2, column "y": "1e39" is too large for float32/);
      expect(overflow.status).toMatch(/^The data cannot be used: overflow\.csv line 2/);
      expect(overflow.dataset).toMatch(/^overflow\.csv: 3 rows/);
      expect(await page.textContent('#f-epoch'), 'no epoch of the run on two.csv').toBe('—');
      expect(await page.isDisabled('#f-train')).toBe(true);
      // A file that cannot be read replaces the data: nothing trains, and every message is about it.
      await upload(page, 'short.csv', 'x,y\n1,2\n2');
      expect(await messages(page)).toEqual({
        formula: null, loss: null, params: null, error: null,
        data: 'short.csv could not be read, so there is no data to train on: short.csv line 3: 1 field, but the header has 2. Choose another file, or use the generated data.',
        status: expect.stringMatching(/^short\.csv could not be read/),
        dataset: 'none: short.csv could not be read',
      });
      expect(await page.getAttribute('#formula-layout', 'data-state')).toBe('invalid');
      expect(await page.isVisible('#f-use-generated')).toBe(true);
      await upload(page, 'nocol.csv', 'x,z\n1,2\n2,3');
      expect(await messages(page)).toMatchObject({
        formula: expect.stringMatching(/^the target "y" is not a column of the data \(columns: x, z\)/), data: null, error: null,
        status: expect.stringMatching(/^Fix the formula to go on: the target "y" is not a column/), dataset: 'nocol.csv: 2 rows, columns x, z',
      });
      // One bad cell in the target: named by file, line, column and value, not taken for a missing column.
      await upload(page, 'badrow.csv', 'x,y\n1,2\n2,abc\n3,4\n');
      expect(await messages(page)).toMatchObject({ formula: null, data: 'badrow.csv line 3, column "y": "abc" is not a number' });
      await upload(page, 'badrow.json', '[{"x":1,"y":2},{"x":2,"y":3},{"x":3,"y":"q"}]');
      expect((await messages(page)).data).toBe('badrow.json row 3, column "y": "q" is not a number');

      // A misspelt column is a parameter without a start: it is named, and its start field is empty.
      await upload(page, 'xy.csv', 'x,y\n1,2\n2,4\n3,6\n4,8');
      await formulaLayoutState(page, ['ready']);
      await typeFormula(page, 'y ~ a*x + b*x2');
      expect(await startField(page, 'x2')).toBe('');
      expect((await messages(page)).params).toBe('x2 has no starting value: a name that is not a column is a parameter; give it a value or check the column\'s spelling');
      expect(await page.isDisabled('#f-train')).toBe(true);
      await typeFormula(page, 'y ~ a*xx + b');
      expect((await messages(page)).params).toMatch(/^xx has no starting value/);
      // A column of text named in the formula is an error at its name.
      await upload(page, 'names.csv', 'x,y,x2\n1,2,p\n2,4,q\n3,6,r');
      await typeFormula(page, 'y ~ a*x + b*x2');
      expect(await messages(page)).toMatchObject({ formula: expect.stringMatching(/^"x2" is a column of names\.csv but not numeric/), params: null });
      expect(await page.getAttribute('#f-formula-error', 'data-column')).toBe('13');
      // One row: Train works, the Levenberg-Marquardt fit is disabled and says why, in the singular.
      await upload(page, 'one.csv', 'x,y\n1,2');
      await typeFormula(page, 'y ~ a*x + b');
      await formulaLayoutState(page, ['ready']);
      expect(await page.isEnabled('#f-train')).toBe(true);
      expect(await page.isDisabled('#f-fit-lm')).toBe(true);
      expect(await page.textContent('#f-fit-why')).toBe('Levenberg-Marquardt needs more rows than parameters: 2 parameters and 1 row. Train works on any number of rows.');
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('a non-finite start, the loss\'s argument, a run that cannot be built, the optimizer, the header and the Examples menu', async () => {
    const { page, problems, close } = await openPage(site.browser, `${site.server.url}?cpu=1`);
    try {
      expect(await page.isVisible('#lede-linear')).toBe(true);
      await page.check('#mode-formula');
      await formulaLayoutState(page, ['ready']);
      expect(await page.isVisible('#lede-formula')).toBe(true);
      expect(await page.isHidden('#lede-linear')).toBe(true);
      expect(await page.inputValue('#f-example')).toBe('y ~ b1*(1-exp(-b2*x))');
      // The examples keep their own starting values.
      expect(await startField(page, 'b1')).toBe('100');

      // Train, then a loss the data cannot take: no epoch or loss of the previous run stays on screen.
      await page.fill('#f-epochs', '50');
      await page.click('#f-train');
      await formulaLayoutState(page, ['done']);
      expect(await num(page, '#f-epoch')).toBe(50);
      // Another optimizer starts the run again, and the status says why it is back at epoch 0.
      await page.selectOption('#f-optimizer', 'sgd');
      await page.waitForFunction(() => document.getElementById('f-epoch')?.dataset.value === '0');
      expect(await page.textContent('#f-status')).toBe('The optimizer changed to gradient descent, so the run was reset to the starting values: press Train.');
      await page.selectOption('#f-optimizer', 'adam');
      await page.click('#f-train');
      await formulaLayoutState(page, ['done']);
      await page.selectOption('#f-loss', 'logistic');
      await formulaLayoutState(page, ['error']);
      expect(await page.textContent('#f-epoch')).toBe('—');
      expect(await page.textContent('#f-loss-value')).toBe('—');

      // The named losses' argument: a field for huber's δ, checked inline, and used.
      expect(await page.isHidden('#f-loss-arg')).toBe(true);
      await page.selectOption('#f-loss', 'huber');
      await formulaLayoutState(page, ['ready']);
      expect(await page.isVisible('#f-loss-arg')).toBe(true);
      expect(await page.inputValue('#f-loss-arg')).toBe('1');
      expect(await page.textContent('#f-loss-arg-label')).toMatch(/^δ/);
      const j1 = await num(page, '#f-loss-value');
      await page.fill('#f-loss-arg', '-1');
      await page.waitForSelector('#f-loss-error:not([hidden])');
      expect(await page.textContent('#f-loss-error')).toBe('the huber loss\'s δ must be positive');
      expect(await page.getAttribute('#formula-layout', 'data-state')).toBe('invalid');
      expect(await page.isDisabled('#f-train')).toBe(true);
      await page.fill('#f-loss-arg', '20');
      await page.waitForFunction((j) => document.getElementById('formula-layout')?.dataset.state === 'ready' &&
        document.getElementById('f-loss-value')?.dataset.value !== String(j), j1);
      expect(await page.isHidden('#f-loss-error')).toBe(true);
      // δ = 20 against residuals of hundreds: J grows about 20-fold.
      expect(await num(page, '#f-loss-value')).toBeGreaterThan(5 * j1);
      expect(await page.textContent('label[for="f-loss-custom"]')).toMatch(/name:argument \(huber:2/);
      await page.selectOption('#f-loss', 'mse');
      await formulaLayoutState(page, ['ready']);
      expect(await page.isHidden('#f-loss-arg')).toBe(true);

      // Not finite at the start (log of x − b2 < 0): said before training, Train disabled, until the start changes.
      await typeFormula(page, 'y ~ b1*log(x - b2)');
      expect(await page.inputValue('#f-example')).toBe('');
      await page.fill('#f-params input[data-param="b2"][data-role="truth"]', '-1');
      await page.fill('#f-params input[data-param="b1"][data-role="start"]', '1');
      await page.fill('#f-params input[data-param="b2"][data-role="start"]', '1');
      await page.waitForFunction(() => /^J is not finite at the starting values/.test(document.getElementById('f-error')?.textContent ?? ''), undefined, { timeout: 60_000 });
      expect(await page.textContent('#f-error')).toMatch(/^J is not finite at the starting values \(J = NaN\): first at row \d+ of the data \(x = 0\.\d+, y = /);
      expect(await page.textContent('#f-status')).toBe(await page.textContent('#f-error'));
      expect(await page.getAttribute('#formula-layout', 'data-state')).toBe('invalid');
      expect(await page.isDisabled('#f-train')).toBe(true);
      await setStart(page, { b2: -2 });
      expect(await page.isHidden('#f-error')).toBe(true);
      expect(await page.isEnabled('#f-train')).toBe(true);
      await page.fill('#f-lr', '0.01'); // b2 stays below the smallest x
      await page.click('#f-train');
      await formulaLayoutState(page, ['done', 'diverged', 'error'], 120_000);
      expect(await page.getAttribute('#formula-layout', 'data-state'), (await page.textContent('#f-status'))!).toBe('done');

      await page.check('#mode-linear');
      expect(await page.isVisible('#lede-linear')).toBe(true);
      expect(await page.isHidden('#lede-formula')).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('a model over many columns renders its derivation in time, the far parameters on demand; an invalid formula clears the last run\'s numbers', async () => {
    const { page, problems, close } = await openPage(site.browser, `${site.server.url}?cpu=1`);
    try {
      await page.check('#mode-formula');
      await formulaLayoutState(page, ['ready']);
      // At a wide viewport the loss controls keep their width (the long custom-loss label once took 1485 of 1500 px).
      await page.setViewportSize({ width: 1500, height: 1000 });
      for (const id of ['#f-example', '#f-loss', '#f-loss-custom']) {
        expect(await page.$eval(id, (e) => e.getBoundingClientRect().width), id).toBeGreaterThan(100);
      }
      const cols = Array.from({ length: 60 }, (_, k) => `x${k + 1}`);
      const rows = Array.from({ length: 80 }, (_, i) => [...cols.map((_, k) => ((i * (k + 3)) % 17) / 17), (i % 5) / 5].join(','));
      await upload(page, 'wide.csv', `${[...cols, 'y'].join(',')}\n${rows.join('\n')}\n`);
      const started = Date.now();
      await typeFormula(page, 'y ~ linear()');
      // linear(60 columns) rendered every step of every weight eagerly: ~1.5 million KaTeX nodes.
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(await page.getAttribute('#formula-layout', 'data-state')).toBe('ready');
      const lazy = await page.$$('#f-derivation details.deriv-lazy');
      expect(lazy.length).toBeGreaterThan(50);
      expect(await page.$$eval('#f-derivation .deriv-param', (els) => els.length)).toBe(61);
      await lazy[0].evaluate((d) => { (d as HTMLDetailsElement).open = true; });
      await page.waitForFunction(() => (document.querySelector('#f-derivation details.deriv-lazy')?.querySelectorAll('ol.steps li').length ?? 0) > 0);

      // Train a little, then make the formula invalid: the epoch and loss shown were that run's.
      await page.fill('#f-epochs', '3');
      await page.click('#f-train');
      await formulaLayoutState(page, ['done', 'diverged', 'error'], 120_000);
      expect(await page.textContent('#f-epoch')).not.toBe('—');
      await typeFormula(page, 'y ~ linear() + q');
      expect(await page.getAttribute('#formula-layout', 'data-state')).toBe('invalid');
      expect(await page.textContent('#f-epoch')).toBe('—');
      expect(await page.textContent('#f-loss-value')).toBe('—');
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
