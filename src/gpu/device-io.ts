// The queue-side habits every engine needs: submits inside a validation scope (an invalid command buffer
// otherwise does nothing, silently), read-backs, and device loss reported as what it is.

/** The device went away mid-run (driver reset, device.destroy()); the caller may resume from a snapshot. */
export class GpuDeviceLostError extends Error {
  constructor(message: string) {
    super(`GPU device lost: ${message}`);
    this.name = 'GpuDeviceLostError';
  }
}

export class DeviceIo {
  private lost: string | null = null;

  constructor(private readonly device: GPUDevice, private readonly label: string) {
    void device.lost.then((info) => {
      this.lost = info.message || info.reason || 'lost';
    });
  }

  live(): GPUDevice {
    if (this.lost !== null) throw new GpuDeviceLostError(this.lost);
    return this.device;
  }

  /** Device loss shows up as a rejected (or never settling) promise: race the work against device.lost. */
  async guard<T>(work: Promise<T>): Promise<T> {
    const lost = this.device.lost.then((info) => {
      throw new GpuDeviceLostError(info.message || info.reason || 'lost');
    });
    try {
      return await Promise.race([work, lost]);
    } catch (e) {
      if (e instanceof GpuDeviceLostError) throw e;
      // device.lost may resolve a moment after the failure it causes.
      await Promise.race([lost.catch(() => undefined), new Promise((r) => setTimeout(r, 100))]);
      if (this.lost !== null) throw new GpuDeviceLostError(this.lost);
      throw e;
    }
  }

  async submitChecked(encoder: GPUCommandEncoder, what: string): Promise<void> {
    const device = this.live();
    device.pushErrorScope('validation');
    device.queue.submit([encoder.finish()]);
    const error = await this.guard(device.popErrorScope());
    if (error) throw new Error(`${this.label}.${what}: ${error.message}`);
  }

  async readBack(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    await this.guard(buffer.mapAsync(GPUMapMode.READ, 0, bytes));
    const copy = buffer.getMappedRange(0, bytes).slice(0);
    buffer.unmap();
    return copy;
  }
}

/**
 * One call at a time on an engine. Its calls share its buffers (parameters, optimizer state, partials, the
 * read-back), so a second call (a server answering two requests at once) waits for the first instead of
 * writing its parameters under a running pass or mapping a buffer already being mapped. A call that fails
 * does not stop the next.
 */
export class CallQueue {
  private last: Promise<unknown> = Promise.resolve();

  run<T>(call: () => Promise<T>): Promise<T> {
    const result = this.last.then(call);
    this.last = result.catch(() => undefined);
    return result;
  }
}
