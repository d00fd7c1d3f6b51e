// The fit over the data: for a model of one feature, the data (a sample of at most MAX_POINTS rows) and
// the fitted curve ŷ(x) at the current parameters; for a model of no feature (y ~ c), the target by row
// and ŷ across the rows (a level line where the fit is a constant); for several features, each sample's
// prediction against its target with the line ŷ = y, where a perfect fit would put every point.
import type { FormulaModel } from '../../formula/model.ts';
import { formulaPredict, type FormulaData } from '../../models/formula.ts';
import { sampleIndices } from '../sample.ts';
import { PlotFrame } from '../views/plot-frame.ts';

const MAX_POINTS = 2000;
const CURVE_POINTS = 240;
const POINT_COLOR = 'rgba(31, 86, 160, 0.55)';
export const FIT_COLOR = '#c0182c';

export class FitView {
  private readonly frame: PlotFrame;
  private model: FormulaModel | null = null;
  private sample: FormulaData | null = null;
  /** The sample's row numbers (1-based), the x axis of a model of no feature. */
  private rows: Float32Array = new Float32Array(0);

  constructor(readonly canvas: HTMLCanvasElement) {
    this.frame = new PlotFrame(canvas, 500, 320);
  }

  /** The rows shown, sampled once per dataset. */
  setData(model: FormulaModel, data: FormulaData): void {
    const idx = sampleIndices(data.n, MAX_POINTS);
    const x = new Float32Array(idx.length * data.d);
    const y = new Float32Array(idx.length);
    idx.forEach((i, r) => {
      x.set(data.x.subarray(i * data.d, (i + 1) * data.d), r * data.d);
      y[r] = data.y[i];
    });
    this.model = model;
    this.sample = { x, y, n: idx.length, d: data.d };
    this.rows = Float32Array.from(idx, (i) => i + 1);
  }

  /** No data and no curve: the run it showed is gone. */
  clear(): void {
    this.model = this.sample = null;
    this.frame.clear();
  }

  draw(theta: Float64Array): void {
    const m = this.model, s = this.sample;
    if (!m || !s) return;
    if (m.features.length === 1) this.curve(m, s, theta);
    else if (m.features.length === 0) this.byRow(m, s, theta);
    else this.predictedVsActual(m, s, theta);
  }

  private curve(m: FormulaModel, s: FormulaData, theta: Float64Array): void {
    const f = this.frame;
    const [x0, x1] = range(s.x);
    const xs = Float32Array.from({ length: CURVE_POINTS }, (_, k) => x0 + ((x1 - x0) * k) / (CURVE_POINTS - 1));
    const ys = formulaPredict(m, theta, { x: xs, y: new Float32Array(CURVE_POINTS), n: CURVE_POINTS, d: 1 });
    const [y0, y1] = range(s.y);
    const padX = (x1 - x0 || 1) * 0.04, padY = (y1 - y0 || 1) * 0.08;
    f.setRange(x0 - padX, x1 + padX, y0 - padY, y1 + padY);
    this.points(s.x, s.y);
    this.fitLine(xs, ys);
    f.axes(m.features[0], m.target);
    this.canvas.dataset.kind = 'curve';
  }

  /** Predicted against actual would be a flat row of points: the target by row, and ŷ through them. */
  private byRow(m: FormulaModel, s: FormulaData, theta: Float64Array): void {
    const f = this.frame;
    const pred = formulaPredict(m, theta, s);
    const [r0, r1] = range(this.rows);
    const [lo, hi] = range(s.y);
    const [p0, p1] = range(pred);
    const y0 = Math.min(lo, p0), y1 = Math.max(hi, p1);
    const padX = (r1 - r0 || 1) * 0.04, padY = (y1 - y0 || 1) * 0.08;
    f.setRange(r0 - padX, r1 + padX, y0 - padY, y1 + padY);
    this.points(this.rows, s.y);
    this.fitLine(this.rows, pred);
    f.axes('row', m.target);
    this.canvas.dataset.kind = 'by-row';
  }

  /** The fit as a line through (xs, ys), with a gap where ys is not finite (a log of a negative, a pole), not a line through it. */
  private fitLine(xs: ArrayLike<number>, ys: ArrayLike<number>): void {
    const f = this.frame;
    const { ctx, scale } = f;
    ctx.save();
    f.clipToBox();
    ctx.strokeStyle = FIT_COLOR;
    ctx.lineWidth = 2.5 * scale;
    ctx.beginPath();
    let pen = false;
    for (let k = 0; k < xs.length; k++) {
      if (!Number.isFinite(ys[k])) {
        pen = false;
        continue;
      }
      // Clamped a box's height beyond it: a curve off to ±∞ still leaves the box at its edge.
      const px = f.px(xs[k]), py = f.py(Math.max(f.y0 - (f.y1 - f.y0), Math.min(f.y1 + (f.y1 - f.y0), ys[k])));
      if (pen) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      pen = true;
    }
    ctx.stroke();
    ctx.restore();
  }

  private predictedVsActual(m: FormulaModel, s: FormulaData, theta: Float64Array): void {
    const f = this.frame;
    const pred = formulaPredict(m, theta, s);
    const [y0, y1] = range(s.y);
    const pad = (y1 - y0 || 1) * 0.06;
    f.setRange(y0 - pad, y1 + pad, y0 - pad, y1 + pad);
    this.points(s.y, pred);
    const { ctx, scale } = f;
    ctx.save();
    f.clipToBox();
    ctx.strokeStyle = FIT_COLOR;
    ctx.lineWidth = 2 * scale;
    ctx.beginPath();
    ctx.moveTo(f.px(f.x0), f.py(f.x0));
    ctx.lineTo(f.px(f.x1), f.py(f.x1));
    ctx.stroke();
    ctx.restore();
    f.axes(`actual ${m.target}`, `predicted ${m.target}`);
    this.canvas.dataset.kind = 'predicted-vs-actual';
  }

  private points(xs: ArrayLike<number>, ys: ArrayLike<number>): void {
    const f = this.frame;
    const { ctx, scale: s } = f;
    f.clear();
    ctx.save();
    f.clipToBox();
    ctx.fillStyle = POINT_COLOR;
    for (let i = 0; i < ys.length; i++) if (Number.isFinite(ys[i])) ctx.fillRect(f.px(xs[i]) - 1.5 * s, f.py(ys[i]) - 1.5 * s, 3 * s, 3 * s);
    ctx.restore();
  }
}

function range(v: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) continue;
    lo = Math.min(lo, v[i]);
    hi = Math.max(hi, v[i]);
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}
