// The streamed-data panel: a file (picker or drop) or a URL is opened for its schema only; the user picks
// the target and the features from it; Train runs a StreamRun with progress (pass, bytes and rows read,
// rows/s) and the loss per epoch. The section's data-state says where it stands, for the tests:
// idle, opening, schema, training, done, stopped, error.
import './stream.css';
import type { Backend } from '../backend.ts';
import { fmt, fmtCount, fmtRate, LR_MESSAGE, parseField, parseLearningRate } from '../format.ts';
import { inputName, openData, type DataInput } from './open-data.ts';
import { PANEL_HTML } from './panel-html.ts';
import { onFileChosen } from '../file-drop.ts';
import { streamRunLock } from '../run-lock.ts';
import { StreamRun, type PassProgress } from './stream-run.ts';

export interface StreamPanelHooks {
  /** Training starts here: the page's other run pauses (the engines share the device or the threads). */
  onTrain(): void;
}

type PanelState = 'idle' | 'opening' | 'schema' | 'training' | 'done' | 'stopped' | 'error';

const FORMAT_NAMES: Record<string, string> = { csv: 'CSV', json: 'JSON', jsonl: 'JSON Lines', parquet: 'Parquet', arrow: 'Arrow IPC', raw: 'raw float32' };

export function mountStreamPanel(parent: HTMLElement, backend: Backend, hooks: StreamPanelHooks): void {
  const section = document.createElement('section');
  section.className = 'panel stream-panel';
  section.id = 'stream-panel';
  section.setAttribute('aria-labelledby', 'stream-h');
  section.innerHTML = PANEL_HTML;
  parent.append(section);
  new StreamPanel(section, backend, hooks);
}

class StreamPanel {
  private readonly q = <T extends HTMLElement>(id: string) => this.root.querySelector(`#${id}`) as T;
  private input: DataInput | null = null;
  private run: StreamRun | null = null;
  private pending: PassProgress | null = null;

  constructor(private readonly root: HTMLElement, private readonly backend: Backend, private readonly hooks: StreamPanelHooks) {
    this.setState('idle');
    onFileChosen(this.q<HTMLInputElement>('stream-file'), this.q('stream-drop'), (file) => void this.open({ kind: 'file', file }));
    this.q('stream-url-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const url = this.q<HTMLInputElement>('stream-url').value.trim();
      if (url) void this.open({ kind: 'url', url });
    });
    this.q('stream-target').addEventListener('change', () => this.fillFeatures());
    this.q('stream-train').addEventListener('click', () => void this.train());
    this.q('stream-stop').addEventListener('click', () => this.run?.stop());
  }

  private setState(state: PanelState, status?: string): void {
    this.root.dataset.state = state;
    const busy = state === 'opening' || state === 'training';
    this.q<HTMLButtonElement>('stream-open').disabled = busy;
    this.q<HTMLInputElement>('stream-file').disabled = busy;
    this.q<HTMLButtonElement>('stream-train').disabled = busy || this.input === null;
    this.q<HTMLButtonElement>('stream-stop').disabled = state !== 'training';
    // What a run was started with stays on screen while it runs: a target, a feature or a URL changed
    // mid-run would show a run that is not the one training.
    for (const id of ['stream-url', 'stream-target', 'stream-chunk', 'stream-lr', 'stream-epochs', 'stream-batch']) this.q<HTMLInputElement>(id).disabled = busy;
    for (const box of this.q('stream-features').querySelectorAll<HTMLInputElement>('input')) box.disabled = busy;
    if (status !== undefined) this.q('stream-status').textContent = status;
  }

  private showError(message: string | null): void {
    const el = this.q('stream-error');
    el.hidden = message === null;
    el.textContent = message ?? '';
  }

  /** The schema only: every numeric column (target null), no training rows read. */
  private async open(input: DataInput): Promise<void> {
    if (this.run) return;
    this.showError(null);
    this.clearRun();
    this.setState('opening', `Opening ${inputName(input)} (the schema only)…`);
    try {
      const counter = { bytes: 0 };
      const source = await openData(input, { target: null }, counter);
      if (source.features.length < 2) throw new Error(`${source.file}: needs at least two numeric columns (a target and a feature); found ${source.features.join(', ') || 'none'}`);
      this.input = input;
      const size = input.kind === 'file' ? ` · ${fmtBytes(input.file.size)}` : '';
      const rows = source.inputRows === undefined ? '' : ` · ${fmtCount(source.inputRows)} rows`;
      this.q('stream-about').textContent = `${source.file}: ${FORMAT_NAMES[source.format]}${size}${rows} · ` +
        `${source.features.length} numeric columns (${fmtBytes(counter.bytes)} read to learn them${source.format === 'csv' ? ': the header and the first rows' : ''})`;
      const target = this.q<HTMLSelectElement>('stream-target');
      target.replaceChildren(...source.features.map((c) => new Option(c, c)));
      target.value = defaultTarget(source.features);
      this.fillFeatures();
      this.q('stream-schema').hidden = false;
      this.setState('schema', 'Choose the target and the features, then Train.');
    } catch (e) {
      this.input = null;
      this.q('stream-schema').hidden = true;
      this.showError((e as Error).message);
      this.setState('error', 'Could not open the data.');
    }
  }

  /** Every candidate column but the target, checked. */
  private fillFeatures(): void {
    const target = this.q<HTMLSelectElement>('stream-target');
    const box = this.q('stream-features');
    const columns = Array.from(target.options, (o) => o.value).filter((c) => c !== target.value);
    box.replaceChildren(Object.assign(document.createElement('legend'), { textContent: 'Features' }), ...columns.map((c) => {
      const label = document.createElement('label');
      const check = Object.assign(document.createElement('input'), { type: 'checkbox', checked: true, value: c });
      label.append(check, ` ${c}`);
      return label;
    }));
  }

  private readPlan() {
    const lr = parseLearningRate(this.q<HTMLInputElement>('stream-lr').value);
    const epochs = parseField(this.q<HTMLInputElement>('stream-epochs').value, 1, 1000, true);
    const chunkMb = parseField(this.q<HTMLInputElement>('stream-chunk').value, 1, 256, true);
    const batch = this.q<HTMLSelectElement>('stream-batch').value;
    const features = Array.from(this.q('stream-features').querySelectorAll<HTMLInputElement>('input:checked'), (c) => c.value);
    if (lr === null) throw new Error(LR_MESSAGE);
    if (epochs === null) throw new Error('epochs must be a whole number from 1 to 1000');
    if (chunkMb === null) throw new Error('the chunk must be a whole number of MB from 1 to 256');
    if (features.length === 0) throw new Error('choose at least one feature');
    return { lr, epochs, chunkBytes: chunkMb << 20, batchSize: batch === 'full' ? null : Number(batch), features };
  }

  private async train(): Promise<void> {
    if (!this.input || this.run) return;
    let plan;
    try {
      plan = { ...this.readPlan(), input: this.input, target: this.q<HTMLSelectElement>('stream-target').value };
    } catch (e) {
      this.showError((e as Error).message);
      return;
    }
    this.showError(null);
    this.hooks.onTrain();
    this.clearRun();
    const run = new StreamRun(this.backend, plan, {
      onProgress: (p) => this.schedule(p),
      onLoss: (epoch, loss) => this.addLoss(epoch, loss),
    });
    this.run = run;
    streamRunLock.set(true);
    this.setState('training', `Training on ${inputName(plan.input)}…`);
    try {
      const result = await run.run();
      // A stopped stream is not read once more to evaluate where it stopped: its loss is the last whole epoch's mean.
      const lastEpoch = result.lossOf === 'last-epoch';
      if (!lastEpoch || Number.isFinite(result.loss)) this.showLoss(result.loss);
      const lossText = !lastEpoch ? `loss ${fmt(result.loss)}` : Number.isFinite(result.loss) ? `loss ${fmt(result.loss)}, the last whole epoch's mean` : 'no whole epoch';
      const stopped = result.stopReason === 'aborted';
      const p = run.progress;
      this.setState(stopped ? 'stopped' : 'done', `${stopped ? 'Stopped' : 'Done'} after ${result.epochs} epoch${result.epochs === 1 ? '' : 's'} over ` +
        `${fmtCount(p.totalRows ?? 0)} rows${p.droppedRows ? ` (${fmtCount(p.droppedRows)} with missing values dropped)` : ''}: ${lossText} (${result.stopReason}).`);
    } catch (e) {
      if (run.stopped) this.setState('stopped', 'Stopped before training began.');
      else {
        this.showError((e as Error).message);
        this.setState('error', 'Training stopped with an error; nothing was trained on a partial pass.');
      }
    } finally {
      this.run = null;
      streamRunLock.set(false);
      this.setState(this.root.dataset.state as PanelState);
    }
  }

  /** The last run's losses, progress and loss go: none may stand beside data or a run they are not about. */
  private clearRun(): void {
    this.pending = null;
    this.q('stream-losses').replaceChildren();
    for (const id of ['stream-epoch', 'stream-bytes', 'stream-rows', 'stream-rate', 'stream-loss']) {
      const out = this.q(id);
      out.textContent = '—';
      delete out.dataset.value;
      delete out.dataset.phase;
    }
  }

  private addLoss(epoch: number, loss: number): void {
    const li = document.createElement('li');
    li.textContent = `epoch ${epoch}: ${fmt(loss)}`;
    li.dataset.value = String(loss);
    this.q('stream-losses').append(li);
    this.showLoss(loss);
  }

  private showLoss(loss: number): void {
    const out = this.q('stream-loss');
    out.textContent = fmt(loss);
    out.dataset.value = String(loss);
  }

  /** Progress comes per chunk; the outputs are written once a frame. */
  private schedule(p: PassProgress): void {
    if (this.pending) {
      this.pending = p;
      return;
    }
    this.pending = p;
    requestAnimationFrame(() => {
      const q = this.pending;
      this.pending = null;
      if (q) this.renderProgress(q); // null: the panel was cleared since
    });
  }

  private renderProgress(p: PassProgress): void {
    const set = (id: string, text: string, value: number) => {
      const out = this.q(id);
      out.textContent = text;
      out.dataset.value = String(value);
    };
    const pass = p.phase === 'statistics' ? 'statistics (row count, means, spreads)'
      : p.phase === 'final' ? 'final loss' : `epoch ${p.epoch} of ${p.epochs}`;
    set('stream-epoch', pass, p.phase === 'statistics' ? 0 : p.phase === 'final' ? p.epochs + 1 : p.epoch);
    this.q('stream-epoch').dataset.phase = p.phase;
    set('stream-bytes', fmtBytes(p.bytes), p.bytes);
    set('stream-rows', p.totalRows === null ? fmtCount(p.rows) : `${fmtCount(p.rows)} of ${fmtCount(p.totalRows)}`, p.rows);
    const seconds = (performance.now() - p.startedMs) / 1000;
    set('stream-rate', fmtRate(p.rows / seconds, 'rows/s'), p.rows / seconds);
  }
}

function defaultTarget(columns: readonly string[]): string {
  for (const name of ['y', 'target', 'label']) {
    const hit = columns.find((c) => c.toLowerCase() === name);
    if (hit) return hit;
  }
  return columns[columns.length - 1];
}

function fmtBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1 << 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1 << 30) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  return `${(bytes / (1 << 30)).toFixed(2)} GiB`;
}
