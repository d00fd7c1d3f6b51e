// The loss curve over epochs on a log scale, drawn by uPlot; long histories are thinned to MAX_POINTS.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { decimate } from '../sample.ts';

const MAX_POINTS = 4000;

/** Powers of ten as plain numbers in a readable range, else as 1e-6; other splits unlabelled. */
export function logTick(v: number | null): string {
  if (v === null || !(v > 0)) return '';
  const e = Math.log10(v);
  if (Math.abs(e - Math.round(e)) > 1e-9) return '';
  return e >= -3 && e <= 4 ? String(Number(v.toPrecision(1))) : `1e${Math.round(e)}`;
}

export class LossView {
  private readonly plot: uPlot;
  private shown = -1;

  constructor(el: HTMLElement, width = 500, height = 260) {
    this.plot = new uPlot({
      width,
      height,
      scales: { x: { time: false }, y: { distr: 3 } },
      series: [
        { label: 'epoch' },
        { label: 'J', stroke: '#1f4fa0', width: 2, points: { show: false } },
      ],
      axes: [
        { label: 'epoch', stroke: '#1a1a1a' },
        { label: 'J (log scale)', stroke: '#1a1a1a', size: 70, values: (_u, splits) => splits.map(logTick) },
      ],
      cursor: { drag: { x: false, y: false } },
    }, [[], []], el);
  }

  update(epochs: readonly number[], losses: readonly number[]): void {
    if (epochs.length === this.shown) return;
    this.shown = epochs.length;
    const [x, y] = decimate(epochs, losses.map((v) => (v > 0 && Number.isFinite(v) ? v : NaN)), MAX_POINTS);
    this.plot.setData([x, y.map((v) => (Number.isNaN(v) ? null : v)) as unknown as number[]]);
  }

  reset(): void {
    this.shown = -1;
    this.plot.setData([[], []]);
  }
}
