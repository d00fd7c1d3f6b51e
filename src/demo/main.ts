// A minimal page for now: trains the seed problem (y = 3x + 2 + noise) on WebGPU when the browser has it,
// else on the CPU path, and says which. The full demo is its own piece of work.
import { requestGpu } from '../gpu/device.ts';
import { GpuLinearEngine } from '../gpu/gpu-linear-engine.ts';
import { CpuLinearEngine } from '../cpu/cpu-linear-engine.ts';
import type { LinearData, LinearEngine } from '../models/linear.ts';

const status = document.querySelector<HTMLParagraphElement>('#status')!;
const log = document.querySelector<HTMLPreElement>('#log')!;

function seedData(n: number): LinearData {
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = Math.random() * 2 - 1;
    y[i] = 3 * x[i] + 2 + (Math.random() - 0.5) * 0.2;
  }
  return { x, y, n, d: 1 };
}

async function run(): Promise<void> {
  const data = seedData(1 << 20);
  let engine: LinearEngine;
  try {
    engine = await GpuLinearEngine.create(await requestGpu(), data);
  } catch (e) {
    status.textContent = `WebGPU unavailable (${(e as Error).message}); training on the CPU path.`;
    engine = new CpuLinearEngine(data);
  }
  if (engine.device === 'gpu') status.textContent = `Training on ${engine.adapter}.`;
  const r = await engine.train({
    lr: 0.5, maxEpochs: 500, onEpoch: (e) => {
      if (e.epoch % 10 === 0) log.textContent += `epoch ${e.epoch}  J = ${e.loss.toExponential(4)}  |∇J| = ${e.gradNorm.toExponential(3)}\n`;
    },
  });
  log.textContent += `\nw = ${r.w[0].toFixed(5)}, b = ${r.b.toFixed(5)} (true 3, 2) after ${r.epochs} epochs (${r.stopReason})\n`;
  engine.dispose();
}

void run();
