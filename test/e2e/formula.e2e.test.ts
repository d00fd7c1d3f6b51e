// The demo's formula mode end to end, on the built site in headless Chromium: errors drawn at their column
// as the user types, the KaTeX derivation with its rules, training on data generated from the model at known
// values, the fit and the contour of J over two parameters.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { join } from 'node:path';
import { RESULTS, formulaLayoutState, num, openPage, probeCanvas, useSite } from './page.ts';

const PLOT_BOX: [number, number, number, number] = [60, 14, 484, 438]; // the contour map's plot area, canvas px

const site = useSite();

/** Types the formula and waits for the compile after the debounce: an error at a column, or a run. */
async function typeFormula(page: Page, text: string): Promise<void> {
  await page.fill('#f-formula', text);
  await page.waitForFunction((t) => {
    const layout = document.getElementById('formula-layout')!;
    return layout.dataset.formula === t && ['invalid', 'ready', 'error'].includes(layout.dataset.state ?? '');
  }, text, { timeout: 60_000 });
}

async function errorAt(page: Page): Promise<{ column: number; reason: string; caret: string; mark: string }> {
  return page.evaluate(() => {
    const box = document.getElementById('f-formula-error')!;
    return {
      column: Number(box.dataset.column),
      reason: box.querySelector('.reason')!.textContent!,
      caret: box.querySelector('.caret')!.textContent!,
      mark: box.querySelector('mark')!.textContent!,
    };
  });
}

const rules = (page: Page) => page.$$eval('#f-derivation .rule', (els) => els.map((e) => e.textContent ?? ''));

describe('demo page, formula mode', () => {
  it('locates errors as typed, renders the derivation, trains to the generating values, draws the fit and the map', async () => {
    const { page, problems, close } = await openPage(site.browser, site.server.url);
    try {
      await page.check('#mode-formula');
      expect(await page.isHidden('#linear-layout')).toBe(true);
      await formulaLayoutState(page, ['ready']);
      const device = (await page.textContent('#f-device'))!;
      const engine = await page.getAttribute('#f-device', 'data-engine');
      console.info(`formula mode trains on: ${device}`);
      // With WebGPU the generated kernels train: a page that fell back to the twin (it would say why) fails here.
      expect(engine, device).toBe('gpu');

      // The default: the derivation in KaTeX, each step naming its rule.
      expect(await page.locator('#f-derivation .katex').count()).toBeGreaterThan(5);
      expect(await page.$$eval('#f-derivation .deriv-param', (els) => els.map((e) => (e as HTMLElement).dataset.param))).toEqual(['b1', 'b2']);
      const defaultRules = await rules(page);
      expect(defaultRules).toContain('difference rule');
      expect(defaultRules).toContain('constant multiple');
      expect(defaultRules.some((r) => /exponential rule.*chain rule/.test(r))).toBe(true);

      // An unknown function: the message, the column, the character marked and the caret under it.
      await typeFormula(page, 'y ~ b1*(1-exq(-b2*x))');
      expect(await errorAt(page)).toEqual({
        column: 11, reason: expect.stringMatching(/^unknown function "exq"/), caret: `${' '.repeat(10)}^`, mark: 'e',
      });
      expect(await page.isDisabled('#f-train')).toBe(true);
      // A missing ")": the caret past the end of the text.
      await typeFormula(page, 'y ~ b1*(1-exp(-b2*x)');
      expect((await errorAt(page)).column).toBe(21);
      expect((await errorAt(page)).reason).toMatch(/expected "\)"/);

      // Another valid formula: a row per parameter and a derivation per parameter, with the product rule.
      await typeFormula(page, 'y ~ a*exp(-k*x) + c');
      await formulaLayoutState(page, ['ready']);
      expect(await page.isHidden('#f-formula-error')).toBe(true);
      expect(await page.$$eval('#f-params tbody th', (els) => els.map((e) => e.textContent))).toEqual(['a', 'k', 'c']);
      expect(await page.$$eval('#f-derivation .deriv-param', (els) => els.length)).toBe(3);
      expect(await rules(page)).toContain('sum rule');

      // A custom loss naming something besides yhat and y is the loss's error, at its column.
      await page.selectOption('#f-loss', 'custom');
      await page.fill('#f-loss-custom', '(yhat - q)^2');
      await page.waitForSelector('#f-loss-error:not([hidden])');
      expect(await page.textContent('#f-loss-error')).toMatch(/may name only yhat and y, found "q"/);
      expect(await page.getAttribute('#f-loss-error', 'data-column')).toBe('9');
      await page.fill('#f-loss-custom', '(yhat - y)^2');
      await page.waitForSelector('#f-loss-error', { state: 'hidden' });
      await page.selectOption('#f-loss', 'mse');

      // Back to the default: x in thousands, true b1 = 500 and b2 = 1, from b1 = 100, b2 = 0.5 with Adam.
      await typeFormula(page, 'y ~ b1*(1-exp(-b2*x))');
      await formulaLayoutState(page, ['ready']);
      expect(await page.textContent('#f-dataset-label')).toMatch(/b1 = 500, b2 = 1 \+ noise \(σ = 10\), N = 1000/);
      expect(await page.inputValue('#f-optimizer')).toBe('adam');
      const loss0 = await num(page, '#f-loss-value');
      await page.click('#f-wgsl-details summary');
      expect(await page.textContent('#f-wgsl')).toMatch(/fn nabla_sample\(p: array<f32, 2>, x: array<f32, 1>, y_: f32\) -> array<f32, 3>/);

      await page.fill('#f-epochs', '2000');
      await page.click('#f-train');
      await formulaLayoutState(page, ['done', 'diverged', 'error'], 150_000);
      expect(await page.getAttribute('#formula-layout', 'data-state'), (await page.textContent('#f-status'))!).toBe('done');
      expect(await num(page, '#f-epoch')).toBe(2000);
      const loss1 = await num(page, '#f-loss-value');
      expect(loss1).toBeLessThan(loss0 / 100);
      const b1 = await num(page, '#f-params output[data-now="b1"]');
      const b2 = await num(page, '#f-params output[data-now="b2"]');
      console.info(`formula mode: J ${loss0} -> ${loss1}, b1 = ${b1}, b2 = ${b2}`);
      // Near the noise variance (10²): Adam at a constant η = 1 ends jittering about the minimum, not in it.
      expect(loss1).toBeLessThan(10 ** 2 * 1.5);
      expect(Math.abs(b1 - 500), `b1 = ${b1}`).toBeLessThan(10);
      expect(Math.abs(b2 - 1), `b2 = ${b2}`).toBeLessThan(0.05);

      // The loss curve, the fitted curve over the data and the contour of J(b1, b2).
      expect((await probeCanvas(page, '#f-loss-chart canvas', [80, 10, 480, 200], [])).inked).toBeGreaterThan(0.01);
      expect(await page.getAttribute('#f-fit', 'data-kind')).toBe('curve');
      expect((await probeCanvas(page, '#f-fit', [60, 14, 484, 270], [])).inked).toBeGreaterThan(0.02);
      expect(await page.getAttribute('#f-contour', 'data-surface')).toBe('48x48');
      const map = await probeCanvas(page, '#f-contour', PLOT_BOX, []);
      expect(map.inked, 'the map is filled').toBeGreaterThan(0.95);
      expect(map.colours, 'a colour scale, not a flat fill').toBeGreaterThan(20);
      // The map follows the pair chosen: J over b2 and b1.
      await page.selectOption('#f-axis-a', '1');
      await page.selectOption('#f-axis-b', '0');
      await page.waitForFunction(() => document.getElementById('f-contour-note')?.textContent?.startsWith('J over b2 (across) and b1 (up)'));
      await page.screenshot({ path: join(RESULTS, 'demo-formula.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('on the CPU path (?cpu=1): the float64 twin trains the default to the same values, and the page says so', async () => {
    const { page, problems, close } = await openPage(site.browser, `${site.server.url}?cpu=1`);
    try {
      await page.check('#mode-formula');
      await formulaLayoutState(page, ['ready']);
      expect(await page.getAttribute('#f-device', 'data-engine')).toBe('cpu');
      expect(await page.textContent('#f-device')).toMatch(/float64 twin.*; no WebGPU: the CPU path was asked for/);
      const loss0 = await num(page, '#f-loss-value');
      await page.click('#f-train');
      await formulaLayoutState(page, ['done', 'diverged', 'error'], 150_000);
      expect(await page.getAttribute('#formula-layout', 'data-state'), (await page.textContent('#f-status'))!).toBe('done');
      expect(await num(page, '#f-loss-value')).toBeLessThan(loss0 / 100);
      expect(Math.abs((await num(page, '#f-params output[data-now="b1"]')) - 500)).toBeLessThan(10);
      expect(Math.abs((await num(page, '#f-params output[data-now="b2"]')) - 1)).toBeLessThan(0.05);
      expect(await page.getAttribute('#f-contour', 'data-surface')).toBe('48x48');
      // Back to the linear mode: it is there as it was, and the formula run is paused.
      await page.check('#mode-linear');
      expect(await page.isVisible('#linear-layout')).toBe(true);
      expect(await page.isHidden('#formula-layout')).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
