// On a phone-sized screen (420 px) the page does not scroll sideways in any mode: the panels are one column as
// wide as the screen, the plots shrink as a whole (their drawing buffers keep their size, the height follows
// the width), and what cannot shrink (the parameters table, the uPlot charts) scrolls inside its panel.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { formulaLayoutState, openPage, useSite } from './page.ts';

const site = useSite();

/** The page's width beyond the screen's, and each visible canvas's shown aspect against its buffer's. */
const layout = (page: Page) => page.evaluate(() => ({
  sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  canvases: [...document.querySelectorAll<HTMLCanvasElement>('canvas[id]')].filter((c) => c.offsetParent !== null).map((c) => {
    const box = c.getBoundingClientRect();
    return { id: c.id, width: box.width, squash: (box.height / box.width) / (c.height / c.width) };
  }),
}));

describe('demo page at 420 px', () => {
  it('scrolls sideways in no mode, and its plots shrink without being squashed', async () => {
    const { page, problems, close } = await openPage(site.browser, `${site.server.url}?cpu=1`, { width: 420, height: 900 });
    try {
      for (const mode of ['linear', 'classifier', 'formula']) {
        await page.check(`#mode-${mode}`);
        if (mode === 'formula') await formulaLayoutState(page, ['ready']);
        else await page.waitForTimeout(500);
        const { sideways, canvases } = await layout(page);
        expect(sideways, `${mode}: the page is wider than the screen by ${sideways} px`).toBe(0);
        expect(canvases.length, mode).toBeGreaterThan(0);
        for (const c of canvases) {
          expect(c.width, `${mode} #${c.id}`).toBeLessThanOrEqual(420);
          expect(Math.abs(c.squash - 1), `${mode} #${c.id}: height/width ${c.squash}× its buffer's`).toBeLessThan(0.02);
        }
      }
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
