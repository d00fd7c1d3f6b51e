// The formula mode's "Fit" button: a Levenberg-Marquardt curve fit (src/fit/) of the current model to the
// current data from the starting values, shown as it goes (the fitted curve after every accepted iteration,
// the RSS on a log scale) and then as a table of estimates with standard errors. Each trial point is one
// normal-equations pass of the training engine (the GPU's generated kernel, or the float64 twin), and the
// page says which summed them. Least squares only: for any other loss the button is disabled and says why.
import type { FormulaModel } from '../../formula/model.ts';
import type { FormulaEngine } from '../../models/formula.ts';
import { curveFit, type NormalEquationsPass } from '../../fit/curve-fit.ts';
import { FitError } from '../../fit/levenberg-marquardt.ts';
import { fmt, fmtCountOf } from '../format.ts';
import { nextFrame, yieldTask } from '../tasks.ts';
import type { FitView } from './fit-view.ts';
import type { FormulaRun } from './formula-run.ts';
import { renderFitTable, RssChart } from './lm-view.ts';

export interface LmElements {
  button: HTMLButtonElement;
  /** Why the button is disabled, beside it. */
  why: HTMLElement;
  panel: HTMLElement;
  status: HTMLElement;
  engine: HTMLElement;
  chart: HTMLElement;
  table: HTMLElement;
  error: HTMLElement;
}

interface PassSource {
  pass: NormalEquationsPass;
  device: 'gpu' | 'cpu';
  text: string;
  dispose(): void;
}

/** The training engine's own normal-equations pass (every FormulaEngine has one), named for the page. */
export function normalEquationsSource(engine: FormulaEngine): PassSource {
  const text = engine.device === 'gpu'
    ? 'WebGPU: the generated normal-equations kernel (JᵀJ, Jᵀr and the RSS summed in float32 on the GPU), solved in float64'
    : 'CPU: the float64 twin (JᵀJ, Jᵀr and the RSS summed in float64)';
  return { pass: (t) => engine.normalEquations(t), device: engine.device, text, dispose: () => undefined };
}

/** Why a fit cannot start for this model on this many rows (null: not known yet), or null. */
export function fitUnavailable(model: FormulaModel | null, rows: number | null): string | null {
  if (!model) return 'Fix the formula or the loss first: there is no model to fit.';
  const p = model.params.length;
  if (rows !== null && rows <= p) {
    return `Levenberg-Marquardt needs more rows than parameters: ${fmtCountOf(p, 'parameter')} and ${fmtCountOf(rows, 'row')}. Train works on any number of rows.`;
  }
  if (!model.loss.squaredError) {
    const loss = model.loss.name === 'custom' ? model.loss.text : model.loss.name;
    return `Levenberg-Marquardt fits least squares: the loss ${loss} is not (ŷ − y)². Choose mse (or the custom (yhat - y)^2) to fit; Train works with any loss.`;
  }
  return null;
}

export class FormulaFit {
  busy = false;
  private abort: AbortController | null = null;
  private done: Promise<void> = Promise.resolve();
  private readonly chart: RssChart;

  /** onChange: the fit started or ended (the page enables its buttons again). */
  constructor(private readonly el: LmElements, private readonly view: FitView, private readonly fitNote: HTMLElement, private readonly onChange: () => void) {
    this.chart = new RssChart(el.chart);
  }

  /** idle: the page has a run and nothing else going on; rows: the run's. */
  setAvailable(model: FormulaModel | null, rows: number | null, idle: boolean): void {
    const why = fitUnavailable(model, rows);
    this.el.button.disabled = why !== null || !idle || this.busy;
    this.el.button.title = why ?? 'Fit by Levenberg-Marquardt from the starting values (Pause stops it)';
    this.el.why.hidden = why === null;
    this.el.why.textContent = why ?? '';
  }

  /** Forgets the last fit's chart and table (new data or a new model). */
  clear(): void {
    this.chart.reset();
    this.el.table.hidden = true;
    this.el.error.hidden = true;
    this.el.panel.dataset.state = 'idle';
    this.el.status.textContent = 'Press Fit to fit by Levenberg-Marquardt (least-squares losses).';
    this.el.engine.textContent = '—';
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.done;
  }

  start(run: FormulaRun): void {
    if (this.busy || fitUnavailable(run.model, run.engine.n)) return;
    const ac = new AbortController();
    this.abort = ac;
    this.busy = true;
    this.clear();
    this.el.panel.dataset.state = 'fitting';
    this.el.status.textContent = 'Fitting…';
    this.onChange();
    this.done = this.fit(run, ac.signal).finally(() => {
      this.busy = false;
      this.onChange();
    });
  }

  private async fit(run: FormulaRun, signal: AbortSignal): Promise<void> {
    const m = run.model;
    const src = normalEquationsSource(run.engine);
    this.el.engine.textContent = src.text;
    this.el.engine.dataset.engine = src.device;
    let passes = 0;
    const show = (theta: Float64Array, iteration: number, rss: number) => {
      this.view.draw(theta);
      this.chart.push(iteration, rss);
      this.fitNote.textContent = `The fit at Levenberg-Marquardt iteration ${iteration} (RSS ${fmt(rss, 6)}).`;
      this.el.panel.dataset.iteration = String(iteration);
    };
    // A frame between passes, so that each iteration's curve is painted and input is handled; a hidden
    // page gets no frames, so there a task is enough.
    const pass: NormalEquationsPass = async (theta) => {
      await (document.hidden ? yieldTask() : nextFrame());
      // On the GPU the first pass also builds, tunes and checks the JᵀJ kernel: seconds on a software adapter.
      const building = passes === 0 && src.device === 'gpu' ? ', which first builds and checks the GPU kernel of JᵀJ' : '';
      this.el.status.textContent = `Fitting: pass ${passes + 1} over ${fmtCountOf(run.engine.n, 'row')}${building}…`;
      const sums = await src.pass(theta);
      if (passes++ === 0) show(theta, 0, sums[sums.length - 1]);
      return sums;
    };
    try {
      const r = await curveFit(m, run.engine.n, pass, Float64Array.from(run.start), {
        signal,
        onIteration: (it) => show(it.theta, it.iteration, it.rss),
      });
      this.view.draw(r.theta);
      renderFitTable(this.el.table, m.params, r);
      const stopped = r.stopReason === 'aborted';
      this.el.panel.dataset.state = stopped ? 'stopped' : 'done';
      this.el.status.textContent = stopped
        ? `Stopped after ${fmtCountOf(r.iterations, 'iteration')} (${fmtCountOf(r.passes, 'pass', 'passes')}).`
        : `Fitted in ${fmtCountOf(r.iterations, 'iteration')} (${fmtCountOf(r.passes, 'pass', 'passes')} over ${fmtCountOf(run.engine.n, 'row')}).`;
      this.fitNote.textContent = `The Levenberg-Marquardt fit (RSS ${fmt(r.rss, 6)}); Train draws the gradient-descent run's parameters again.`;
    } catch (e) {
      this.el.panel.dataset.state = 'failed';
      const fe = e instanceof FitError ? e : null;
      if (fe?.best) this.view.draw(fe.best.theta);
      this.el.error.dataset.kind = fe?.kind ?? 'error';
      this.el.error.textContent = fe ? `The fit cannot ${fe.kind === 'no-progress' ? 'go on' : 'start'}: ${fe.message}.` : `The fit failed: ${(e as Error).message}`;
      this.el.error.hidden = false;
      this.el.status.textContent = 'No fit.';
    } finally {
      src.dispose();
    }
  }
}
