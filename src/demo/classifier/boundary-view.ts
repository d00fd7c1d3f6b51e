// The decision-boundary view: the predicted class of every grid cell as a light region colour, the
// training points on top in the class's strong colour, and axes ticks at the extent's ends.
import type { Extent } from './grid.ts';

/** Region (light) and point (strong) colours per class; the e2e test reads the region colours. */
export const REGION_COLORS = ['#c6dbef', '#fdd0a2', '#c7e9c0', '#dadaeb'];
export const POINT_COLORS = ['#1f4fa0', '#c45a00', '#1b7a2f', '#6a3d9a'];

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

export class BoundaryView {
  private readonly ctx: CanvasRenderingContext2D;
  private readonly cellCanvas = document.createElement('canvas');

  constructor(private readonly canvas: HTMLCanvasElement, private readonly size = 480) {
    canvas.width = size;
    canvas.height = size;
    this.ctx = canvas.getContext('2d')!;
  }

  draw(cells: Uint8Array, res: number, extent: Extent, x: Float32Array, y: Float32Array, n: number): void {
    const { ctx, size } = this;
    const cc = this.cellCanvas;
    cc.width = res;
    cc.height = res;
    const cctx = cc.getContext('2d')!;
    const img = cctx.createImageData(res, res);
    const palette = REGION_COLORS.map(rgb);
    for (let i = 0; i < res * res; i++) {
      const [r, g, b] = palette[cells[i] % palette.length];
      img.data.set([r, g, b, 255], 4 * i);
    }
    cctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.clearRect(0, 0, size, size);
    ctx.drawImage(cc, 0, 0, size, size);
    const sx = size / (extent.x1 - extent.x0), sy = size / (extent.y1 - extent.y0);
    const step = Math.max(1, Math.floor(n / 4000)); // at most ~4000 points drawn
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#ffffff';
    for (let i = 0; i < n; i += step) {
      const px = (x[2 * i] - extent.x0) * sx, py = (extent.y1 - x[2 * i + 1]) * sy;
      ctx.fillStyle = POINT_COLORS[y[i] % POINT_COLORS.length];
      ctx.beginPath();
      ctx.arc(px, py, 3, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
    ctx.fillStyle = '#1a1a1a';
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillText(`x₁ ∈ [${extent.x0.toFixed(2)}, ${extent.x1.toFixed(2)}], x₂ ∈ [${extent.y0.toFixed(2)}, ${extent.y1.toFixed(2)}]`, 6, size - 6);
    this.canvas.dataset.regions = String(new Set(cells).size);
  }
}
