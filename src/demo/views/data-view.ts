// The data (a sample of at most MAX_POINTS rows when N is large) and the current fitted line, in the
// data's own units. With several features the line is the fit along the contour feature with the other
// features at their means.
import { sampleIndices } from '../sample.ts';
import { PlotFrame } from './plot-frame.ts';
import type { FormulaData } from '../../models/formula.ts';

export const MAX_POINTS = 2000;
const POINT_COLOR = 'rgba(31, 86, 160, 0.55)';
const LINE_COLOR = '#c0182c';

export class DataView {
  private readonly frame: PlotFrame;
  private readonly layer = document.createElement('canvas');
  private xLabel = 'x';
  private yLabel = 'y';
  shown = 0;

  constructor(readonly canvas: HTMLCanvasElement) {
    this.frame = new PlotFrame(canvas, 500, 300);
    this.layer.width = canvas.width;
    this.layer.height = canvas.height;
  }

  /** Samples the points once per dataset and draws them, with the axes, onto a cached layer. */
  setData(data: FormulaData, k: number, xLabel: string, yLabel: string): void {
    const idx = sampleIndices(data.n, MAX_POINTS);
    this.shown = idx.length;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const i of idx) {
      const xv = data.x[i * data.d + k], yv = data.y[i];
      x0 = Math.min(x0, xv); x1 = Math.max(x1, xv); y0 = Math.min(y0, yv); y1 = Math.max(y1, yv);
    }
    const padX = (x1 - x0 || 1) * 0.05, padY = (y1 - y0 || 1) * 0.08;
    const f = this.frame;
    f.setRange(x0 - padX, x1 + padX, y0 - padY, y1 + padY);
    f.clear();
    const { ctx, scale: s } = f;
    ctx.fillStyle = POINT_COLOR;
    for (const i of idx) ctx.fillRect(f.px(data.x[i * data.d + k]) - 1.5 * s, f.py(data.y[i]) - 1.5 * s, 3 * s, 3 * s);
    f.axes(xLabel, yLabel);
    this.xLabel = xLabel;
    this.yLabel = yLabel;
    const lctx = this.layer.getContext('2d')!;
    lctx.clearRect(0, 0, this.layer.width, this.layer.height);
    lctx.drawImage(this.canvas, 0, 0);
  }

  /** The line y = slope x + intercept over the plot. */
  draw(slope: number, intercept: number): void {
    const f = this.frame;
    const { ctx, scale: s } = f;
    ctx.drawImage(this.layer, 0, 0);
    if (!Number.isFinite(slope) || !Number.isFinite(intercept)) return;
    ctx.save();
    f.clipToBox();
    ctx.strokeStyle = LINE_COLOR;
    ctx.lineWidth = 2.5 * s;
    ctx.beginPath();
    ctx.moveTo(f.px(f.x0), f.py(slope * f.x0 + intercept));
    ctx.lineTo(f.px(f.x1), f.py(slope * f.x1 + intercept));
    ctx.stroke();
    ctx.restore();
    this.canvas.setAttribute('aria-label', `Scatter plot of ${this.shown} samples of ${this.yLabel} against ${this.xLabel}, with the fitted line y = ${slope.toPrecision(4)}·x + ${intercept.toPrecision(4)}`);
  }
}
