// The formula mode's Levenberg-Marquardt fit end to end, on the built site in headless Chromium: the default
// example fitted from a start two powers of ten off, the RSS drawn per iteration, the table of estimates
// with standard errors, a bad start reported inline naming the parameter, and the button disabled (with the
// reason) for a loss that is not a squared error.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { join } from 'node:path';
import { RESULTS, formulaLayoutState, num, openPage, probeCanvas, useSite } from './page.ts';

const site = useSite();

/** Types a starting value and waits for the run rebuilt from it (its "now" column shows the start). */
async function setStart(page: Page, values: Record<string, number>): Promise<void> {
  for (const [name, v] of Object.entries(values)) await page.fill(`#f-params input[data-param="${name}"][data-role="start"]`, String(v));
  await page.waitForFunction((vs) => document.getElementById('formula-layout')?.dataset.state === 'ready' &&
    Object.entries(vs).every(([p, v]) => document.querySelector<HTMLElement>(`#f-params output[data-now="${p}"]`)?.dataset.value === String(v)), values, { timeout: 60_000 });
}

async function fitAndWait(page: Page): Promise<string> {
  await page.click('#f-fit-lm');
  await page.waitForFunction(() => ['done', 'stopped', 'failed'].includes(document.getElementById('f-lm')?.dataset.state ?? ''), undefined, { timeout: 120_000 });
  return (await page.getAttribute('#f-lm', 'data-state'))!;
}

const cell = (page: Page, param: string, key: string) => num(page, `#f-lm-table tr[data-param="${param}"] td[data-key="${key}"]`);

describe('demo page, formula mode: Levenberg-Marquardt fit', () => {
  it('fits the default from far off to the generating values, with the RSS per iteration and standard errors', async () => {
    const { page, problems, close } = await openPage(site.browser, site.server.url);
    try {
      await page.check('#mode-formula');
      await formulaLayoutState(page, ['ready']);
      expect(await page.isEnabled('#f-fit-lm')).toBe(true);
      expect(await page.isHidden('#f-fit-why')).toBe(true);
      // Truth b1 = 500, b2 = 1 (σ = 10, N = 1000); from b1 = 5 (100x below) and b2 = 10 (10x above).
      await setStart(page, { b1: 5, b2: 10 });
      // Every status the fit shows while it runs: the first pass (seconds on a software adapter) says why it waits.
      await page.evaluate(() => {
        const status = document.getElementById('f-lm-status')!;
        const seen: string[] = ((window as unknown as { lmStatuses: string[] }).lmStatuses = []);
        new MutationObserver(() => seen.push(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
      });
      const state = await fitAndWait(page);
      const statuses = await page.evaluate(() => (window as unknown as { lmStatuses: string[] }).lmStatuses);
      expect(statuses).toContain('Fitting: pass 1 over 1\u202f000 rows, which first builds and checks the GPU kernel of JᵀJ…');
      expect(statuses).toContain('Fitting: pass 2 over 1\u202f000 rows…');
      expect(state, (await page.textContent('#f-lm-error')) ?? '').toBe('done');
      const engine = (await page.textContent('#f-lm-engine'))!;
      console.info(`LM fit summed on: ${engine}; ${await page.textContent('#f-lm-status')}`);
      // With WebGPU the fit's passes run the generated normal-equations kernel, never the twin.
      expect(engine).toMatch(/^WebGPU: /);
      expect(await page.getAttribute('#f-lm-engine', 'data-engine')).toBe('gpu');

      const b1 = await cell(page, 'b1', 'estimate'), b2 = await cell(page, 'b2', 'estimate');
      expect(Math.abs(b1 - 500) / 500, `b1 = ${b1}`).toBeLessThan(0.01);
      expect(Math.abs(b2 - 1), `b2 = ${b2}`).toBeLessThan(0.01);
      const se1 = await cell(page, 'b1', 'se'), se2 = await cell(page, 'b2', 'se');
      // √(σ²/N)-sized: about 0.6 for b1 and 0.005 for b2 at this noise (the float64 fit of the same rows).
      expect(se1).toBeGreaterThan(0.1);
      expect(se1).toBeLessThan(3);
      expect(se2).toBeGreaterThan(1e-3);
      expect(se2).toBeLessThan(0.02);
      const rss = await num(page, '#f-lm-table td[data-key="rss"]');
      expect(rss / 998, 'RSS/(n − p) near σ² = 100').toBeGreaterThan(80);
      expect(rss / 998).toBeLessThan(120);
      expect(await num(page, '#f-lm-table td[data-key="dof"]')).toBe(998);
      const iterations = await num(page, '#f-lm-table td[data-key="iterations"]');
      expect(iterations).toBeGreaterThanOrEqual(2);
      expect(await num(page, '#f-lm-table td[data-key="passes"]')).toBeGreaterThan(iterations);
      expect(await page.getAttribute('#f-lm-table td[data-key="stop"]', 'data-value')).toMatch(/relative-reduction|relative-step|both|orthogonality/);
      expect(await page.textContent('#f-lm-table td[data-key="stop"]')).toMatch(/^converged/);

      // The RSS chart: the start and every accepted iteration, drawn.
      expect(Number(await page.getAttribute('#f-lm-chart', 'data-points'))).toBe(iterations + 1);
      expect((await probeCanvas(page, '#f-lm-chart canvas', [90, 10, 480, 170], [])).inked).toBeGreaterThan(0.005);
      // The fit view shows the fitted curve, and says so.
      expect(await page.textContent('#f-fit-note')).toMatch(/Levenberg-Marquardt fit/);
      expect(await page.isEnabled('#f-train')).toBe(true);
      await page.screenshot({ path: join(RESULTS, 'demo-formula-fit.png'), fullPage: true });

      // A start where the model does not depend on b1 (b2 = 0 makes 1 − e⁰ = 0): the error names b1, inline.
      await setStart(page, { b1: 5, b2: 0 });
      expect(await page.getAttribute('#f-lm', 'data-state')).toBe('idle');
      expect(await fitAndWait(page)).toBe('failed');
      expect(await page.getAttribute('#f-lm-error', 'data-kind')).toBe('singular');
      expect(await page.textContent('#f-lm-error')).toMatch(/does not depend on b1/);
      expect(await page.isHidden('#f-lm-table')).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('disables Fit for a loss that is not a squared error, saying why, and enables it again for mse', async () => {
    const { page, problems, close } = await openPage(site.browser, `${site.server.url}?cpu=1`);
    try {
      await page.check('#mode-formula');
      await formulaLayoutState(page, ['ready']);
      expect(await page.isEnabled('#f-fit-lm')).toBe(true);
      await page.selectOption('#f-loss', 'huber');
      await page.waitForFunction(() => document.getElementById('formula-layout')?.dataset.state === 'ready' &&
        (document.getElementById('f-fit-lm') as HTMLButtonElement).disabled, undefined, { timeout: 60_000 });
      expect(await page.getAttribute('#f-fit-lm', 'title')).toMatch(/least squares: the loss huber is not/);
      expect(await page.isVisible('#f-fit-why')).toBe(true);
      expect(await page.isEnabled('#f-train')).toBe(true);
      // An invalid formula: nothing to fit.
      await page.selectOption('#f-loss', 'mse');
      await page.fill('#f-formula', 'y ~ b1*(1-exq(-b2*x))');
      await formulaLayoutState(page, ['invalid']);
      expect(await page.isDisabled('#f-fit-lm')).toBe(true);
      expect(await page.getAttribute('#f-fit-lm', 'title')).toMatch(/Fix the formula/);
      // Back to the default on the CPU path: the float64 twin fits it, and the page says so.
      await page.fill('#f-formula', 'y ~ b1*(1-exp(-b2*x))');
      await formulaLayoutState(page, ['ready']);
      expect(await page.isEnabled('#f-fit-lm')).toBe(true);
      expect(await fitAndWait(page)).toBe('done');
      expect(await page.textContent('#f-lm-engine')).toMatch(/^CPU: the float64 twin/);
      expect(Math.abs((await cell(page, 'b1', 'estimate')) - 500)).toBeLessThan(5);

      // Pause stops a fit under way (about 40 passes from here, each after a frame): the table holds where it got.
      await setStart(page, { b1: 50000, b2: 0.01 });
      await page.click('#f-fit-lm');
      await page.waitForFunction(() => Number(document.getElementById('f-lm')?.dataset.iteration) >= 1);
      await page.click('#f-pause');
      await page.waitForFunction(() => ['done', 'stopped', 'failed'].includes(document.getElementById('f-lm')?.dataset.state ?? ''));
      expect(await page.getAttribute('#f-lm', 'data-state')).toBe('stopped');
      expect(await page.getAttribute('#f-lm-table td[data-key="stop"]', 'data-value')).toBe('aborted');
      expect(await page.isEnabled('#f-train')).toBe(true);
      expect(await page.isEnabled('#f-fit-lm')).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
