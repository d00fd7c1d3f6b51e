// The streamed-data panel beside the page's other runs: new data clears the last run's losses and readouts,
// and while a streamed run trains no other mode's Train (or Step, or Fit) can start a second run beside it.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { seededUniform } from '../../src/data/shuffle.ts';
import { formulaLayoutState, openPage, useSite } from './page.ts';

const site = useSite();

/** y = w·(a, b) + noise over `rows` rows, as a CSV file. */
function csv(rows: number, w: [number, number], seed: number): Buffer {
  const rand = seededUniform(seed);
  const lines = ['a,b,y'];
  for (let i = 0; i < rows; i++) {
    const [a, b] = [rand(), rand()];
    lines.push(`${a.toFixed(5)},${b.toFixed(5)},${(w[0] * a + w[1] * b + 0.05 * rand()).toFixed(5)}`);
  }
  return Buffer.from(lines.join('\n'));
}

async function openFile(page: Page, name: string, content: Buffer): Promise<void> {
  await page.setInputFiles('#stream-file', { name, mimeType: 'text/csv', buffer: content });
  await page.waitForFunction((file) => ['schema', 'error'].includes(document.getElementById('stream-panel')!.dataset.state!) &&
    (document.getElementById('stream-about')!.textContent ?? '').startsWith(file), name, { timeout: 60_000 });
  expect(await page.getAttribute('#stream-panel', 'data-state'), (await page.textContent('#stream-error'))!).toBe('schema');
}

const streamState = (page: Page, states: string[]) => page.waitForFunction(
  (s) => s.includes(document.getElementById('stream-panel')!.dataset.state!), states, { timeout: 120_000 });

const READOUTS = ['#stream-epoch', '#stream-bytes', '#stream-rows', '#stream-rate', '#stream-loss'];

describe('demo page: the streamed-data panel and the other runs', () => {
  it('opening new data clears the last run\'s losses and readouts', async () => {
    const { page, problems, close } = await openPage(site.browser, site.server.url);
    try {
      await openFile(page, 'first.csv', csv(5000, [3, -2], 1));
      await page.selectOption('#stream-batch', 'full');
      await page.fill('#stream-epochs', '3');
      await page.click('#stream-train');
      await streamState(page, ['done', 'error', 'stopped']);
      expect(await page.getAttribute('#stream-panel', 'data-state'), (await page.textContent('#stream-error'))!).toBe('done');
      expect(await page.$$eval('#stream-losses li', (els) => els.length)).toBeGreaterThanOrEqual(3);
      for (const id of READOUTS) expect(await page.getAttribute(id, 'data-value'), id).not.toBeNull();

      await openFile(page, 'second.csv', csv(4000, [-1, 5], 2));
      expect(await page.$$eval('#stream-losses li', (els) => els.length)).toBe(0);
      for (const id of READOUTS) {
        expect(await page.textContent(id), id).toBe('—');
        expect(await page.getAttribute(id, 'data-value'), id).toBeNull();
      }
      expect(await page.textContent('#stream-status')).toMatch(/^Choose the target and the features/);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('while a streamed run trains, every other mode\'s Train is disabled and the page says why; Stop frees them', async () => {
    const { page, problems, close } = await openPage(site.browser, site.server.url);
    try {
      expect(await page.isEnabled('#train')).toBe(true);
      expect(await page.isHidden('#run-lock')).toBe(true);
      await openFile(page, 'long.csv', csv(50_000, [3, -2], 3));
      await page.fill('#stream-epochs', '1000'); // far longer than the test: it is stopped below
      await page.click('#stream-train');
      await page.waitForFunction(() => document.getElementById('stream-epoch')?.dataset.phase === 'epoch', undefined, { timeout: 60_000 });
      expect(await page.isDisabled('#train')).toBe(true);
      expect(await page.isDisabled('#step')).toBe(true);
      expect(await page.isVisible('#run-lock')).toBe(true);
      expect(await page.textContent('#run-lock')).toMatch(/streamed run is training/);

      await page.check('#mode-classifier');
      await page.waitForFunction(() => document.getElementById('classifier-layout')?.dataset.state === 'ready', undefined, { timeout: 60_000 });
      expect(await page.isDisabled('#cls-train')).toBe(true);
      expect(await page.isVisible('#run-lock')).toBe(true);

      await page.check('#mode-formula');
      await formulaLayoutState(page, ['ready']);
      expect(await page.isDisabled('#f-train')).toBe(true);
      expect(await page.isDisabled('#f-fit-lm')).toBe(true);
      expect(await page.getAttribute('#stream-panel', 'data-state')).toBe('training');

      await page.check('#mode-linear');
      await page.click('#stream-stop');
      await streamState(page, ['stopped', 'done', 'error']);
      expect(await page.getAttribute('#stream-panel', 'data-state')).toBe('stopped');
      // A stopped stream is not read again to evaluate where it stopped: the loss shown is the last whole epoch's.
      expect(await page.textContent('#stream-status')).toMatch(/: (loss \S+, the last whole epoch's mean|no whole epoch) \(aborted\)\.$/);
      expect(await page.isEnabled('#train')).toBe(true);
      expect(await page.isEnabled('#step')).toBe(true);
      expect(await page.isHidden('#run-lock')).toBe(true);
      expect(await page.isEnabled('#cls-train')).toBe(true);
      expect(await page.isEnabled('#f-train')).toBe(true);
      expect(await page.isEnabled('#f-fit-lm')).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
