import { it } from 'vitest';
import { testGpu } from './gpu-context.ts';
import { GpuLinearEngine } from '../../src/gpu/gpu-linear-engine.ts';
import { timeWork } from '../../src/gpu/tuning/timer.ts';
import { linearPartialsWgsl } from '../../src/gpu/passes/linear-partials-pass.ts';

const LOOP = `      for (var tile = start; tile < end; tile = tile + stride) {
        let s = accumulate_quad(grid.row_offset / 4u + tile * WG + t, bias, 4u);
        sum_r = sum_r + s.x;
        sum_rr = sum_rr + s.y;
      }`;
function unrolled(k: number): string {
  const body = Array.from({ length: k }, (_, j) => `        { let s = accumulate_quad(grid.row_offset / 4u + (tile + ${j}u * stride) * WG + t, bias, 4u); sum_r = sum_r + s.x; sum_rr = sum_rr + s.y; }`).join('\n');
  return `      var tile = start;
      for (; tile + ${k - 1}u * stride < end; tile = tile + ${k}u * stride) {
${body}
      }
      for (; tile < end; tile = tile + stride) {
        let s = accumulate_quad(grid.row_offset / 4u + tile * WG + t, bias, 4u);
        sum_r = sum_r + s.x;
        sum_rr = sum_rr + s.y;
      }`;
}

it('probe unroll', async () => {
  const gpu = await testGpu();
  const out: string[] = [];
  for (const [n, d] of [[2 ** 20, 2], [2 ** 20, 3], [2 ** 20, 4], [2 ** 20, 8], [2 ** 22, 1]] as const) {
    const x = new Float32Array(n * d).map((_, i) => Math.sin(i));
    const y = new Float32Array(n).map((_, i) => Math.cos(i));
    const at = { w: new Array(d).fill(0.3), b: 0.1 };
    const kernel = { workgroupSize: 64, numGroups: 2 };
    const base = await GpuLinearEngine.create(gpu, { n, d, x, y }, { kernel });
    const src = linearPartialsWgsl(d, base.plan);
    const ref = await base.gradient(at);
    base.dispose();
    if (!src.includes(LOOP)) throw new Error('loop not found');
    const variants: Array<[string, string | undefined]> = [['plain', undefined], ['x2', src.replace(LOOP, unrolled(2))]];
    const engines = await Promise.all(variants.map(([, code]) => GpuLinearEngine.create(gpu, { n, d, x, y }, { kernel, partialsWgsl: code })));
    const times: number[][] = variants.map(() => []);
    for (const [i, e] of engines.entries()) {
      const g = await e.gradient(at);
      if (g.loss !== ref.loss || g.gradB !== ref.gradB) out.push(`${variants[i][0]} bits differ ${g.loss} ${ref.loss}`);
    }
    for (let round = 0; round < 5; round++) {
      for (const [i, e] of engines.entries()) {
        e.prepareGradient(at);
        const set = (e as any).batchSet(n).batches[0];
        const t = await timeWork(gpu, (pass) => { for (const slice of set.slices) (e as any).partialsPass.run(pass, slice.bindGroup, slice.plan); }, { minMs: 4, samples: 5 });
        times[i].push(t.ms);
      }
    }
    for (const [i, [name]] of variants.entries()) {
      const s = [...times[i]].sort((a, b) => a - b);
      out.push(`n=${n} d=${d} ${name}: median ${s[2].toFixed(2)} [${times[i].map((v) => v.toFixed(2)).join(' ')}]`);
    }
    for (const e of engines) e.dispose();
  }
  console.info(out.join('\n'));
}, 300_000);
