// The page's form controls: reading and checking their values, enabling buttons for the run state, and
// the file picker with drag and drop.
import { LR_MESSAGE, parseField, parseLearningRate } from './format.ts';
import { onFileChosen } from './file-drop.ts';
import type { GenerateParams } from './data.ts';
import type { RunState } from './trainer.ts';
import { streamRunLock } from './run-lock.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export class Controls {
  readonly genForm = $<HTMLFormElement>('gen-form');
  readonly fileInput = $<HTMLInputElement>('file-input');
  readonly dropZone = $<HTMLDivElement>('drop-zone');
  readonly target = $<HTMLSelectElement>('target-select');
  readonly feature = $<HTMLSelectElement>('feature-select');
  readonly lr = $<HTMLInputElement>('lr');
  readonly epochs = $<HTMLInputElement>('epochs');
  readonly standardize = $<HTMLInputElement>('standardize');
  readonly batch = $<HTMLSelectElement>('batch-select');
  readonly train = $<HTMLButtonElement>('train');
  readonly pause = $<HTMLButtonElement>('pause');
  readonly step = $<HTMLButtonElement>('step');
  readonly reset = $<HTMLButtonElement>('reset');
  readonly generate = $<HTMLButtonElement>('generate');
  private readonly fileError = $<HTMLParagraphElement>('file-error');
  private readonly inputError = $<HTMLParagraphElement>('input-error');

  /** The generated dataset's parameters, or null (with the message shown) when one is out of range. */
  generateParams(): GenerateParams | null {
    const f = (id: string) => $<HTMLInputElement>(id).value;
    const n = parseField(f('gen-n'), 1, 10_000_000, true);
    const w = parseField(f('gen-w'), -1e6, 1e6);
    const b = parseField(f('gen-b'), -1e6, 1e6);
    const noise = parseField(f('gen-noise'), 0, 1e6);
    const bad = n === null ? 'N must be a whole number from 1 to 10 000 000'
      : w === null || b === null ? 'w and b must be numbers between −10⁶ and 10⁶'
        : noise === null ? 'the noise σ must be a number from 0 to 10⁶' : null;
    this.showInputError(bad);
    return bad ? null : { n: n!, w: w!, b: b!, noise: noise!, seed: 20261126 };
  }

  learningRate(): number | null {
    const v = parseLearningRate(this.lr.value);
    this.showInputError(v === null || v === 0 ? LR_MESSAGE : null);
    return v;
  }

  epochCount(): number | null {
    const v = parseField(this.epochs.value, 1, 1_000_000, true);
    this.showInputError(v === null ? 'epochs must be a whole number from 1 to 1 000 000' : null);
    return v;
  }

  /** Samples per step; null for full batch. */
  batchSize(): number | null {
    return this.batch.value === 'full' ? null : Number(this.batch.value);
  }

  showInputError(message: string | null): void {
    this.inputError.hidden = message === null;
    this.inputError.textContent = message ?? '';
  }

  showFileError(message: string | null): void {
    this.fileError.hidden = message === null;
    this.fileError.textContent = message ?? '';
  }

  /** Fills a select with the given columns (setRunState enables it where it has any). */
  setOptions(select: HTMLSelectElement, names: readonly string[], selected: string | null): void {
    select.replaceChildren(...names.map((n) => new Option(n, n, false, n === selected)));
  }

  setRunState(state: RunState | 'loading'): void {
    const running = state === 'running';
    const usable = state !== 'loading' && state !== 'error';
    // A streamed run holds the page (run-lock.ts): Train and Step wait for it.
    const locked = streamRunLock.streaming;
    this.train.disabled = running || !usable || locked;
    this.pause.disabled = !running;
    this.step.disabled = running || !usable || locked;
    this.reset.disabled = state === 'loading';
    this.generate.disabled = state === 'loading';
    // Each of these rebuilds the run from the dataset being replaced: changed while it loads, one choice
    // would undo another (a new target lost to a feature chosen next) or be ignored with its box still ticked.
    this.target.disabled = state === 'loading' || this.target.options.length === 0;
    this.feature.disabled = state === 'loading' || this.feature.options.length === 0;
    this.standardize.disabled = state === 'loading';
  }

  /** Calls back with the file chosen by the picker or dropped on the zone. */
  onFile(handler: (file: File) => void): void {
    // A file dropped beside the zone must not make the browser leave the page (and the run).
    for (const type of ['dragover', 'drop'] as const) document.addEventListener(type, (e) => e.preventDefault());
    onFileChosen(this.fileInput, this.dropZone, handler);
  }

}
