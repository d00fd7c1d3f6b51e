// Ctrl-C (SIGINT) or SIGTERM while `nabla train` trains. Killing the process would lose a long run and write
// no --save, so the first signal aborts the training loop's AbortSignal instead: it stops at the last whole
// epoch (a fit: its last accepted step), and the command reports and saves that state, then exits 130 as a
// shell expects of an interrupted command. A second signal exits at once, also 130; the model file is written
// through a temporary file and a rename, so an exit mid-save leaves the old file or none, never half of one.
// Installed only around training (and the report and save after it): reading data, predict and derive keep
// Node's default, which ends the process.
import type { Io } from './commands.ts';

/** What a shell reports for a command ended by SIGINT (128 + 2). */
export const INTERRUPTED_EXIT = 130;

/** A command's Ctrl-C: Node's default until arm(), then stop-at-a-boundary, then (after trainingDone) exit at once. */
export class TrainingInterrupt {
  private readonly controller = new AbortController();
  private armed = false;
  private training = false;
  private readonly onSignal = () => {
    if (this.controller.signal.aborted || !this.training) process.exit(INTERRUPTED_EXIT);
    this.controller.abort();
    this.io.err(`nabla: interrupted: ${this.stopping} (Ctrl-C again quits at once, writing nothing)`);
  };

  /** stopping: what the first signal makes the run do, e.g. 'stopping at the last whole epoch'. */
  constructor(private readonly io: Io, private readonly stopping: string) {}

  /** From now on a signal stops training at its next boundary; the returned signal is the loop's. */
  arm(): AbortSignal {
    if (!this.armed) {
      this.armed = true;
      process.on('SIGINT', this.onSignal);
      process.on('SIGTERM', this.onSignal);
    }
    this.training = true;
    return this.controller.signal;
  }

  /** Training has returned: a signal from now on (during the report or the save) exits at once. */
  trainingDone(): void {
    this.training = false;
  }

  /** Back to Node's default handling. */
  release(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

/** work with Ctrl-C handled as TrainingInterrupt says; work arms it where training starts. */
export async function withInterrupt(io: Io, stopping: string, work: (interrupt: TrainingInterrupt) => Promise<number>): Promise<number> {
  const interrupt = new TrainingInterrupt(io, stopping);
  try {
    return await work(interrupt);
  } finally {
    interrupt.release();
  }
}

export const STOP_AT_EPOCH = 'stopping at the last whole epoch';

/** Said after the J of a run whose loss is not an evaluation at its parameters (ModelTrainResult.lossOf). */
export function lossNote(r: { lossOf?: 'last-epoch' }): string {
  return r.lossOf === 'last-epoch' ? " (the last whole epoch's mean over its batches: a stopped stream is not read again)" : '';
}

/** The line on stderr that ends a run stopped by the user. */
export function stoppedText(epochs: number, save: string | undefined): string {
  const kept = save === undefined ? '' : `; saved to ${save} (--resume ${save} continues it)`;
  return `nabla: stopped by the user after ${epochs} whole epoch${epochs === 1 ? '' : 's'}${kept}`;
}
