// The demo page: picks WebGPU or the CPU path, loads a dataset (generated or the user's file), and
// drives the Trainer from the controls while rendering the views at display rate.
import './style.css';
import { fitStandardizer, standardizeData } from '../models/standardize.ts';
import { pickBackend, type Backend } from './backend.ts';
import { createEngines, linearDeviceText } from './linear-engines.ts';
import { setupClassifier } from './classifier/cls-page.ts';
import { setupFormula } from './formula/formula-page.ts';
import { mountStreamPanel } from './data-source/stream-panel.ts';
import { streamRunLock } from './run-lock.ts';
import { Controls } from './controls.ts';
import { defaultTarget, generateDataset, readDataFile, selectFromFile, suggestedLr, type DemoDataset, type ParsedFile } from './data.ts';
import { adapterText, fmtCount, roundLr } from './format.ts';
import { yieldTask } from './tasks.ts';
import { TOL, Trainer } from './trainer.ts';
import { ContourView } from './views/contour-view.ts';
import { DataView, MAX_POINTS } from './views/data-view.ts';
import { LossView } from './views/loss-view.ts';
import { escapeHtml, originalParams, renderReadout } from './views/readout.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const controls = new Controls();
const contour = new ContourView($<HTMLCanvasElement>('contour'));
const dataView = new DataView($<HTMLCanvasElement>('data-canvas'));
const lossView = new LossView($('loss-chart'));

let backend: Backend;
let trainer: Trainer | null = null;
let current: { dataset: DemoDataset; parsed: ParsedFile | null; means: Float64Array } | null = null;
let loading = false;
let drawn = { trainer: null as Trainer | null, version: -1, lr: NaN };

const STATUS_TEXT: Record<string, string> = {
  ready: 'Ready: press Train, or Step one epoch.', running: 'Training…', paused: 'Paused: Train goes on from here.',
};

function status(text: string): void {
  $('status').textContent = text;
}

function setLoading(on: boolean, text?: string): void {
  loading = on;
  if (on) document.body.dataset.state = 'loading';
  controls.setRunState(on ? 'loading' : trainer?.state ?? 'loading');
  if (text) status(text);
  drawn.version = -1;
}

function showDevice(): void {
  $('device').textContent = linearDeviceText(backend);
  if (backend.kind === 'gpu') {
    $('adapter').textContent = adapterText(backend.summary);
    return;
  }
  const banner = $('banner');
  banner.hidden = false;
  banner.textContent = `WebGPU is not available: ${backend.reason}. Training runs on the fast CPU path, checked against the shaders' float64 twin; every control works the same.`;
  $('adapter').textContent = 'none (no WebGPU adapter in use)';
}

function featureMeans(ds: DemoDataset): Float64Array {
  const { x, n, d } = ds.data;
  const m = new Float64Array(d);
  for (let i = 0; i < n * d; i++) m[i % d] += x[i];
  return m.map((v) => v / n);
}

/**
 * The latest dataset the user asked for (generated, a file, another target...): a load it replaced while
 * still building (a file chosen while 10⁷ samples generate) ends unseen, rather than finishing last and
 * putting the older choice back on screen.
 */
let requested = 0;

/** request: the number taken when the user asked for this dataset (a generation takes one before it starts). */
interface InstallOptions { standardize: boolean; k: number; suggestLr: boolean; request?: number }

/** Builds engines for a dataset; on failure the previous dataset and run stay as they were. */
async function install(dataset: DemoDataset, parsed: ParsedFile | null, o: InstallOptions): Promise<boolean> {
  const id = o.request ?? ++requested;
  if (id !== requested) return false;
  trainer?.pause();
  setLoading(true, `Loading ${dataset.label}…`);
  let next: Trainer;
  let device: string;
  try {
    await yieldTask();
    const standardizer = o.standardize ? fitStandardizer(dataset.data) : null;
    const data = standardizer ? standardizeData(dataset.data, standardizer) : dataset.data;
    const lr = o.suggestLr ? roundLr(suggestedLr(data)) : controls.learningRate() ?? roundLr(suggestedLr(data));
    const engines = await createEngines(backend, data);
    device = linearDeviceText(backend, engines.engine);
    next = new Trainer(engines, { dataset, data, standardizer, k: o.k }, lr, backend.kind === 'cpu');
    next.batchSize = controls.batchSize();
  } catch (e) {
    if (id !== requested) return false;
    setLoading(false, `Could not load ${dataset.label}: ${(e as Error).message}`);
    if (!trainer) document.body.dataset.state = 'error';
    (parsed ? controls.showFileError : controls.showInputError).call(controls, (e as Error).message);
    return false;
  }
  if (id !== requested) {
    void next.dispose();
    return false;
  }
  // Swapped at once, so that a load asked for from here on replaces this run, not the one it replaced.
  const prev = trainer;
  trainer = next;
  current = { dataset, parsed, means: dataset.data.d > 1 ? featureMeans(dataset) : new Float64Array(1) };
  await prev?.dispose();
  $('device').textContent = device;
  controls.lr.value = String(next.lr);
  controls.standardize.checked = o.standardize;
  if (parsed) {
    controls.setOptions(controls.target, parsed.numeric, dataset.target);
    controls.setOptions(controls.feature, dataset.features, dataset.features[o.k]);
  } else {
    controls.setOptions(controls.target, [], null);
    controls.setOptions(controls.feature, [], null);
  }
  describe(next);
  dataView.setData(dataset.data, o.k, dataset.features[o.k], dataset.target);
  lossView.reset();
  await next.init();
  if (id === requested) setLoading(false, next.state === 'error' ? next.message : 'Ready: press Train, or Step one epoch.');
  return true;
}

function describe(t: Trainer): void {
  const { dataset, standardizer, k } = t.space;
  const feature = dataset.features[k];
  $('dataset-label').textContent = dataset.label;
  let note = standardizer
    ? 'Optimizing on standardized data (z-scores of every feature and of the target): J, ∇J, the map, the path and the ' +
      '“optimized” column are in standardized units; w, b in the data’s units are mapped back exactly.'
    : 'Optimizing on the raw data: every number is in the data’s units.';
  if (dataset.features.length > 1) {
    note += ` Here w is the weight of “${feature}”, the feature on the map; the other weights are held at their current values there, so the slice moves as they change.`;
  }
  $('space-note').textContent = note;
  $('surface-note').textContent = `${backend.kind === 'gpu' ? 'Computed on the GPU by the WGSL loss-surface pass (residual moments over all N samples, then J on a 96 × 96 grid).' : 'Computed by the CPU twin of the loss-surface shaders (float64).'} × marks the least-squares minimum. Axes: ${feature === 'x' ? 'w' : `w[${feature}]`} across, b up${standardizer ? ' (standardized units)' : ''}.`;
  const shown = Math.min(MAX_POINTS, dataset.data.n);
  $('data-note').innerHTML = `${fmtCount(shown)} of ${fmtCount(dataset.data.n)} samples shown${shown < dataset.data.n ? ' (every ' + Math.floor(dataset.data.n / shown) + '-th row)' : ''}; ` +
    `the line is the current fit in the data’s units${dataset.features.length > 1 ? `, along “${escapeHtml(feature)}” with the other features at their means` : ''}.`;
}

/** Files picked, so that a large one still being read when another is picked ends unseen. */
let filesPicked = 0;

async function loadFile(file: File): Promise<void> {
  const pick = ++filesPicked;
  const before = requested;
  let parsed: ParsedFile;
  let dataset: DemoDataset;
  if (!loading) status(`Reading ${file.name}…`);
  try {
    parsed = await readDataFile(file, file.name);
    const target = defaultTarget(parsed.numeric);
    if (target === null || parsed.numeric.length < 2) throw new Error(`${file.name}: needs a numeric target and at least one numeric feature column`);
    dataset = selectFromFile(parsed, target);
  } catch (e) {
    if (pick !== filesPicked || requested !== before) return;
    drawn.version = -1; // the status line goes back to the run's
    controls.showFileError((e as Error).message); // the previous dataset and run are untouched
    return;
  }
  // Something asked for while the file was read (another file, a generation, a target) is newer.
  if (pick !== filesPicked || requested !== before) return;
  controls.showFileError(null);
  await install(dataset, parsed, { standardize: true, k: 0, suggestLr: true });
}

function wire(): void {
  controls.genForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = controls.generateParams();
    if (!p || loading) return;
    void (async () => {
      const request = ++requested;
      setLoading(true, `Generating ${fmtCount(p.n)} samples…`);
      const ds = await generateDataset(p, yieldTask, (done) => {
        if (request === requested) status(`Generating… ${fmtCount(done)} of ${fmtCount(p.n)} samples`);
      });
      await install(ds, null, { standardize: false, k: 0, suggestLr: true, request });
    })();
  });
  controls.onFile((file) => void loadFile(file));
  controls.target.addEventListener('change', () => {
    if (!current?.parsed) return;
    const before = current.dataset.target;
    try {
      const ds = selectFromFile(current.parsed, controls.target.value);
      controls.showFileError(null);
      void install(ds, current.parsed, { standardize: controls.standardize.checked, k: 0, suggestLr: true });
    } catch (e) {
      controls.showFileError((e as Error).message);
      controls.target.value = before;
    }
  });
  controls.feature.addEventListener('change', () => {
    if (!current) return;
    void install(current.dataset, current.parsed, { standardize: controls.standardize.checked, k: controls.feature.selectedIndex, suggestLr: false });
  });
  controls.standardize.addEventListener('change', () => {
    if (!current || loading) return;
    void install(current.dataset, current.parsed, { standardize: controls.standardize.checked, k: trainer?.space.k ?? 0, suggestLr: true });
  });
  controls.lr.addEventListener('input', () => {
    const lr = controls.learningRate();
    if (lr && trainer) trainer.lr = lr;
  });
  controls.train.addEventListener('click', () => {
    const lr = controls.learningRate();
    const epochs = lr === null ? null : controls.epochCount();
    if (!trainer || loading || lr === null || epochs === null) return;
    trainer.lr = lr;
    trainer.train(epochs);
  });
  controls.batch.addEventListener('change', () => {
    if (trainer) trainer.batchSize = controls.batchSize(); // from the next chunk on, like the learning rate
  });
  controls.pause.addEventListener('click', () => trainer?.pause());
  controls.step.addEventListener('click', () => {
    const lr = controls.learningRate();
    if (!trainer || loading || lr === null) return;
    trainer.lr = lr;
    void trainer.step();
  });
  controls.reset.addEventListener('click', () => {
    if (!trainer || loading) return;
    lossView.reset();
    void trainer.reset();
  });
}

function render(t: Trainer): void {
  renderReadout(t);
  if (loading) document.body.dataset.state = 'loading';
  const k = t.space.k;
  const feature = t.space.dataset.features[k];
  contour.draw({
    surface: t.surface, surfaceVersion: t.surfaceVersion, window: t.window, path: t.path, point: t.point,
    grad: { w: t.grad[k], b: t.grad[t.d] }, flat: 10 * TOL, lr: t.lr, optimum: t.optimum,
    labels: { w: t.d > 1 ? `w[${feature}]` : 'w', b: 'b' },
  });
  lossView.update(t.lossEpochs, t.lossValues);
  const orig = originalParams(t);
  let intercept = orig.b;
  for (let j = 0; j < t.d; j++) if (j !== k) intercept += orig.w[j] * current!.means[j];
  dataView.draw(orig.w[k], intercept);
  controls.setRunState(loading ? 'loading' : t.state);
  if (!loading) status(t.message || STATUS_TEXT[t.state] || '');
}

function frame(): void {
  const t = trainer;
  if (t && current && (t !== drawn.trainer || t.version !== drawn.version || t.lr !== drawn.lr)) {
    drawn = { trainer: t, version: t.version, lr: t.lr };
    render(t);
  }
  requestAnimationFrame(frame);
}

async function boot(): Promise<void> {
  const query = new URLSearchParams(location.search);
  // ?n=10000 sets the first dataset's size (the end-to-end tests keep it small); ?cpu=1 forces the CPU path.
  if (query.has('n')) ($('gen-n') as HTMLInputElement).value = query.get('n')!;
  backend = await pickBackend(query.get('cpu') === '1');
  showDevice();
  wire();
  const classifier = setupClassifier(backend, { onEnter: () => trainer?.pause() });
  setupFormula(backend, {
    onEnter: () => {
      trainer?.pause();
      classifier.pause();
    },
  });
  mountStreamPanel($('linear-layout'), backend, {
    onTrain: () => {
      trainer?.pause();
      classifier.pause();
    },
  });
  streamRunLock.onChange(() => controls.setRunState(loading ? 'loading' : trainer?.state ?? 'loading'));
  requestAnimationFrame(frame);
  const p = controls.generateParams() ?? { n: 100_000, w: 3, b: 2, noise: 1, seed: 20261126 };
  const request = ++requested;
  setLoading(true, `Generating ${fmtCount(p.n)} samples…`);
  await install(await generateDataset(p, yieldTask), null, { standardize: false, k: 0, suggestLr: true, request });
}

void boot();
