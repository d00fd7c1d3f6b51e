// The numbers on the page: J, the partial derivatives and the gradient norm with their formulas, the
// parameters in the optimized space and in the data's units, and the run's epoch, state and throughput.
// Outputs carry data-value (full precision) for the end-to-end tests.
import { paramsToOriginal } from '../../models/standardize.ts';
import { fmt, fmtCount, fmtRate } from '../format.ts';
import type { Trainer } from '../trainer.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function put(id: string, value: number, digits = 5): void {
  const el = $(id);
  el.textContent = fmt(value, digits);
  el.dataset.value = String(value);
}

const STATE_TEXT: Record<string, string> = {
  ready: 'ready', running: 'training…', paused: 'paused', done: 'done', converged: 'converged', diverged: 'diverged', error: 'error',
};

export function originalParams(t: Trainer): { w: Float64Array; b: number } {
  const { d, theta } = t;
  const s = t.space.standardizer;
  return s ? paramsToOriginal(s, theta.subarray(0, d), theta[d]) : { w: theta.slice(0, d), b: theta[d] };
}

export function renderReadout(t: Trainer): void {
  const { d, space } = t;
  const k = space.k;
  put('loss', t.loss);
  put('grad-w', t.grad[k]);
  put('grad-b', t.grad[d]);
  put('grad-norm', t.gradNorm);
  const orig = originalParams(t);
  put('param-w', orig.w[k]);
  put('param-b', orig.b);
  const epoch = $('epoch');
  epoch.textContent = fmtCount(t.epoch);
  epoch.dataset.value = String(t.epoch);
  $('run-state').textContent = STATE_TEXT[t.state] ?? t.state;
  $('throughput').textContent = `${fmtRate(t.samplesPerSec)} (gradient evaluations × N per second, read-backs included)`;
  $('chunk').textContent = t.chunk ? String(t.chunk) : '—';
  document.body.dataset.state = t.state;

  const rows: string[] = [];
  const names = [...space.dataset.features.map((f) => `w[${f}]`), 'b'];
  for (let j = 0; j <= d; j++) {
    const mark = j === k ? ' (contour)' : '';
    rows.push(`<tr><th scope="row">${escapeHtml(names[j])}${mark}</th><td>${fmt(t.theta[j], 6)}</td>` +
      `<td>${fmt(j < d ? orig.w[j] : orig.b, 6)}</td><td>${fmt(t.grad[j], 4)}</td></tr>`);
  }
  $('params').querySelector('tbody')!.innerHTML = rows.join('');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
