// The formula mode's form: its elements, an error drawn under the text it is about (the character marked,
// a caret under its column), the parameter table (start and true values kept by name while the formula
// changes) and the numbers read from the fields.
import { NAMED_LOSSES } from '../../formula/losses.ts';
import type { FormulaModel } from '../../formula/model.ts';
import { fmt, parseField } from '../format.ts';
import { escapeHtml } from '../views/readout.ts';
import type { SpecError } from './formula-spec.ts';
import { DEFAULT_FORMULA, EXAMPLES, fallbackValues, missingStartMessage } from './formula-spec.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function formulaElements() {
  return {
    layout: $('formula-layout'), mode: $<HTMLInputElement>('mode-formula'),
    formula: $<HTMLInputElement>('f-formula'), formulaError: $('f-formula-error'),
    example: $<HTMLSelectElement>('f-example'), loss: $<HTMLSelectElement>('f-loss'),
    lossCustom: $<HTMLInputElement>('f-loss-custom'), lossError: $('f-loss-error'),
    lossArg: $<HTMLInputElement>('f-loss-arg'), lossArgLabel: $('f-loss-arg-label'),
    n: $<HTMLInputElement>('f-n'), lo: $<HTMLInputElement>('f-lo'), hi: $<HTMLInputElement>('f-hi'), noise: $<HTMLInputElement>('f-noise'),
    file: $<HTMLInputElement>('f-file-input'), dropZone: $('f-drop-zone'), useGenerated: $<HTMLButtonElement>('f-use-generated'), dataError: $('f-data-error'),
    params: $('f-params'), paramsError: $('f-params-error'), optimizer: $<HTMLSelectElement>('f-optimizer'), lr: $<HTMLInputElement>('f-lr'), epochs: $<HTMLInputElement>('f-epochs'),
    train: $<HTMLButtonElement>('f-train'), pause: $<HTMLButtonElement>('f-pause'), reset: $<HTMLButtonElement>('f-reset'),
    error: $('f-error'), status: $('f-status'), derivation: $('f-derivation'), wgsl: $('f-wgsl'),
    axisA: $<HTMLSelectElement>('f-axis-a'), axisB: $<HTMLSelectElement>('f-axis-b'),
    fit: $<HTMLCanvasElement>('f-fit'), fitNote: $('f-fit-note'), contour: $<HTMLCanvasElement>('f-contour'), contourNote: $('f-contour-note'),
    lossChart: $('f-loss-chart'), device: $('f-device'), datasetLabel: $('f-dataset-label'),
    epoch: $('f-epoch'), lossValue: $('f-loss-value'),
    lm: {
      button: $<HTMLButtonElement>('f-fit-lm'), why: $('f-fit-why'), panel: $('f-lm'), status: $('f-lm-status'),
      engine: $('f-lm-engine'), chart: $('f-lm-chart'), table: $('f-lm-table'), error: $('f-lm-error'),
    },
  };
}
export type FormulaElements = ReturnType<typeof formulaElements>;

/** The Examples menu's entry for a formula that is none of the examples. */
export const CUSTOM_EXAMPLE = '';

export function fillStaticOptions(el: FormulaElements): void {
  el.example.replaceChildren(
    new Option('custom (your formula)', CUSTOM_EXAMPLE),
    ...Object.keys(EXAMPLES).map((f) => new Option(f, f, false, f === DEFAULT_FORMULA)),
  );
  el.loss.replaceChildren(...Object.keys(NAMED_LOSSES).map((n) => new Option(n, n, false, n === 'mse')), new Option('custom formula…', 'custom'));
}

export function showMessage(p: HTMLElement, message: string | null): void {
  p.hidden = message === null;
  p.textContent = message ?? '';
}

/** The reason, then the text with the character at the error marked and a caret under its column. */
export function showSpecError(box: HTMLElement, e: SpecError | null): void {
  box.hidden = e === null;
  if (!e) {
    box.replaceChildren();
    delete box.dataset.column;
    return;
  }
  const reason = document.createElement('p');
  reason.className = 'reason';
  reason.textContent = e.field === 'other' ? e.reason : `${e.reason} (column ${e.position + 1})`;
  box.replaceChildren(reason);
  if (e.field !== 'other') {
    const pre = document.createElement('pre');
    const at = e.text.slice(e.position, e.position + 1);
    const mark = document.createElement('mark');
    mark.textContent = at === '' ? ' ' : at; // past the end: mark the empty place where something is missing
    const caret = document.createElement('span');
    caret.className = 'caret';
    caret.textContent = `${' '.repeat(e.position)}^`;
    pre.append(e.text.slice(0, e.position), mark, e.text.slice(e.position + 1), '\n', caret);
    box.append(pre);
    box.dataset.column = String(e.position + 1);
  }
}

/** Values typed per parameter name, kept while the formula is edited. */
export class ParamTable {
  private readonly typed = new Map<string, { start?: string; truth?: string }>();
  private names: string[] = [];

  constructor(private readonly table: HTMLElement, private readonly onInput: () => void) {
    table.addEventListener('input', (e) => {
      const input = e.target as HTMLInputElement;
      const name = input.dataset.param;
      if (!name) return;
      const t = this.typed.get(name) ?? {};
      t[input.dataset.role as 'start' | 'truth'] = input.value;
      this.typed.set(name, t);
      this.onInput();
    });
  }

  /** Sets values as if typed (an example's starting and true values). */
  preset(values: { start?: Record<string, number>; truth?: Record<string, number> }): void {
    for (const role of ['start', 'truth'] as const) {
      for (const [name, v] of Object.entries(values[role] ?? {})) this.typed.set(name, { ...this.typed.get(name), [role]: String(v) });
    }
  }

  /** One row per parameter; the true-value column only for generated data. */
  render(m: FormulaModel, generated: boolean): void {
    this.names = [...m.params];
    this.table.classList.toggle('no-truth', !generated);
    const rows = m.params.map((p) => {
      const fb = fallbackValues(m, p);
      const t = this.typed.get(p) ?? {};
      const field = (role: string, v: string) =>
        `<input type="number" step="any" data-param="${escapeHtml(p)}" data-role="${role}" value="${escapeHtml(v)}" aria-label="${role === 'start' ? 'starting' : 'true'} value of ${escapeHtml(p)}" />`;
      return `<tr><th scope="row">${escapeHtml(p)}</th><td>${field('start', t.start ?? (fb.start === null ? '' : String(fb.start)))}</td>` +
        `<td class="truth-col">${field('truth', t.truth ?? String(fb.truth))}</td>` +
        `<td><output data-now="${escapeHtml(p)}">—</output></td><td><output data-grad="${escapeHtml(p)}">—</output></td></tr>`;
    });
    this.table.querySelector('tbody')!.innerHTML = rows.join('');
  }

  /** start and truth by parameter, or the first bad field's message (after the starts left empty, all named). */
  read(): { start: Record<string, number>; truth: Record<string, number> } | { error: string } {
    const start: Record<string, number> = {}, truth: Record<string, number> = {};
    const noStart: string[] = [];
    let bad: string | null = null;
    for (const input of this.table.querySelectorAll<HTMLInputElement>('input[data-param]')) {
      const name = input.dataset.param!;
      const isStart = input.dataset.role === 'start';
      if (isStart && input.value.trim() === '') {
        noStart.push(name);
        continue;
      }
      const v = parseField(input.value, -1e30, 1e30);
      if (v === null) bad ??= `the ${isStart ? 'starting' : 'true'} value of ${name} must be a number`;
      else (isStart ? start : truth)[name] = v;
    }
    if (noStart.length > 0) return { error: missingStartMessage(noStart) };
    return bad ? { error: bad } : { start, truth };
  }

  /** The current values and partials, with full precision in data-value for the tests. */
  show(theta: ArrayLike<number>, grad: ArrayLike<number>): void {
    this.names.forEach((name, j) => {
      for (const [attr, v] of [['data-now', theta[j]], ['data-grad', grad[j]]] as const) {
        const o = this.table.querySelector<HTMLOutputElement>(`output[${attr}="${CSS.escape(name)}"]`);
        if (!o) continue;
        o.textContent = fmt(v, attr === 'data-now' ? 6 : 4);
        o.dataset.value = String(v);
      }
    });
  }
}
