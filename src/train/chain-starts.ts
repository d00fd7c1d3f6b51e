// Bookkeeping of the GPU programs' last good state: each chain first copies the state it starts from into
// one of two buffers, alternating, so that after a divergence the program can hand back a state whose loss
// was good without any read-back in between. The latest start before the failing update qualifies: the
// failing chain's own start when the failure came after its first evaluation, else the chain before it.
export class ChainStarts {
  private at: [number, number] = [-1, -1];
  private runs = 0;

  reset(): void {
    this.at = [-1, -1];
    this.runs = 0;
  }

  /** The buffer (0 or 1) the next chain's start is copied into. */
  get next(): 0 | 1 {
    return (this.runs % 2) as 0 | 1;
  }

  /** The chain whose start went to `next` has run from update `from`. */
  ran(from: number): void {
    this.at[this.next] = from;
    this.runs++;
  }

  /** The buffer holding the latest start before update failedAt, and that start's update count. */
  before(failedAt: number, who: string): { index: 0 | 1; t: number } {
    const candidates = ([0, 1] as const).filter((i) => this.at[i] >= 0 && this.at[i] < failedAt);
    if (candidates.length === 0) throw new Error(`${who}: no good state kept before update ${failedAt}`);
    const index = candidates.reduce((a, b) => (this.at[a] > this.at[b] ? a : b));
    return { index, t: this.at[index] };
  }
}
