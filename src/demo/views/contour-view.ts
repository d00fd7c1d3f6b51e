// The contour map of J over the (w_k, b) grid computed by the loss-surface pass, the path of (w_k, b)
// so far, and at the current point the arrows for grad J (uphill; direction only) and the step
// -eta grad J (to scale). The canvas's data-* attributes give the drawn positions (canvas pixels) to
// the end-to-end tests.
import type { Surface } from '../trainer.ts';

/** What the map draws of a surface: J on a grid (the formula mode has no linear moments). */
export type GridSurface = Pick<Surface, 'grid' | 'spec'>;
import { colorPosition, colorScale, contourLevels, gridMinMax, marchingSquares, type Point, type Window } from '../surface.ts';
import { PlotFrame } from './plot-frame.ts';

export const GRAD_COLOR = '#c0182c';
export const STEP_COLOR = '#0a6b2f';
const PATH_COLOR = '#5b1a8a';
const LEVELS = 14;

export interface ContourScene {
  surface: GridSurface | null;
  surfaceVersion: number;
  window: Window;
  path: readonly number[];
  point: Point;
  /** (dJ/dw_k, dJ/db) at the point. */
  grad: Point;
  /** Below this norm of (dJ/dw_k, dJ/db) the direction is rounding noise: no grad J arrow. */
  flat: number;
  lr: number;
  optimum: Point | null;
  labels: { w: string; b: string };
}

export class ContourView {
  private readonly frame: PlotFrame;
  private readonly heat = document.createElement('canvas');
  private lines: number[][] = [];
  private heatVersion = -1;

  constructor(readonly canvas: HTMLCanvasElement) {
    this.frame = new PlotFrame(canvas, 500, 484); // a square plot box: 428 x 428
  }

  private rebuild(s: GridSurface): void {
    const { nx, ny } = s.spec;
    const { min, max } = gridMinMax(s.grid);
    this.heat.width = nx;
    this.heat.height = ny;
    const hctx = this.heat.getContext('2d')!;
    const img = hctx.createImageData(nx, ny);
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const [r, g, b] = colorScale(colorPosition(s.grid[j * nx + i], min, max));
        const o = ((ny - 1 - j) * nx + i) * 4; // row 0 is the lowest b: the bottom of the image
        img.data[o] = r; img.data[o + 1] = g; img.data[o + 2] = b; img.data[o + 3] = 255;
      }
    }
    hctx.putImageData(img, 0, 0);
    this.lines = contourLevels(min, max, LEVELS).map((level) => marchingSquares(s.grid, nx, ny, level));
  }

  draw(scene: ContourScene): void {
    const f = this.frame;
    const { ctx, scale: s } = f;
    const win = scene.window;
    f.setRange(win.w0, win.w1, win.b0, win.b1);
    f.clear();
    const surface = scene.surface;
    if (surface && this.heatVersion !== scene.surfaceVersion) {
      this.rebuild(surface);
      this.heatVersion = scene.surfaceVersion;
    }
    ctx.save();
    f.clipToBox();
    if (surface) {
      const { spec } = surface;
      // The image's pixels are the grid's cells: map the cells' outer edges onto the plot.
      const x0 = f.px(spec.w0 - spec.dw / 2), x1 = f.px(spec.w0 + (spec.nx - 0.5) * spec.dw);
      const y0 = f.py(spec.b0 + (spec.ny - 0.5) * spec.db), y1 = f.py(spec.b0 - spec.db / 2);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(this.heat, x0, y0, x1 - x0, y1 - y0);
      ctx.strokeStyle = 'rgba(20, 20, 40, 0.55)';
      ctx.lineWidth = s;
      ctx.beginPath();
      const gx = (i: number) => f.px(spec.w0 + i * spec.dw);
      const gy = (j: number) => f.py(spec.b0 + j * spec.db);
      for (const segs of this.lines) {
        for (let q = 0; q < segs.length; q += 4) {
          ctx.moveTo(gx(segs[q]), gy(segs[q + 1]));
          ctx.lineTo(gx(segs[q + 2]), gy(segs[q + 3]));
        }
      }
      ctx.stroke();
    }
    if (scene.optimum) this.cross(f.px(scene.optimum.w), f.py(scene.optimum.b), 7 * s);
    this.path(scene.path);
    const p = { x: f.px(scene.point.w), y: f.py(scene.point.b) };
    const data: Record<string, string> = { point: `${p.x.toFixed(1)},${p.y.toFixed(1)}`, gradTip: '', stepTip: '' };
    const gx = f.px(scene.point.w + scene.grad.w) - p.x, gy = f.py(scene.point.b + scene.grad.b) - p.y;
    const glen = Math.hypot(gx, gy);
    if (glen > 0 && Number.isFinite(glen) && Math.hypot(scene.grad.w, scene.grad.b) > scene.flat) {
      // grad J can be orders of magnitude longer than the window: draw its direction at a fixed length.
      const L = 70 * s;
      const tip = { x: p.x + (gx / glen) * L, y: p.y + (gy / glen) * L };
      this.arrow(p, tip, GRAD_COLOR);
      data.gradTip = `${tip.x.toFixed(1)},${tip.y.toFixed(1)}`;
      // The step is drawn to scale: it is where the next epoch moves (w, b).
      const sx = -scene.lr * gx, sy = -scene.lr * gy;
      if (Math.hypot(sx, sy) >= 3 * s) {
        const stip = { x: p.x + sx, y: p.y + sy };
        this.arrow(p, stip, STEP_COLOR);
        data.stepTip = `${stip.x.toFixed(1)},${stip.y.toFixed(1)}`;
      }
    }
    ctx.fillStyle = '#000000';
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 2 * s;
    ctx.beginPath();
    ctx.arc(p.x, p.y, 5 * s, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    ctx.restore();
    f.axes(scene.labels.w, scene.labels.b);
    Object.assign(this.canvas.dataset, data);
  }

  private path(path: readonly number[]): void {
    const { ctx, scale: s } = this.frame;
    const f = this.frame;
    if (path.length < 4) return;
    ctx.strokeStyle = PATH_COLOR;
    ctx.fillStyle = PATH_COLOR;
    ctx.lineWidth = 2 * s;
    ctx.beginPath();
    ctx.moveTo(f.px(path[0]), f.py(path[1]));
    for (let q = 2; q < path.length; q += 2) ctx.lineTo(f.px(path[q]), f.py(path[q + 1]));
    ctx.stroke();
    const every = Math.max(1, Math.floor(path.length / 2 / 400));
    for (let q = 0; q < path.length; q += 2 * every) ctx.fillRect(f.px(path[q]) - 1.5 * s, f.py(path[q + 1]) - 1.5 * s, 3 * s, 3 * s);
  }

  private cross(x: number, y: number, r: number): void {
    const { ctx, scale: s } = this.frame;
    for (const [color, width] of [['#ffffff', 4 * s], ['#111111', 2 * s]] as const) {
      ctx.strokeStyle = color;
      ctx.lineWidth = width;
      ctx.beginPath();
      ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r);
      ctx.moveTo(x - r, y + r); ctx.lineTo(x + r, y - r);
      ctx.stroke();
    }
  }

  private arrow(from: { x: number; y: number }, to: { x: number; y: number }, color: string): void {
    const { ctx, scale: s } = this.frame;
    const ang = Math.atan2(to.y - from.y, to.x - from.x);
    const head = Math.min(12 * s, Math.hypot(to.x - from.x, to.y - from.y) / 2);
    const shape = () => {
      ctx.beginPath();
      ctx.moveTo(from.x, from.y);
      ctx.lineTo(to.x, to.y);
      ctx.moveTo(to.x - head * Math.cos(ang - 0.45), to.y - head * Math.sin(ang - 0.45));
      ctx.lineTo(to.x, to.y);
      ctx.lineTo(to.x - head * Math.cos(ang + 0.45), to.y - head * Math.sin(ang + 0.45));
    };
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 6 * s;
    shape();
    ctx.stroke();
    ctx.strokeStyle = color;
    ctx.lineWidth = 3 * s;
    shape();
    ctx.stroke();
  }
}
