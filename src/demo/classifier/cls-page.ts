// The classifier mode of the page: its controls, the run (ClassifierRun) and its views. The linear mode's
// code is untouched; main.ts only calls setupClassifier once the backend is known and pauses its own run
// when this mode is entered.
import { cpuDeviceText, type Backend } from '../backend.ts';
import { fmt, fmtCount, LR_MESSAGE, parseField, parseLearningRate } from '../format.ts';
import { streamRunLock } from '../run-lock.ts';
import { yieldTask } from '../tasks.ts';
import { LossView } from '../views/loss-view.ts';
import { BoundaryView } from './boundary-view.ts';
import { ClassifierRun, createModelEngine, GRID_RES } from './cls-trainer.ts';
import { classesOf, generateClassifier, type ClassifierParams, type Shape } from './datasets.ts';
import { DEFAULT_LR, networkFor, optimizerFor, type ClassifierModel, type DemoOptimizer } from './models.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const DATA_SEED = 20261126;
/** Noise that suits each shape's scale (blobs sit 2 apart from the origin, the others within the unit square). */
const SHAPE_NOISE: Record<Shape, number> = { blobs: 0.5, spirals: 0.05, xor: 0.05 };
const STATE_TEXT: Record<string, string> = {
  ready: 'Ready: press Train.', running: 'Training…', paused: 'Paused: Train goes on from here.', done: 'Done: Train goes on for more epochs.',
};

export interface ClassifierHooks {
  /** Called when the classifier mode is entered (the linear run pauses). */
  onEnter(): void;
}

/** Returns what another mode needs: pausing this one's run when it is entered. */
export function setupClassifier(backend: Backend, hooks: ClassifierHooks): { pause(): void } {
  const el = {
    layout: $('classifier-layout'), linear: $('linear-layout'),
    modeLinear: $<HTMLInputElement>('mode-linear'), modeCls: $<HTMLInputElement>('mode-classifier'),
    shape: $<HTMLSelectElement>('cls-shape'), classes: $<HTMLSelectElement>('cls-classes'),
    n: $<HTMLInputElement>('cls-n'), noise: $<HTMLInputElement>('cls-noise'),
    model: $<HTMLSelectElement>('cls-model'), hidden: $<HTMLSelectElement>('cls-hidden'),
    activation: $<HTMLSelectElement>('cls-activation'), optimizer: $<HTMLSelectElement>('cls-optimizer'),
    lr: $<HTMLInputElement>('cls-lr'), epochs: $<HTMLInputElement>('cls-epochs'),
    train: $<HTMLButtonElement>('cls-train'), pause: $<HTMLButtonElement>('cls-pause'), reset: $<HTMLButtonElement>('cls-reset'),
    error: $('cls-error'), status: $('cls-status'),
  };
  const boundary = new BoundaryView($<HTMLCanvasElement>('boundary'));
  let lossView: LossView | null = null; // created when first shown (uPlot measures its container)
  let run: ClassifierRun | null = null;
  let loading = false;
  let pending = false;
  let drawn = { run: null as ClassifierRun | null, version: -1 };
  $('cls-device').textContent = backend.kind === 'gpu' ? 'WebGPU: WGSL compute shaders' : cpuDeviceText(backend.threads);

  const showError = (m: string | null) => {
    el.error.hidden = m === null;
    el.error.textContent = m ?? '';
  };
  const setOut = (id: string, text: string, value: number) => {
    const o = $(id);
    o.textContent = text;
    o.dataset.value = String(value);
  };

  function readParams(): ClassifierParams | null {
    const n = parseField(el.n.value, 4, 100_000, true);
    const noise = parseField(el.noise.value, 0, 5);
    const bad = n === null ? 'N must be a whole number from 4 to 100 000' : noise === null ? 'the noise σ must be a number from 0 to 5' : null;
    showError(bad);
    return bad ? null : { shape: el.shape.value as Shape, n: n!, classes: Number(el.classes.value), noise: noise!, seed: DATA_SEED };
  }

  function syncOptions(): void {
    const K = classesOf({ shape: el.shape.value as Shape, classes: Number(el.classes.value) });
    el.classes.disabled = el.shape.value !== 'blobs';
    const logistic = el.model.querySelector<HTMLOptionElement>('option[value="logistic"]')!;
    logistic.disabled = K !== 2;
    if (K !== 2 && el.model.value === 'logistic') el.model.value = 'softmax';
    const mlp = el.model.value === 'mlp';
    el.hidden.disabled = !mlp;
    el.activation.disabled = !mlp;
  }

  function setState(state: string): void {
    el.layout.dataset.state = state;
    $('cls-state').textContent = state;
    const busy = state === 'loading';
    el.train.disabled = busy || state === 'running' || streamRunLock.streaming;
    el.pause.disabled = state !== 'running';
    el.reset.disabled = busy || state === 'running';
  }

  /** Builds the dataset and the engine from the controls; the previous run goes away. */
  async function load(): Promise<void> {
    if (loading) {
      pending = true;
      return;
    }
    syncOptions();
    const p = readParams();
    if (!p) return;
    loading = true;
    setState('loading');
    el.status.textContent = `Generating ${fmtCount(p.n)} samples and building the model…`;
    try {
      await run?.dispose();
      run = null;
      await yieldTask();
      const ds = generateClassifier(p);
      const model = el.model.value as ClassifierModel;
      const config = networkFor({ model, hidden: Number(el.hidden.value), activation: el.activation.value as 'tanh' | 'relu' }, ds.classes);
      const engine = await createModelEngine(backend, config, ds);
      run = new ClassifierRun(engine, config, ds, optimizerFor(el.optimizer.value as DemoOptimizer));
      run.lr = parseLearningRate(el.lr.value) ?? DEFAULT_LR[el.optimizer.value as DemoOptimizer];
      $('cls-dataset-label').textContent = ds.label;
      $('cls-model-label').textContent = model === 'mlp'
        ? `MLP 2 → ${config.hidden[0]} (${config.activation}) → ${config.outputs}, ${config.head === 'bce' ? 'sigmoid' : 'softmax'} cross-entropy`
        : model === 'logistic' ? 'logistic regression (sigmoid, binary cross-entropy)' : `softmax regression, ${ds.classes} classes`;
      lossView?.reset();
      el.status.textContent = STATE_TEXT.ready;
    } catch (e) {
      el.status.textContent = `Could not build the run: ${(e as Error).message}`;
      showError((e as Error).message);
    } finally {
      loading = false;
      drawn.version = -1;
      setState(run ? run.state : 'error');
    }
    if (pending) {
      pending = false;
      await load();
    }
  }

  function render(r: ClassifierRun): void {
    const { data } = r.dataset;
    boundary.draw(r.cells, GRID_RES, r.extent, data.x, data.y, data.n);
    lossView?.update(r.lossEpochs, r.lossValues);
    setOut('cls-epoch', String(r.epoch), r.epoch);
    setOut('cls-loss', Number.isFinite(r.loss) ? fmt(r.loss) : '—', r.loss);
    setOut('cls-accuracy', `${(100 * r.accuracy).toFixed(1)} %`, r.accuracy);
    setState(r.state);
    el.status.textContent = r.message || STATE_TEXT[r.state] || '';
  }

  function frame(): void {
    const r = run;
    if (r && !loading && !el.layout.hidden && (r !== drawn.run || r.version !== drawn.version)) {
      drawn = { run: r, version: r.version };
      render(r);
    }
    requestAnimationFrame(frame);
  }

  function setMode(classifier: boolean): void {
    el.layout.hidden = !classifier;
    el.linear.hidden = classifier;
    $('status').hidden = classifier; // the linear run's status line; this mode has its own
    if (!classifier) {
      void run?.pause();
      return;
    }
    hooks.onEnter();
    lossView ??= new LossView($('cls-loss-chart'));
    drawn.version = -1;
    if (!run && !loading) void load();
  }

  el.modeLinear.addEventListener('change', () => setMode(false));
  el.modeCls.addEventListener('change', () => setMode(true));
  el.shape.addEventListener('change', () => {
    el.noise.value = String(SHAPE_NOISE[el.shape.value as Shape]);
    void load();
  });
  for (const c of [el.classes, el.n, el.noise, el.model, el.hidden, el.activation]) c.addEventListener('change', () => void load());
  el.optimizer.addEventListener('change', () => {
    const kind = el.optimizer.value as DemoOptimizer;
    el.lr.value = String(DEFAULT_LR[kind]);
    if (!run || loading) return;
    run.optimizer = optimizerFor(kind);
    run.lr = DEFAULT_LR[kind];
    void run.reset();
  });
  el.lr.addEventListener('input', () => {
    const lr = parseLearningRate(el.lr.value);
    showError(lr === null || lr === 0 ? LR_MESSAGE : null);
    if (lr && run) run.lr = lr;
  });
  el.train.addEventListener('click', () => {
    // The data's fields first: Train must not quietly fit the last dataset that was valid.
    if (readParams() === null) return;
    const lr = parseLearningRate(el.lr.value);
    const epochs = parseField(el.epochs.value, 1, 1_000_000, true);
    const bad = !lr ? LR_MESSAGE : epochs === null ? 'epochs must be a whole number from 1 to 1 000 000' : null;
    showError(bad);
    if (!run || loading || bad) return;
    run.lr = lr!;
    run.train(epochs!);
    drawn.version = -1;
  });
  el.pause.addEventListener('click', () => void run?.pause());
  el.reset.addEventListener('click', () => {
    if (!run || loading) return;
    lossView?.reset();
    void run.reset();
  });
  streamRunLock.onChange(() => setState(el.layout.dataset.state ?? 'loading'));
  syncOptions();
  setState('loading');
  requestAnimationFrame(frame);
  return { pause: () => void run?.pause() };
}
