// One training run at a time on the page. The streamed run goes on across the modes (it reads a file that
// may take minutes a pass), so while it trains every other Train, Step and Fit is disabled and the page says
// why: two runs at once would share the device or the CPU's threads, each slowing the other, and a user
// could not tell which run moved which numbers. The other modes' runs pause when the streamed run starts
// (main.ts's hooks), so it never starts beside one either.

type Listener = () => void;

class StreamRunLock {
  private held = false;
  private readonly listeners: Listener[] = [];

  get streaming(): boolean {
    return this.held;
  }

  set(on: boolean): void {
    if (on === this.held) return;
    this.held = on;
    // The page's one note, above the modes, says why their Train is disabled.
    document.getElementById('run-lock')!.hidden = !on;
    for (const listener of this.listeners) listener();
  }

  /** Called whenever the lock is taken or released: the modes set their buttons again. */
  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }
}

export const streamRunLock = new StreamRunLock();
