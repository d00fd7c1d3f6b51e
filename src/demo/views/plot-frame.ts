// A plot area inside a canvas, with linear maps from data to canvas pixels and labelled axes; shared by
// the contour map and the data view. Sizes are in canvas pixels (CSS pixels x devicePixelRatio).
import { fmt } from '../format.ts';
import { niceTicks } from '../surface.ts';

export interface Box { left: number; top: number; width: number; height: number }

export class PlotFrame {
  readonly ctx: CanvasRenderingContext2D;
  readonly box: Box;
  readonly scale: number;
  x0 = 0; x1 = 1; y0 = 0; y1 = 1;

  constructor(readonly canvas: HTMLCanvasElement, cssWidth: number, cssHeight: number, margin = { left: 58, right: 14, top: 12, bottom: 44 }) {
    this.scale = Math.max(1, Math.round(globalThis.devicePixelRatio || 1));
    canvas.width = cssWidth * this.scale;
    canvas.height = cssHeight * this.scale;
    // No CSS height: the height follows the width by the buffer's aspect, so a canvas that max-width narrows
    // shrinks as a whole instead of being squashed.
    canvas.style.width = `${cssWidth}px`;
    this.ctx = canvas.getContext('2d')!;
    const s = this.scale;
    this.box = {
      left: margin.left * s, top: margin.top * s,
      width: (cssWidth - margin.left - margin.right) * s, height: (cssHeight - margin.top - margin.bottom) * s,
    };
  }

  setRange(x0: number, x1: number, y0: number, y1: number): void {
    Object.assign(this, { x0, x1, y0, y1 });
  }

  px(x: number): number {
    return this.box.left + ((x - this.x0) / (this.x1 - this.x0)) * this.box.width;
  }

  py(y: number): number {
    return this.box.top + (1 - (y - this.y0) / (this.y1 - this.y0)) * this.box.height;
  }

  clear(): void {
    this.ctx.fillStyle = '#ffffff';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  clipToBox(): void {
    const { left, top, width, height } = this.box;
    this.ctx.beginPath();
    this.ctx.rect(left, top, width, height);
    this.ctx.clip();
  }

  axes(xLabel: string, yLabel: string): void {
    const { ctx, box, scale: s } = this;
    ctx.save();
    ctx.strokeStyle = '#333333';
    ctx.lineWidth = s;
    ctx.strokeRect(box.left, box.top, box.width, box.height);
    ctx.fillStyle = '#1a1a1a';
    ctx.font = `${12 * s}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of niceTicks(this.x0, this.x1, 5)) {
      const x = this.px(t);
      ctx.fillRect(x, box.top + box.height, s, 4 * s);
      ctx.fillText(fmt(t, 3), x, box.top + box.height + 6 * s);
    }
    ctx.fillText(xLabel, box.left + box.width / 2, box.top + box.height + 24 * s);
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of niceTicks(this.y0, this.y1, 5)) {
      const y = this.py(t);
      ctx.fillRect(box.left - 4 * s, y, 4 * s, s);
      ctx.fillText(fmt(t, 3), box.left - 6 * s, y);
    }
    ctx.translate(14 * s, box.top + box.height / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillText(yLabel, 0, 0);
    ctx.restore();
  }
}
