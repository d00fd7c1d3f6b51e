// The formula mode's start on WebGPU: starting values where J is beyond float32 (finite in float64) are the
// user's to change. The page says so, names the row, trains nothing and offers no fit, rather than moving the
// run to the float64 twin behind the GPU kernel check's raw message.
import { describe, expect, it } from 'vitest';
import { formulaLayoutState, openPage, useSite } from './page.ts';

const site = useSite();

describe('demo page, formula mode: a start beyond float32 on WebGPU', () => {
  it('says the start is beyond float32 on the GPU, names the row, and neither trains nor fits', async () => {
    const { page, problems, close } = await openPage(site.browser, site.server.url);
    try {
      await page.check('#mode-formula');
      await formulaLayoutState(page, ['ready']);
      await page.fill('#f-formula', 'y ~ a*x');
      await formulaLayoutState(page, ['invalid']); // a has no starting value yet
      // x in [0, 5): (a x − y)² reaches ~1e61 per row, finite in float64, beyond float32's 3.4e38.
      await page.fill('#f-params input[data-param="a"][data-role="start"]', '1e30');
      await page.waitForFunction(() => /float32/.test(document.getElementById('f-error')?.textContent ?? '') ||
        document.getElementById('formula-layout')?.dataset.state === 'ready', undefined, { timeout: 60_000 });
      const error = (await page.textContent('#f-error'))!;
      expect(error).toMatch(/^The GPU computes in float32, and at the starting values row 1 of the data \(x = [\d.e+-]+, y = [\d.e+-]+\) has loss = [\d.e+]+, beyond float32's range \(±3\.4e38\), though float64 holds it\. Change the starting values/);
      expect(await page.isVisible('#f-error')).toBe(true);
      expect(await page.textContent('#f-status')).toBe(error);
      expect(await page.textContent('#f-device')).not.toMatch(/CPU|twin|failed/);
      expect(await page.getAttribute('#formula-layout', 'data-state')).toBe('invalid');
      expect(await page.isDisabled('#f-train')).toBe(true);
      expect(await page.isDisabled('#f-fit-lm')).toBe(true);
      expect(await page.getAttribute('#f-lm', 'data-state')).toBe('idle');
      expect(await page.textContent('#f-lm-table')).not.toMatch(/converged/);

      // A start within float32 trains on the GPU again.
      await page.fill('#f-params input[data-param="a"][data-role="start"]', '1');
      await formulaLayoutState(page, ['ready']);
      expect(await page.isHidden('#f-error')).toBe(true);
      expect(await page.getAttribute('#f-device', 'data-engine')).toBe('gpu');
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
