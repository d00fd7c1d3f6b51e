// Every flag of every subcommand, in one table: the parser (args.ts) accepts exactly these per command,
// and the help (`nabla help CMD`, `nabla CMD --help`) is written from them, so the two cannot disagree.

export const COMMANDS = ['train', 'gradient', 'predict', 'evaluate', 'convert', 'derive'] as const;
export type Command = (typeof COMMANDS)[number];

/** Where training or a gradient runs. One list: a new device is added here (and in backend.ts). */
export const DEVICES = ['auto', 'gpu', 'cpu', 'cpu64'] as const;
export type DeviceChoice = (typeof DEVICES)[number];
/** The CPU paths (fast and float64): no GPU chunks, no page. */
export const onCpu = (device: DeviceChoice): boolean => device === 'cpu' || device === 'cpu64';
/**
 * The device a report names: where the run finished ('gpu' or 'cpu', from the backend), with the CPU run of
 * --device cpu64 called cpu64, since it was the float64 twin and not the fast path.
 */
export const deviceRan = (asked: DeviceChoice, ran: 'gpu' | 'cpu'): 'gpu' | 'cpu' | 'cpu64' => (ran === 'cpu' && asked === 'cpu64' ? 'cpu64' : ran);

export const MODEL_KINDS = ['linear', 'logistic', 'softmax', 'mlp'] as const;

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** Placeholder shown in the help, e.g. FILE. */
  value?: string;
  help: string;
}

const data: FlagSpec = { type: 'string', value: 'FILE', help: 'data file or http(s) URL: .csv, .json, .jsonl/.ndjson, .parquet, .arrow/.arrows/.feather or .f32' };
const target: FlagSpec = { type: 'string', value: 'COL', help: 'target column (numbers; class labels for logistic, softmax, mlp)' };
const features: FlagSpec = { type: 'string', value: 'A,B,...', help: 'feature columns, in this order (default: every other numeric column); a name with a comma in double quotes, as in CSV: \'"b,c",a\'' };
const onInvalid: FlagSpec = {
  type: 'string', value: 'POLICY',
  help: 'drop-missing (default: drop rows with an empty/NA/null/NaN cell, an infinite value is an error), drop (infinite too), error',
};
const device: FlagSpec = { type: 'string', value: DEVICES.join('|'), help: 'where to compute (default auto: a hardware GPU, else the fast CPU path; cpu64: the float64 reference twin)' };
const json: FlagSpec = { type: 'boolean', help: 'print one JSON object on stdout' };
const help: FlagSpec = { type: 'boolean', help: 'this help' };
const formula: FlagSpec = { type: 'string', value: '"Y ~ EXPR"', help: 'a formula model, e.g. "y ~ b1*(1-exp(-b2*x))": names that are columns of the data are features, the others parameters (README, "Formulas")' };
const loss: FlagSpec = { type: 'string', value: 'LOSS', help: 'with --formula: mse (default), mae, huber:δ, quantile:τ, poisson, logistic, cross-entropy, cauchy:c, logcosh, or a formula of yhat and y' };

/** Flags per command, in help order. */
export const FLAGS: Record<Command, Record<string, FlagSpec>> = {
  train: {
    data: { ...data, help: `${data.help} (default: a built-in example y = 3x + 2 + noise, linear model only)` },
    target, features,
    model: { type: 'string', value: MODEL_KINDS.join('|'), help: 'the model (default linear)' },
    formula, loss,
    start: { type: 'string', value: 'b1=V,...', help: 'with --formula: the parameters\' starting values (every parameter needs one; linear(...)\'s start at 0)' },
    weights: { type: 'string', value: 'COL', help: 'with --formula: a column of row weights (>= 0), J = (1/N) Σ wᵢℓᵢ' },
    hidden: { type: 'string', value: 'N,N,...', help: 'mlp: hidden layer widths (default 64)' },
    activation: { type: 'string', value: 'relu|tanh|sigmoid', help: 'mlp: hidden activation (default relu)' },
    classes: { type: 'string', value: 'L1,L2,...', help: 'logistic, softmax, mlp: the class labels in index order (default: the labels found, sorted); a row with another label is an error' },
    optimizer: { type: 'string', value: 'sgd|momentum|nesterov|adam|adamw|lm', help: 'update rule (default sgd); lm: a Levenberg-Marquardt curve fit of a --formula model with mse (--tol sets its relative tolerances, --epochs caps its passes)' },
    lr: { type: 'string', value: 'η', help: 'learning rate (default 0.1; 0.01 for adam and adamw)' },
    'weight-decay': { type: 'string', value: 'λ', help: 'L2 penalty (decoupled decay for adamw); default 0' },
    momentum: { type: 'string', value: 'μ', help: 'momentum and nesterov: the coefficient (default 0.9)' },
    schedule: { type: 'string', value: 'S', help: 'learning-rate schedule: constant | step:E:G | cosine:T[:MIN], then optionally ,warmup:W' },
    epochs: { type: 'string', value: 'N', help: 'passes over the data (default 1000); with --resume, the total to reach' },
    'batch-size': { type: 'string', value: 'B', help: 'rows per update, in an order shuffled per epoch from --seed (default: full batch)' },
    tol: { type: 'string', value: 'T', help: 'full batch: stop once |grad J| <= T (default 1e-6 on the linear model\'s default path; off on the model trainer, which --model, --save, --optimizer and its other flags choose)' },
    seed: { type: 'string', value: 'S', help: 'seeds the batch order and initial weights (default 0 for the linear model, 1 for the others)' },
    'no-standardize': { type: 'boolean', help: 'train on the features (and linear target) as they are' },
    save: { type: 'string', value: 'F.json', help: 'write the trained model (and optimizer state) to F.json' },
    resume: { type: 'string', value: 'F.json', help: 'continue a saved model exactly; flags that contradict it are refused' },
    stream: { type: 'boolean', help: 'read the file chunk by chunk, one pass per epoch, never all of it in memory (every model, GPU or CPU; mini-batches are cut inside chunks)' },
    'chunk-mb': {
      type: 'string', value: 'M',
      help: 'data chunk size in MiB: GPU chunks of the linear model (default: the adapter\'s storage-binding limit; none on the CPU), or a stream\'s chunks with --stream ' +
        '(default 16; 64 with --device gpu); a --resume of streamed mini-batches keeps the chunk rows it was trained in',
    },
    'on-invalid': onInvalid, device, json, help,
  },
  gradient: {
    data, target, features,
    weights: { type: 'string', value: 'w1,w2,...', help: 'the linear model\'s weights, one per feature' },
    bias: { type: 'string', value: 'b', help: 'the bias' },
    'chunk-mb': { type: 'string', value: 'M', help: 'the GPU holds the rows in chunks of this many MiB (default: the adapter\'s storage-binding limit; none on the CPU: --device cpu, cpu64, or auto without a hardware GPU)' },
    'on-invalid': onInvalid, device, json, help,
  },
  predict: {
    model: { type: 'string', value: 'F.json', help: 'a model written by train --save' },
    data: { ...data, help: `${data.help}; it needs the model's feature columns` },
    'on-invalid': onInvalid, json, help,
  },
  evaluate: {
    model: { type: 'string', value: 'F.json', help: 'a model written by train --save' },
    data, target: { ...target, help: 'target column (default: the saved model\'s)' },
    'on-invalid': onInvalid, json, help,
  },
  convert: {
    target: { ...target, help: 'target column (numbers)' }, features, 'on-invalid': onInvalid, json, help,
  },
  derive: {
    formula, loss,
    columns: { type: 'string', value: 'A,B,...', help: 'the names that are data columns (every other name is a parameter); each must occur in the formula, except its target, which is a column listed or not' },
    params: { type: 'string', value: 'b1,b2,...', help: 'the names that are parameters (every other name is a column); each must occur in the formula, and the target is not one' },
    data: { ...data, help: `${data.help}: its header says which names are columns` },
    json, help,
  },
};

const SYNOPSIS: Record<Command, string> = {
  train: 'nabla train [--data FILE --target COL] [--model linear|logistic|softmax|mlp | --formula "Y ~ EXPR" --start b1=V,...] [options]',
  gradient: 'nabla gradient --data FILE --target COL --weights w1,w2,... --bias b [options]',
  predict: 'nabla predict --model F.json --data FILE [--json]',
  evaluate: 'nabla evaluate --model F.json --data FILE [--target COL] [--json]',
  convert: 'nabla convert IN OUT.f32 --target COL [--features A,B,...] [--on-invalid POLICY] [--json]',
  derive: 'nabla derive --formula "Y ~ EXPR" [--loss LOSS] (--columns A,...|--params b1,...|--data FILE) [--json]',
};

const SUMMARY: Record<Command, string> = {
  train: 'fit a model by gradient descent on the GPU (WebGPU) or the CPU',
  gradient: 'the loss J and its gradient for given linear weights',
  predict: 'one prediction per kept row (a class label for classifiers)',
  evaluate: 'MSE and R² for regression; accuracy, log-loss and confusion for classifiers',
  convert: 'rewrite any supported file as nabla\'s raw .f32 format (written to a temporary file, then renamed)',
  derive: 'the partial derivatives of a formula model\'s loss, derived step by step, each step naming its rule',
};

export const USAGE = `nabla: gradients of a loss over a dataset, on the GPU (WebGPU) or the CPU

Usage:
${COMMANDS.map((c) => `  ${SYNOPSIS[c]}`).join('\n')}

Commands:
${COMMANDS.map((c) => `  ${c.padEnd(9)} ${SUMMARY[c]}`).join('\n')}

\`nabla help COMMAND\` or \`nabla COMMAND --help\` lists a command's flags. Exit codes: 0 ok, 2 bad input
(the message names the flag, file, line or column), 3 training diverged, 130 training stopped by Ctrl-C
(at the last whole epoch, reported and saved; a second Ctrl-C quits at once), 1 anything else.`;

const HELP_INDENT = 28;
const HELP_WIDTH = 100;

/** Words of `text` in lines of at most HELP_WIDTH - HELP_INDENT characters. */
function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > HELP_WIDTH - HELP_INDENT) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line];
}

export function commandHelp(command: Command): string {
  const pad = ' '.repeat(HELP_INDENT);
  const flags = Object.entries(FLAGS[command]).map(([name, spec]) => {
    const left = `  --${name}${spec.value ? ` ${spec.value}` : ''}`;
    const [first, ...more] = wrap(spec.help);
    const head = left.length < HELP_INDENT ? `${left.padEnd(HELP_INDENT)}${first}` : `${left}\n${pad}${first}`;
    return [head, ...more.map((l) => pad + l)].join('\n');
  });
  return `${SYNOPSIS[command]}\n\n${SUMMARY[command]}.\n\nFlags:\n${flags.join('\n')}`;
}
