// Entry of the `nabla` command. Exit codes: 0 ok, 2 bad input (named), 3 diverged, 1 anything else.
import { parseCli, UsageError, USAGE } from './args.ts';
import { DataError } from '../data/errors.ts';
import { convertCommand, gradientCommand, trainCommand, type Io } from './commands.ts';
import { evaluateCommand, modelTrainCommand, predictCommand } from './model-commands.ts';

const MODEL_ONLY = ['--hidden', '--activation', '--optimizer', '--weight-decay', '--momentum', '--schedule', '--save', '--resume'];

/** Plain `train` is the linear engine of the core; other models, optimizers and saved files take the model path. */
function wantsModelPath(args: string[]): boolean {
  return args.some((a, i) => {
    const [name, inline] = a.split('=', 2);
    if (MODEL_ONLY.includes(name)) return true;
    return name === '--model' && (inline ?? args[i + 1]) !== 'linear';
  });
}

export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command === 'predict') return await predictCommand(rest, io);
    if (command === 'evaluate') return await evaluateCommand(rest, io);
    if (command === 'train' && wantsModelPath(rest)) return await modelTrainCommand(rest, io);
    const args = parseCli(argv);
    if (args.command === 'help') {
      io.out(USAGE);
      return 0;
    }
    if (args.command === 'convert') return await convertCommand(args, io);
    return args.command === 'train' ? await trainCommand(args, io) : await gradientCommand(args, io);
  } catch (e) {
    if (e instanceof UsageError || e instanceof DataError || e instanceof RangeError) {
      io.err(`nabla: ${e.message}`);
      return 2;
    }
    io.err(`nabla: ${(e as Error).stack ?? e}`);
    return 1;
  }
}

const stdio: Io = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
};

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  process.exitCode = await main(process.argv.slice(2), stdio);
}

export async function runFromBin(): Promise<void> {
  process.exitCode = await main(process.argv.slice(2), stdio);
}
