// Entry of the `nabla` command. Exit codes: 0 ok, 2 bad input (named), 3 diverged, 130 stopped by Ctrl-C
// (interrupt.ts), 1 anything else.
// No stack trace reaches a user: known errors are one message, anything else one line saying it is an
// internal error (NABLA_DEBUG=1 prints the stack).
import { parseCli, UsageError } from './args.ts';
import { commandHelp, USAGE } from './flags.ts';
import { DataError } from '../data/errors.ts';
import { convertCommand, gradientCommand, trainCommand, type Io } from './commands.ts';
import { evaluateCommand, modelTrainCommand, predictCommand } from './model-commands.ts';
import { checkOutputPath } from './output-path.ts';
import { UnavailableError } from './errors.ts';
import { clearProgress } from './progress.ts';
import { formulaTrainCommand } from './formula-commands.ts';
import { deriveCommand } from './derive-command.ts';
import { FormulaError } from '../formula/parse.ts';

export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const args = parseCli(argv);
    switch (args.command) {
      case 'help':
        io.out(args.topic ? commandHelp(args.topic) : USAGE);
        return 0;
      case 'convert':
        checkOutputPath('convert OUT', args.output);
        return await convertCommand(args, io);
      case 'train':
        if (args.save !== undefined) checkOutputPath('--save', args.save);
        // A resume reads its file first (modelTrainCommand): the file says which kind of model continues.
        if (args.engine === 'formula' && args.resume === undefined) return await formulaTrainCommand(args, io, null);
        return args.engine === 'linear' ? await trainCommand(args, io) : await modelTrainCommand(args, io);
      case 'gradient':
        return await gradientCommand(args, io);
      case 'predict':
        return await predictCommand(args, io);
      case 'evaluate':
        return await evaluateCommand(args, io);
      case 'derive':
        return await deriveCommand(args, io);
    }
  } catch (e) {
    return reportError(e, io);
  }
}

/** Bad input (a flag, a data file, a model file, a formula: RangeError is what validators throw) is exit 2. */
export function reportError(e: unknown, io: Io, debug = process.env.NABLA_DEBUG === '1'): number {
  const known = e instanceof UsageError || e instanceof DataError || e instanceof RangeError || e instanceof FormulaError;
  const message = e instanceof Error ? e.message : String(e);
  if (known) {
    io.err(`nabla: ${message}`);
    if (debug && e instanceof Error && e.stack) io.err(e.stack);
    return 2;
  }
  const first = message.split('\n')[0] || (e instanceof Error ? e.name : 'error');
  if (e instanceof UnavailableError && !debug) {
    io.err(`nabla: ${first}`);
    return 1;
  }
  if (debug) io.err(`nabla: ${e instanceof Error && e.stack ? e.stack : message}`);
  else io.err(`nabla: ${first} (internal error; NABLA_DEBUG=1 prints the details)`);
  return 1;
}

const stdio: Io = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => {
    clearProgress(); // a progress line drawn with '\r' would run into this one
    process.stderr.write(`${t}\n`);
  },
};

export async function runFromBin(): Promise<void> {
  // A failure outside main's await chain (a stray rejection from the GPU page) is still one line, exit 1.
  const last = (e: unknown) => {
    process.exitCode = reportError(e, stdio) || 1;
    process.exit();
  };
  process.on('uncaughtException', last);
  process.on('unhandledRejection', last);
  // A reader that stops early (`nabla predict ... | head`) is not an error of ours.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    last(e);
  });
  process.exitCode = await main(process.argv.slice(2), stdio);
}
