// Times a unit of recorded GPU work for the autotuner. Each sample records the unit `reps` times in one
// compute pass, with reps grown until a sample lasts at least minMs, so a fast adapter is timed over
// enough work to rise above launch overhead and timestamp quantization, and a slow one runs the unit once.
// The clock is the GPU's own (timestamp-query around the pass) when the device has the feature, else the
// host's from submit to onSubmittedWorkDone. Per-unit time is the median of the samples.

export interface WorkTiming {
  /** Median milliseconds per unit. */
  ms: number;
  /** Milliseconds per unit of each sample. */
  samples: number[];
  reps: number;
  method: 'timestamp-query' | 'wall-clock';
  /** Set when a sample exceeded giveUpAboveMs and timing stopped there. */
  abandoned: boolean;
}

export interface TimingOptions {
  /** Shortest sample (all reps together), in ms. */
  minMs?: number;
  samples?: number;
  maxReps?: number;
  /** Stop after the first sample whose per-unit time exceeds this: the candidate has lost anyway. */
  giveUpAboveMs?: number;
}

const kLabel = 'nabla.tuning.timer';

type Record = (pass: GPUComputePassEncoder) => void;

async function wallSample(device: GPUDevice, reps: number, record: Record): Promise<number> {
  const encoder = device.createCommandEncoder({ label: `${kLabel}.wall.encoder` });
  const pass = encoder.beginComputePass({ label: `${kLabel}.wall.pass` });
  for (let i = 0; i < reps; i++) record(pass);
  pass.end();
  const commands = encoder.finish();
  const t0 = performance.now();
  device.queue.submit([commands]);
  await device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
}

/** Samples per submit at most: the timestamp clock times several passes in one round trip. */
const MAX_BATCH = 8;

class TimestampClock {
  private readonly querySet: GPUQuerySet;
  private readonly resolve: GPUBuffer;
  private readonly readback: GPUBuffer;

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ label: `${kLabel}.queries`, type: 'timestamp', count: 2 * MAX_BATCH });
    this.resolve = device.createBuffer({ label: `${kLabel}.resolve`, size: 16 * MAX_BATCH, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.readback = device.createBuffer({ label: `${kLabel}.readback`, size: 16 * MAX_BATCH, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /**
   * `count` samples (at most MAX_BATCH) in one submit, one pass of `reps` units each: milliseconds between
   * each pass's begin and end stamps, or null when any is not plausible.
   */
  async samples(count: number, reps: number, record: Record): Promise<number[] | null> {
    const encoder = this.device.createCommandEncoder({ label: `${kLabel}.ts.encoder` });
    for (let s = 0; s < count; s++) {
      const pass = encoder.beginComputePass({
        label: `${kLabel}.ts.pass`, timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * s, endOfPassWriteIndex: 2 * s + 1 },
      });
      for (let i = 0; i < reps; i++) record(pass);
      pass.end();
    }
    encoder.resolveQuerySet(this.querySet, 0, 2 * count, this.resolve, 0);
    encoder.copyBufferToBuffer(this.resolve, 0, this.readback, 0, 16 * count);
    const t0 = performance.now();
    this.device.queue.submit([encoder.finish()]);
    await this.readback.mapAsync(GPUMapMode.READ, 0, 16 * count);
    const wall = performance.now() - t0;
    const stamps = new BigUint64Array(this.readback.getMappedRange(0, 16 * count).slice(0));
    this.readback.unmap();
    const out: number[] = [];
    for (let s = 0; s < count; s++) {
      const [begin, end] = [stamps[2 * s], stamps[2 * s + 1]];
      const ms = Number(end - begin) / 1e6;
      // An unwritten stamp, a clock that ran backwards, or a pass longer than the whole round trip.
      if (begin === 0n || end <= begin || !(ms > 0) || ms > wall) return null;
      out.push(ms);
    }
    return out;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolve.destroy();
    this.readback.destroy();
  }
}

const median = (v: readonly number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export async function timeWork(
  gpu: { device: GPUDevice; hasTimestamps: boolean }, record: Record, options: TimingOptions = {},
): Promise<WorkTiming> {
  const { minMs = 2, samples = 3, maxReps = 4096, giveUpAboveMs = Infinity } = options;
  const clock = gpu.hasTimestamps ? new TimestampClock(gpu.device) : null;
  let method: WorkTiming['method'] = clock ? 'timestamp-query' : 'wall-clock';
  /** `count` samples of `reps` units: one submit on the GPU clock, one submit each on the host's. */
  const sample = async (reps: number, count = 1): Promise<number[]> => {
    if (clock && method === 'timestamp-query') {
      const ms = await clock.samples(Math.min(count, MAX_BATCH), reps, record);
      if (ms !== null) return ms;
      method = 'wall-clock'; // implausible stamps: this adapter's clock is not to be trusted here
    }
    return [await wallSample(gpu.device, reps, record)];
  };
  try {
    let reps = 1;
    let [total] = await sample(reps);
    while (total < minMs && reps < maxReps && total / reps <= giveUpAboveMs) {
      reps = Math.min(maxReps, reps * Math.min(16, Math.max(2, Math.ceil(minMs / Math.max(total, 1e-3)))));
      [total] = await sample(reps);
    }
    const perUnit = [total / reps];
    while (perUnit.length < samples && perUnit[perUnit.length - 1] <= giveUpAboveMs) {
      perUnit.push(...(await sample(reps, samples - perUnit.length)).map((ms) => ms / reps));
    }
    const abandoned = perUnit[perUnit.length - 1] > giveUpAboveMs;
    return { ms: abandoned ? perUnit[perUnit.length - 1] : median(perUnit), samples: perUnit, reps, method, abandoned };
  } finally {
    clock?.destroy();
  }
}
