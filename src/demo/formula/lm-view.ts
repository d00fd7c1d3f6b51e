// What the formula mode shows of a Levenberg-Marquardt fit: the RSS after each accepted iteration on a log
// scale (uPlot), and at the end a table of estimates with standard errors and the fit's summary numbers,
// each with its full value in data-value for the tests.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { CurveFitResult } from '../../fit/curve-fit.ts';
import { fmt, fmtCount } from '../format.ts';
import { logTick } from '../views/loss-view.ts';
import { escapeHtml } from '../views/readout.ts';

/** Why each stop reason ended the fit, in words (MINPACK's tests, src/fit/levenberg-marquardt.ts). */
const STOP_TEXT: Record<string, string> = {
  'relative-reduction': 'converged: the RSS stopped falling (relative reduction below ftol)',
  'relative-step': 'converged: the step became tiny relative to the parameters (xtol)',
  both: 'converged: both the RSS reduction and the step fell below their tolerances',
  orthogonality: 'converged: the residuals are orthogonal to the Jacobian\'s columns',
  'max-evaluations': 'not converged: the passes over the data ran out',
  'no-further-reduction': 'stopped: no further reduction of the RSS is possible at machine precision',
  'no-further-step': 'stopped: no further step is possible at machine precision',
  'no-further-orthogonality': 'stopped: the gradient is zero at machine precision',
  aborted: 'stopped by the user: the table holds the parameters reached so far',
};

export class RssChart {
  private plot: uPlot | null = null;
  private readonly x: number[] = [];
  private readonly y: number[] = [];

  constructor(private readonly el: HTMLElement) {}

  /** Created when first shown: uPlot measures its container. */
  private ensure(): uPlot {
    this.plot ??= new uPlot({
      width: 500,
      height: 220,
      scales: { x: { time: false }, y: { distr: 3 } },
      series: [
        { label: 'iteration' },
        { label: 'RSS', stroke: '#c0182c', width: 2, points: { show: true, size: 6 } },
      ],
      axes: [
        { label: 'Levenberg-Marquardt iteration', stroke: '#1a1a1a' },
        { label: 'RSS (log scale)', stroke: '#1a1a1a', size: 80, values: (_u, splits) => splits.map(logTick) },
      ],
      cursor: { drag: { x: false, y: false } },
    }, [[], []], this.el);
    return this.plot;
  }

  reset(): void {
    this.x.length = this.y.length = 0;
    this.plot?.setData([[], []]);
    this.el.dataset.points = '0';
  }

  /** A zero RSS (an exact fit) has no place on a log scale: drawn as a gap. */
  push(iteration: number, rss: number): void {
    this.x.push(iteration);
    this.y.push(rss);
    this.ensure().setData([this.x, this.y.map((v) => (v > 0 && Number.isFinite(v) ? v : null)) as unknown as number[]]);
    this.el.dataset.points = String(this.x.length);
  }
}

export function renderFitTable(table: HTMLElement, names: readonly string[], r: CurveFitResult): void {
  // digits 0: a count.
  const cell = (key: string, v: number | null, digits = 6) =>
    `<td data-key="${escapeHtml(key)}" data-value="${v ?? ''}">${v === null ? '—' : digits ? fmt(v, digits) : fmtCount(v)}</td>`;
  const rows = names.map((p) =>
    `<tr data-param="${escapeHtml(p)}"><th scope="row">${escapeHtml(p)}</th>${cell('estimate', r.params[p], 8)}${cell('se', r.standardErrors?.[p] ?? null, 3)}</tr>`);
  const summary: Array<[string, string, number | null, number]> = [
    ['RSS', 'rss', r.rss, 6], ['residual std s', 'residual-std', r.residualStd, 6], ['degrees of freedom n − p', 'dof', r.dof, 0],
    ['iterations', 'iterations', r.iterations, 0], ['passes over the data', 'passes', r.passes, 0],
  ];
  table.innerHTML =
    `<thead><tr><th scope="col">θ</th><th scope="col">estimate</th><th scope="col">standard error</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody>` +
    `<tbody class="summary">${summary.map(([label, key, v, digits]) => `<tr><th scope="row">${label}</th>${cell(key, v, digits)}<td></td></tr>`).join('')}` +
    `<tr><th scope="row">stop reason</th><td colspan="2" data-key="stop" data-value="${r.stopReason}">${escapeHtml(STOP_TEXT[r.stopReason] ?? r.stopReason)}</td></tr></tbody>`;
  table.hidden = false;
  if (!r.standardErrors) {
    table.querySelector('tbody')!.insertAdjacentHTML('beforeend', '<tr><td colspan="3" class="hint">No standard errors: JᵀJ is singular at the solution, or there are no more rows than parameters.</td></tr>');
  }
}
