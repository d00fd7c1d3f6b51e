// Times compute passes, one recorded unit of work per pass. With timestamp-query the GPU's own clock
// brackets each pass (all timed passes go in one submit, so host latency does not count); without it,
// the wall clock runs from submit until the queue is idle, one pass per submit.
import type { GpuContext } from '../../src/gpu/device.ts';

export interface PassTiming {
  /** Milliseconds per pass, impossible samples removed. */
  samples: number[];
  method: 'timestamp-query' | 'wall-clock';
  notes: string[];
}

const kLabel = 'nabla.bench.timer';

export async function wallClock(device: GPUDevice, reps: number, record: (pass: GPUComputePassEncoder) => void): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const encoder = device.createCommandEncoder({ label: `${kLabel}.wall.encoder` });
    const pass = encoder.beginComputePass({ label: `${kLabel}.wall.pass` });
    record(pass);
    pass.end();
    const commands = encoder.finish(); // encoding is host work: keep it outside the clock
    const t0 = performance.now();
    device.queue.submit([commands]);
    await device.queue.onSubmittedWorkDone();
    samples.push(performance.now() - t0);
  }
  return samples;
}

export async function timestamps(
  device: GPUDevice, reps: number, record: (pass: GPUComputePassEncoder) => void,
): Promise<{ samples: number[]; dropped: number }> {
  const querySet = device.createQuerySet({ label: `${kLabel}.queries`, type: 'timestamp', count: 2 * reps });
  const bytes = 2 * reps * 8;
  const resolve = device.createBuffer({ label: `${kLabel}.resolve`, size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ label: `${kLabel}.readback`, size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const encoder = device.createCommandEncoder({ label: `${kLabel}.ts.encoder` });
    for (let i = 0; i < reps; i++) {
      const pass = encoder.beginComputePass({
        label: `${kLabel}.ts.pass`,
        timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
      });
      record(pass);
      pass.end();
    }
    encoder.resolveQuerySet(querySet, 0, 2 * reps, resolve, 0);
    encoder.copyBufferToBuffer(resolve, 0, readback, 0, bytes);
    const t0 = performance.now();
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ);
    const wallMs = performance.now() - t0;
    const ticks = new BigUint64Array(readback.getMappedRange().slice(0));
    readback.unmap();
    const samples: number[] = [];
    let dropped = 0;
    for (let i = 0; i < reps; i++) {
      const begin = ticks[2 * i];
      const end = ticks[2 * i + 1];
      const ms = Number(end - begin) / 1e6;
      // Impossible: an unwritten (zero) stamp, a clock that ran backwards or was quantized to nothing,
      // or one pass longer than the whole submit took on the host's clock.
      if (begin === 0n || end <= begin || !(ms > 0) || ms > wallMs) dropped++;
      else samples.push(ms);
    }
    return { samples, dropped };
  } finally {
    querySet.destroy();
    resolve.destroy();
    readback.destroy();
  }
}

/** Warm-up lasts at least this long, whatever the pass count (see warmUp). */
export const WARMUP_MS = 200;

/**
 * Untimed passes: at least `passes` of them and at least WARMUP_MS of GPU work, in doubling batches so
 * tiny passes do not cost one submit each. Pipelines get compiled, pages touched, and clocks ramp up: on
 * an H100 every DRAM-bound row timed after two warm-up passes read at about half the rate the same kernel
 * reached after sustained work, while L2-resident rows were at full rate (clock ramp is the suspect).
 */
async function warmUp(device: GPUDevice, passes: number, record: (pass: GPUComputePassEncoder) => void): Promise<void> {
  const t0 = performance.now();
  let done = 0;
  for (let batch = Math.max(1, passes); done < passes || performance.now() - t0 < WARMUP_MS; batch = Math.min(batch * 2, 1024)) {
    const encoder = device.createCommandEncoder({ label: `${kLabel}.warmup.encoder` });
    for (let i = 0; i < batch; i++) {
      const pass = encoder.beginComputePass({ label: `${kLabel}.warmup.pass` });
      record(pass);
      pass.end();
    }
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    done += batch;
  }
}

/**
 * Warms up (warmUp), then times `reps` passes. Falls back to the wall clock when timestamps are missing or
 * fewer than half are plausible.
 */
export async function timeComputePasses(
  gpu: GpuContext, reps: number, warmup: number, record: (pass: GPUComputePassEncoder) => void,
): Promise<PassTiming> {
  const { device } = gpu;
  await warmUp(device, warmup, record);
  const notes: string[] = [];
  if (gpu.hasTimestamps) {
    const { samples, dropped } = await timestamps(device, reps, record);
    if (samples.length * 2 >= reps) {
      if (dropped) notes.push(`${dropped} impossible timestamp sample(s) dropped`);
      return { samples, method: 'timestamp-query', notes };
    }
    notes.push(`timestamp-query gave ${samples.length}/${reps} plausible samples: wall clock used instead`);
  }
  return { samples: await wallClock(device, reps, record), method: 'wall-clock', notes };
}

export interface Summary {
  median: number;
  min: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}
