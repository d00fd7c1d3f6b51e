// The formula mode of the page: a model formula and a loss typed by the user, compiled as they type
// (debounced; an error is drawn under the text at its column), the derivation rendered by KaTeX, data
// generated from the model at chosen true values or read from a file, and a run with its loss curve, fit
// and the contour of J over two chosen parameters. The other modes' code is untouched: main.ts calls
// setupFormula once the backend is known, and each mode pauses when another is entered.
import type { FormulaModel } from '../../formula/model.ts';
import { startingParameters } from '../../formula/model.ts';
import type { Backend } from '../backend.ts';
import { optimizerFor, type DemoOptimizer } from '../classifier/models.ts';
import { onFileChosen } from '../file-drop.ts';
import { fmt, fmtCount, LR_MESSAGE, parseField, parseLearningRate } from '../format.ts';
import { streamRunLock } from '../run-lock.ts';
import { yieldTask } from '../tasks.ts';
import { ContourView } from '../views/contour-view.ts';
import { LossView } from '../views/loss-view.ts';
import { renderDerivation } from './derivation-view.ts';
import { FitView } from './fit-view.ts';
import { FormulaFit } from './formula-fit.ts';
import { generateFormulaData, selectFormulaData, startNotFinite, startNotFiniteInFloat32, type FormulaDataset } from './formula-data.ts';
import { createFormulaEngine } from './formula-engine.ts';
import { CUSTOM_EXAMPLE, fillStaticOptions, formulaElements, ParamTable, showMessage, showSpecError } from './formula-controls.ts';
import { FormulaRun } from './formula-run.ts';
import { compileForSource, readSource, sourceLabel, sourceProblem, type DataSource } from './formula-source.ts';
import { exampleFor, keptAxes, lossArgument, namedLossText } from './formula-spec.ts';

const DEBOUNCE_MS = 250;
const DATA_SEED = 20261126;
const STATE_TEXT: Record<string, string> = {
  ready: 'Ready: press Train.', running: 'Training…', paused: 'Paused: Train goes on from here.', done: 'Done: Train goes on for more epochs.',
};

export interface FormulaHooks {
  /** Called when the formula mode is entered: the other modes pause. */
  onEnter(): void;
}

export function setupFormula(backend: Backend, hooks: FormulaHooks): void {
  const el = formulaElements();
  fillStaticOptions(el);
  const fit = new FitView(el.fit);
  const lm = new FormulaFit(el.lm, fit, el.fitNote, () => setState(el.layout.dataset.state ?? 'loading'));
  const contour = new ContourView(el.contour);
  let lossView: LossView | null = null; // created when first shown (uPlot measures its container)
  const params = new ParamTable(el.params, () => schedule(rebuild));
  let source: DataSource = { kind: 'generated' };
  let model: FormulaModel | null = null;
  let lastFormula = '';
  let run: FormulaRun | null = null;
  let build = 0; // the latest rebuild; an older one that finishes late is thrown away
  let timer: ReturnType<typeof setTimeout> | undefined;
  let drawn = { run: null as FormulaRun | null, version: -1 };

  function schedule(fn: () => void | Promise<void>): void {
    clearTimeout(timer);
    timer = setTimeout(() => void fn(), DEBOUNCE_MS);
  }

  function setState(state: string): void {
    el.layout.dataset.state = state;
    document.getElementById('f-state')!.textContent = state;
    const usable = state !== 'loading' && state !== 'invalid' && state !== 'error';
    el.train.disabled = !usable || state === 'running' || lm.busy || streamRunLock.streaming;
    el.pause.disabled = state !== 'running' && !lm.busy;
    el.reset.disabled = !run || state === 'loading' || state === 'invalid' || lm.busy;
    lm.setAvailable(model, run?.engine.n ?? null, usable && !!run && state !== 'running' && !streamRunLock.streaming);
  }

  /** The loss menu's choice as loss text (huber:2), or why its argument cannot be used. */
  function lossText(): { text: string } | { error: string } {
    return el.loss.value === 'custom' ? { text: el.lossCustom.value } : namedLossText(el.loss.value, el.lossArg.value);
  }

  /**
   * No training until the input changes: `why` is the status. A later build is not affected. Unless `keep`
   * (the run just built, whose start is shown), what was computed for the previous model goes: its fit, curve,
   * contour and numbers would otherwise stand beside a model that no longer exists.
   */
  function block(why: string, keep = false): void {
    build++;
    void run?.pause();
    if (keep) {
      void lm.stop();
    } else {
      void lm.stop().then(() => lm.clear());
      clearReadout();
    }
    el.status.textContent = why;
    setState('invalid');
  }

  /** The run's numbers and plots are gone with it: none stays on screen for data or a model it was not. */
  function clearReadout(): void {
    for (const out of [el.epoch, el.lossValue]) {
      out.textContent = '—';
      delete out.dataset.value;
    }
    lossView?.reset();
    fit.clear();
    el.contourNote.textContent = '';
  }

  /**
   * Compiles the formula and loss against the data's columns; on success shows the derivation and rebuilds
   * the data and the run. Every message about the formula, the loss, the file or a build is set here from
   * the current input, so that none about an earlier one stays.
   */
  function recompile(): void {
    const formula = el.formula.value;
    const loss = lossText();
    const c = 'error' in loss ? null : compileForSource(formula, loss.text, source);
    el.layout.dataset.formula = formula; // what the state below is about (the end-to-end test waits on it)
    el.example.value = exampleFor(formula)?.key ?? CUSTOM_EXAMPLE;
    const argError = 'error' in loss ? { field: 'other' as const, reason: loss.error, text: '', position: 0 } : null;
    showSpecError(el.formulaError, c && !c.ok && c.error.field !== 'loss' ? c.error : null);
    showSpecError(el.lossError, argError ?? (c && !c.ok && c.error.field === 'loss' ? c.error : null));
    const fileProblem = sourceProblem(source);
    showMessage(el.dataError, fileProblem);
    showMessage(el.paramsError, null);
    showMessage(el.error, null);
    if (!c?.ok) {
      model = null;
      el.derivation.replaceChildren();
      el.wgsl.textContent = '';
      el.datasetLabel.textContent = sourceLabel(source); // the rows selected for the previous model are gone with it
      const problem = argError ?? c!.error;
      block(fileProblem ?? `Fix the ${problem.field === 'loss' || argError ? 'loss' : 'formula'} to go on: ${problem.reason}.`);
      return;
    }
    model = c.model;
    if (formula !== lastFormula) {
      const ex = exampleFor(formula);
      // An example's starting values suit a file as well; its range, noise and step are for its own data.
      if (ex) params.preset({ start: ex.preset.start, ...(source.kind === 'generated' && { truth: ex.preset.truth }) });
      if (ex && source.kind === 'generated') {
        const { preset } = ex;
        el.lo.value = String(preset.lo);
        el.hi.value = String(preset.hi);
        el.noise.value = String(preset.noise);
        el.lr.value = String(preset.lr);
        el.epochs.value = String(preset.epochs);
      }
      lastFormula = formula;
    }
    params.render(model, source.kind !== 'file');
    try {
      renderDerivation(el.derivation, el.wgsl, model);
    } catch (e) {
      el.derivation.textContent = `The derivation could not be shown: ${(e as Error).message}`;
    }
    const names = model.params;
    const [ia, ib] = keptAxes(names, el.axisA.selectedOptions[0]?.text, el.axisB.selectedOptions[0]?.text);
    el.axisA.replaceChildren(...names.map((p, j) => new Option(p, String(j), false, j === ia)));
    el.axisB.replaceChildren(...names.map((p, j) => new Option(p, String(j), false, j === ib)));
    void rebuild();
  }

  /** New data and a new run from the current model and fields; the previous run goes away. */
  async function rebuild(): Promise<void> {
    const m = model;
    if (!m) return;
    const fileProblem = sourceProblem(source);
    if (fileProblem) return block(fileProblem); // recompile shows it in the Data section
    const values = params.read();
    const n = parseField(el.n.value, 1, 200_000, true);
    const lo = parseField(el.lo.value, -1e6, 1e6), hi = parseField(el.hi.value, -1e6, 1e6);
    const noise = parseField(el.noise.value, 0, 1e12);
    const badField = source.kind === 'file' ? null
      : n === null ? 'N must be a whole number from 1 to 200 000'
        : lo === null || hi === null || !(hi > lo) ? 'the features\' range must be two numbers, the first below the second'
          : noise === null ? 'the noise σ must be a number ≥ 0' : null;
    showMessage(el.paramsError, 'error' in values ? values.error : null);
    showMessage(el.dataError, badField);
    if ('error' in values || badField) {
      el.datasetLabel.textContent = sourceLabel(source);
      return block(`Cannot train yet: ${'error' in values ? values.error : badField}.`);
    }
    const id = ++build;
    setState('loading');
    el.status.textContent = 'Building the data and the engine…';
    const old = run;
    run = null;
    await lm.stop(); // it sums over the engine disposed next
    lm.clear();
    await old?.dispose();
    await yieldTask();
    if (id !== build) return;
    clearReadout();
    let ds: FormulaDataset;
    try {
      const truth = Float64Array.from(m.params, (p) => values.truth[p]);
      ds = source.kind === 'file' ? selectFormulaData(m, source.parsed) : generateFormulaData(m, { n: n!, lo: lo!, hi: hi!, noise: noise!, truth, seed: DATA_SEED });
    } catch (e) {
      el.datasetLabel.textContent = sourceLabel(source);
      showMessage(el.dataError, (e as Error).message);
      el.status.textContent = `The data cannot be used: ${(e as Error).message}`;
      setState('error');
      return;
    }
    el.datasetLabel.textContent = ds.label;
    try {
      const start = startingParameters(m, values.start);
      // The kernel's check would fail on Infinity and the run fall back to the float64 twin: a start the
      // GPU cannot compute is the user's to change, said as such, rather than a silent change of device.
      const overflow = backend.kind === 'gpu' ? startNotFiniteInFloat32(m, start, ds.data) : null;
      if (overflow) {
        el.device.textContent = 'WebGPU: no run (the starting values are beyond float32 there)';
        el.device.dataset.engine = 'none';
        showMessage(el.error, overflow);
        return block(overflow);
      }
      const chosen = await createFormulaEngine(backend, m, ds.data, start);
      if (id !== build) {
        chosen.engine.dispose();
        return;
      }
      const r = new FormulaRun(chosen.engine, m, ds, start, optimizerFor(el.optimizer.value as DemoOptimizer));
      r.axes = [Number(el.axisA.value), Number(el.axisB.value)];
      await r.init();
      if (id !== build) {
        await r.dispose();
        return;
      }
      run = r;
      el.device.textContent = chosen.text;
      el.device.dataset.engine = chosen.engine.device;
      fit.setData(m, ds.data);
      lossView?.reset();
      render(r); // now, so that the state below never stands beside the previous run's numbers
      drawn = { run: r, version: r.version };
      const notFinite = startNotFinite(m, start, ds.data, r.loss, r.grad);
      showMessage(el.error, notFinite);
      if (notFinite) block(notFinite, true);
    } catch (e) {
      if (id !== build) return;
      showMessage(el.error, (e as Error).message);
      el.status.textContent = `Could not build the run: ${(e as Error).message}`;
      setState('error');
    }
  }

  function render(r: FormulaRun): void {
    lossView?.update(r.lossEpochs, r.lossValues);
    fit.draw(r.theta);
    params.show(r.theta, r.grad);
    el.epoch.textContent = fmtCount(r.epoch);
    el.epoch.dataset.value = String(r.epoch);
    el.lossValue.textContent = fmt(r.loss, 6);
    el.lossValue.dataset.value = String(r.loss);
    const s = r.surface;
    const [ia, ib] = r.axes;
    const path: number[] = [];
    for (const t of r.path) path.push(t[ia], t[ib]);
    const truth = r.dataset.truth;
    contour.draw({
      surface: s, surfaceVersion: r.version, window: s?.window ?? { w0: -1, w1: 1, b0: -1, b1: 1 }, path,
      point: { w: r.theta[ia], b: r.theta[ib] }, grad: { w: 0, b: 0 }, flat: Infinity, lr: r.lr,
      optimum: truth && s ? { w: truth[ia], b: truth[ib] } : null, labels: { w: r.model.params[ia], b: r.model.params[ib] },
    });
    el.contour.dataset.surface = s ? `${s.spec.nx}x${s.spec.ny}` : '';
    el.contourNote.textContent = s
      ? `J over ${r.model.params[ia]} (across) and ${r.model.params[ib]} (up) on a ${s.spec.nx} × ${s.spec.ny} grid, the other parameters at their current values, by the float64 twin${s.sampled ? ' over an even sample of the rows' : ''}. The axes have their own scales, so ∇J is not drawn. Path: the parameters after each chunk of epochs${truth ? '; × the generating values' : ''}.`
      : 'Pick two different parameters (the model needs at least two) for a map.';
    const features = r.model.features.length;
    el.fitNote.textContent = features === 1
      ? `The data (at most 2000 rows shown) and ŷ(${r.model.features[0]}) at the current parameters.`
      : features === 0
        ? `${r.model.target} by row (at most 2000 rows shown) and ŷ at the current parameters: the model reads no column, so ŷ is the same for every row.`
        : 'Each sample\'s prediction against its target; a perfect fit lies on the line.';
    setState(r.state);
    el.status.textContent = r.message || STATE_TEXT[r.state] || '';
  }

  function frame(): void {
    const r = run;
    if (r && !el.layout.hidden && el.layout.dataset.state !== 'loading' && el.layout.dataset.state !== 'invalid' && (r !== drawn.run || r.version !== drawn.version)) {
      drawn = { run: r, version: r.version };
      render(r);
    }
    requestAnimationFrame(frame);
  }

  function setMode(on: boolean): void {
    el.layout.hidden = !on;
    if (!on) {
      document.getElementById('lede-linear')!.hidden = false;
      document.getElementById('lede-formula')!.hidden = true;
      void run?.pause();
      void lm.stop();
      return;
    }
    hooks.onEnter();
    for (const id of ['linear-layout', 'classifier-layout', 'status', 'lede-linear']) document.getElementById(id)!.hidden = true;
    document.getElementById('lede-formula')!.hidden = false;
    lossView ??= new LossView(el.lossChart);
    drawn.version = -1;
    if (!model && el.layout.dataset.state === 'loading') recompile();
  }

  el.mode.addEventListener('change', () => setMode(true));
  for (const id of ['mode-linear', 'mode-classifier']) document.getElementById(id)!.addEventListener('change', () => setMode(false));
  el.formula.addEventListener('input', () => schedule(recompile));
  el.lossCustom.addEventListener('input', () => schedule(recompile));
  el.loss.addEventListener('change', () => {
    el.lossCustom.disabled = el.loss.value !== 'custom';
    const arg = lossArgument(el.loss.value);
    el.lossArg.hidden = el.lossArgLabel.hidden = arg === null;
    if (arg) {
      el.lossArgLabel.textContent = `${arg.name}, the ${el.loss.value} loss's argument`;
      el.lossArg.value = String(arg.fallback);
    }
    recompile();
  });
  el.lossArg.addEventListener('input', () => schedule(recompile));
  el.example.addEventListener('change', () => {
    if (el.example.value === CUSTOM_EXAMPLE) return;
    el.formula.value = el.example.value;
    recompile();
  });
  for (const input of [el.n, el.lo, el.hi, el.noise]) input.addEventListener('input', () => schedule(rebuild));
  /** New data: the run on the previous data goes, with its numbers, before the formula is compiled for it. */
  function setSource(next: DataSource): void {
    source = next;
    el.useGenerated.hidden = next.kind === 'generated';
    const old = run;
    run = null;
    build++; // a build on the previous data that finishes late is thrown away
    void lm.stop().then(() => {
      lm.clear();
      return old?.dispose();
    });
    clearReadout();
    el.datasetLabel.textContent = sourceLabel(next);
    recompile();
  }

  // The data last asked for is the data used: a large file still being read when another is chosen, or the
  // generated data, is dropped when its read ends.
  let asked = 0;
  onFileChosen(el.file, el.dropZone, (file) => {
    const ask = ++asked;
    void readSource(file.name, file).then((next) => {
      if (ask === asked) setSource(next);
    });
  });
  el.useGenerated.addEventListener('click', () => {
    asked++;
    setSource({ kind: 'generated' });
  });
  el.optimizer.addEventListener('change', () => {
    if (!run) return;
    const trained = run.epoch > 0 || run.state === 'running';
    run.optimizer = optimizerFor(el.optimizer.value as DemoOptimizer);
    const name = el.optimizer.selectedOptions[0]?.textContent ?? el.optimizer.value;
    // Another optimizer's state cannot continue this one's: the run starts again, and says so if it had begun.
    void run.reset(trained ? `The optimizer changed to ${name}, so the run was reset to the starting values: press Train.` : '');
  });
  el.train.addEventListener('click', () => {
    const lr = parseLearningRate(el.lr.value);
    const epochs = parseField(el.epochs.value, 1, 1_000_000, true);
    const bad = !lr ? LR_MESSAGE : epochs === null ? 'epochs must be a whole number from 1 to 1 000 000' : null;
    showMessage(el.error, bad);
    if (!run || bad) return;
    run.lr = lr!;
    run.train(epochs!);
    drawn.version = -1;
  });
  el.pause.addEventListener('click', () => {
    void run?.pause();
    void lm.stop();
  });
  el.lm.button.addEventListener('click', () => {
    if (run && el.layout.dataset.state !== 'running') lm.start(run);
  });
  el.reset.addEventListener('click', () => {
    lossView?.reset();
    void run?.reset();
  });
  const axes = () => {
    if (run) void run.setAxes(Number(el.axisA.value), Number(el.axisB.value));
  };
  el.axisA.addEventListener('change', axes);
  el.axisB.addEventListener('change', axes);
  streamRunLock.onChange(() => setState(el.layout.dataset.state ?? 'loading'));
  setState('loading');
  requestAnimationFrame(frame);
}

