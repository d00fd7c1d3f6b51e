// parseCli: defaults, and a UsageError naming the argument for every invalid input.
import { describe, expect, it } from 'vitest';
import { parseCli, UsageError, type GradientArgs, type TrainArgs } from '../../src/cli/args.ts';
import { commandHelp } from '../../src/cli/flags.ts';
import { STREAM_CHUNK_MB } from '../../src/cli/stream-chunk.ts';

function usageErrorOf(argv: string[]): UsageError {
  try {
    parseCli(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error(`expected a UsageError for ${JSON.stringify(argv)}, nothing was thrown`);
}

describe('parseCli: accepted input', () => {
  it('train defaults', () => {
    const a = parseCli(['train']) as TrainArgs;
    // Defaults that differ between the linear model's default path and the model trainer (lr, tol, seed) stay unset here.
    expect(a).toEqual({
      command: 'train', data: null, target: 'y', device: 'auto', onInvalid: 'drop-missing', json: false,
      model: 'linear', engine: 'linear', epochs: 1000, standardize: true, stream: false, given: [],
    });
    expect('features' in a).toBe(false);
  });

  it('--hidden may repeat a width (64,64 is two layers), unlike column lists', () => {
    expect((parseCli(['train', '--data', 'd.csv', '--target', 'y', '--model', 'mlp', '--hidden', '64,64']) as TrainArgs).hidden).toEqual([64, 64]);
    expect(() => parseCli(['train', '--data', 'd.csv', '--target', 'y', '--features', 'a,a'])).toThrow(/--features: "a" is listed twice/);
  });

  it('--device cpu64 selects the float64 reference twin', () => {
    expect((parseCli(['train', '--device', 'cpu64']) as TrainArgs).device).toBe('cpu64');
  });

  it('train with every option', () => {
    const a = parseCli([
      'train', '--data', 'd.csv', '--target', 'price', '--features', ' a, b ,c', '--lr', '0.05', '--epochs', '20',
      '--tol', '1e-9', '--no-standardize', '--device', 'cpu', '--json',
    ]) as TrainArgs;
    expect(a).toEqual({
      command: 'train', data: 'd.csv', target: 'price', features: ['a', 'b', 'c'], device: 'cpu', onInvalid: 'drop-missing', json: true,
      model: 'linear', engine: 'linear', lr: 0.05, epochs: 20, tol: 1e-9, standardize: false, stream: false,
      given: ['data', 'target', 'features', 'lr', 'epochs', 'tol', 'no-standardize', 'device', 'json'],
    });
  });

  it('accepts --opt=value, epochs 0 and tol 0', () => {
    const a = parseCli(['train', '--lr=2.5e-1', '--epochs=0', '--tol=0', '--device=gpu']) as TrainArgs;
    expect([a.lr, a.epochs, a.tol, a.device]).toEqual([0.25, 0, 0, 'gpu']);
  });

  it('gradient with weights and bias (negative values with =)', () => {
    const a = parseCli(['gradient', '--data', 'd.json', '--target', 'y', '--weights=-1.5,2,3e2', '--bias=-0.25']) as GradientArgs;
    expect(a).toEqual({
      command: 'gradient', data: 'd.json', target: 'y', device: 'auto', onInvalid: 'drop-missing', json: false, weights: [-1.5, 2, 300], bias: -0.25,
    });
  });

  it('negative values also as a separate token (--bias -0.25), without swallowing a following option', () => {
    const a = parseCli(['gradient', '--data', 'd.json', '--weights', '-1.5,2', '--bias', '-0.25', '--target', 'y']) as GradientArgs;
    expect([a.weights, a.bias]).toEqual([[-1.5, 2], -0.25]);
    expect(() => parseCli(['train', '--lr', '--json'])).toThrow(/--lr/);
  });

  it('mini-batch and chunk options', () => {
    const a = parseCli(['train', '--batch-size', '256', '--seed', '3', '--chunk-mb', '0.5']) as TrainArgs;
    expect([a.batchSize, a.seed, a.chunkMb]).toEqual([256, 3, 0.5]);
    expect(() => parseCli(['train', '--seed', '-3'])).toThrow(/--seed/);
    expect((parseCli(['train']) as TrainArgs).batchSize).toBeUndefined();
    expect(() => parseCli(['train', '--batch-size', '0'])).toThrow(/--batch-size/);
    expect(() => parseCli(['train', '--seed', '1.5'])).toThrow(/--seed/);
    expect(() => parseCli(['train', '--chunk-mb', '-1'])).toThrow(/--chunk-mb/);
    // Streaming applies to every model and device; --chunk-mb then sizes the stream's chunks.
    const streamed = parseCli(['train', '--data', 'd.csv', '--target', 'y', '--model', 'mlp', '--stream', '--batch-size', '8', '--chunk-mb', '2', '--device', 'cpu64', '--save', 'm.json']) as TrainArgs;
    expect([streamed.stream, streamed.engine, streamed.batchSize, streamed.chunkMb]).toEqual([true, 'model', 8, 2]);
    expect((parseCli(['train', '--data', 'd.csv', '--target', 'y', '--stream', '--device', 'cpu']) as TrainArgs).stream).toBe(true);
  });

  it('help: general, and per command', () => {
    for (const argv of [[], ['help'], ['--help'], ['-h']]) {
      expect(parseCli(argv), JSON.stringify(argv)).toEqual({ command: 'help' });
    }
    for (const [argv, topic] of [[['train', '--help'], 'train'], [['gradient', '-h'], 'gradient'], [['help', 'predict'], 'predict'],
      [['convert', '--help'], 'convert'], [['evaluate', '--data', 'x.csv', '--help'], 'evaluate']] as const) {
      expect(parseCli([...argv]), JSON.stringify(argv)).toEqual({ command: 'help', topic });
    }
    expect(() => parseCli(['help', 'fit'])).toThrow(/help: expected one of train/);
  });

  it('help for --chunk-mb: train\'s stream default goes by device, not by model; gradient, which takes no --stream, names no stream', () => {
    const train = commandHelp('train').replace(/\s+/g, ' ');
    expect(train).toContain(`(default ${STREAM_CHUNK_MB.cpu}; ${STREAM_CHUNK_MB.gpu} with --device gpu)`);
    expect(train).not.toContain('--formula)');
    expect(commandHelp('gradient')).not.toMatch(/stream/);
    expect(usageErrorOf(['gradient', '--data', 'd.csv', '--target', 'y', '--weights', '1', '--bias', '0', '--stream']).message).toMatch(/gradient: --stream does not apply to gradient \(it is a flag of train;/);
  });

  it('the model trainer is chosen by the model or by a flag only it implements', () => {
    expect((parseCli(['train', '--model', 'linear']) as TrainArgs).engine).toBe('linear');
    for (const extra of [['--model', 'mlp'], ['--optimizer', 'adam'], ['--schedule', 'cosine:10'], ['--save', 'm.json'], ['--weight-decay', '0.1']]) {
      const a = parseCli(['train', '--data', 'd.csv', '--target', 'y', ...extra]) as TrainArgs;
      expect(a.engine, extra.join(' ')).toBe('model');
    }
    const r = parseCli(['train', '--data', 'd.csv', '--resume', 'm.json', '--epochs', '5']) as TrainArgs;
    expect([r.engine, r.resume, r.target]).toEqual(['model', 'm.json', undefined]);
  });
});

describe('a list flag', () => {
  it('takes a name with a comma or a quote in double quotes, as CSV writes it', () => {
    const features = (raw: string) => (parseCli(['train', '--data', 'f.csv', '--target', 'y', '--features', raw]) as TrainArgs).features;
    expect(features('a,b')).toEqual(['a', 'b']);
    expect(features('"b,c",a')).toEqual(['b,c', 'a']);
    expect(features(' a , "b,c" ')).toEqual(['a', 'b,c']);
    expect(features('"say ""hi""",x')).toEqual(['say "hi"', 'x']);
    expect(features('" padded "')).toEqual([' padded ']);
    expect(features('a"b')).toEqual(['a"b']);
  });
});

describe('parseCli: each validation error is a UsageError naming its argument', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['--lr not a number', ['train', '--lr', 'abc'], /--lr\b.*"abc"/],
    ['--lr zero', ['train', '--lr', '0'], /--lr\b/],
    ['--lr negative', ['train', '--lr=-0.1'], /--lr\b/],
    ['--lr Infinity', ['train', '--lr', 'Infinity'], /--lr\b/],
    ['--lr with trailing junk', ['train', '--lr', '0.1x'], /--lr\b/],
    ['--lr hexadecimal', ['train', '--lr', '0x1'], /--lr\b/],
    ['--lr empty', ['train', '--lr', ''], /--lr\b/],
    ['--epochs negative', ['train', '--epochs=-1'], /--epochs\b/],
    ['--epochs fractional', ['train', '--epochs', '2.5'], /--epochs\b/],
    ['--epochs not a number', ['train', '--epochs', 'many'], /--epochs\b/],
    ['--epochs too large', ['train', '--epochs', '1e10'], /--epochs\b/],
    ['--tol negative', ['train', '--tol=-1e-6'], /--tol\b/],
    ['--tol not a number', ['train', '--tol', 'small'], /--tol\b/],
    ['--device unknown', ['train', '--device', 'tpu'], /--device\b.*"tpu"/],
    ['--features empty name', ['train', '--features', 'a,,b'], /--features\b/],
    ['--features trailing comma', ['train', '--features', 'a,b,'], /--features\b/],
    ['--features duplicate', ['train', '--features', 'a,b,a'], /--features\b.*"a"/],
    ['--features duplicate after trimming', ['train', '--features', 'a, a'], /--features\b.*"a"/],
    ['--features a quote not closed', ['train', '--features', 'a,"b,c'], /--features: the quote at character 3 of a,"b,c is not closed/],
    ['--features text after a quoted name', ['train', '--features', '"b,c"d,a'], /--features: after the quoted name "b,c" comes "d", not a comma/],
    ['--features a quoted name twice', ['train', '--features', '"b,c", "b,c"'], /--features: "b,c" is listed twice/],
    ['--weights value 2 not a number', ['gradient', '--data', 'd.csv', '--target', 'y', '--weights', '1,abc,3', '--bias', '0'], /--weights \(value 2\).*"abc"/],
    ['--weights value 3 empty', ['gradient', '--data', 'd.csv', '--target', 'y', '--weights', '1,2,', '--bias', '0'], /--weights \(value 3\)/],
    ['--weights missing', ['gradient', '--data', 'd.csv', '--target', 'y', '--bias', '0'], /--weights\b/],
    ['--bias not a number', ['gradient', '--data', 'd.csv', '--target', 'y', '--weights', '1', '--bias', 'b'], /--bias\b/],
    ['--bias missing', ['gradient', '--data', 'd.csv', '--target', 'y', '--weights', '1'], /--bias\b/],
    ['--target required with --data (train)', ['train', '--data', 'd.csv'], /--target\b.*--data/],
    ['--target required with --data (gradient)', ['gradient', '--data', 'd.csv', '--weights', '1', '--bias', '0'], /--target\b/],
    ['--data required for gradient', ['gradient', '--weights', '1', '--bias', '0'], /--data\b.*gradient/],
    ['--data empty', ['train', '--data', '', '--target', 'y'], /--data\b/],
    ['unknown command', ['fit', '--data', 'd.csv'], /unknown command "fit"/],
    ['unknown option', ['train', '--bogus'], /train: unknown flag --bogus/],
    ['a flag given twice', ['train', '--lr', '0.1', '--lr', '0.2'], /--lr: given more than once/],
    ['a flag of another command', ['predict', '--model', 'm.json', '--data', 'd.csv', '--device', 'cpu'], /predict: --device does not apply to predict: predictions are computed on the CPU in float64 .*\(it is a flag of train, gradient/],
    ['--classes was parsed and unused: now it is checked', ['train', '--data', 'd.csv', '--target', 'y', '--classes', 'a,b'], /--classes: applies to classifiers/],
    ['--classes for logistic: exactly 2', ['train', '--data', 'd.csv', '--target', 'y', '--model', 'logistic', '--classes', 'a,b,c'], /--classes: .*exactly 2/],
    ['--hidden without mlp', ['train', '--data', 'd.csv', '--target', 'y', '--model', 'softmax', '--hidden', '8'], /--hidden: applies to --model mlp only/],
    ['--activation without mlp', ['train', '--data', 'd.csv', '--target', 'y', '--model', 'logistic', '--activation', 'tanh'], /--activation: applies to --model mlp/],
    ['--momentum without a momentum optimizer', ['train', '--data', 'd.csv', '--target', 'y', '--model', 'mlp', '--momentum', '0.5'], /--momentum: applies to --optimizer momentum or nesterov/],
    ['--tol with --batch-size', ['train', '--tol', '1e-3', '--batch-size', '8'], /--tol: .*--batch-size/],
    ['--seed where nothing is drawn', ['train', '--seed', '3'], /--seed: .*applies with --batch-size/],
    ['--chunk-mb on the CPU', ['train', '--chunk-mb', '1', '--device', 'cpu'], /--chunk-mb: .*--device cpu/],
    ['--chunk-mb on the float64 twin', ['train', '--chunk-mb', '1', '--device', 'cpu64'], /--chunk-mb: .*--device cpu64/],
    ['an unknown device', ['train', '--device', 'tpu'], /--device.*tpu/],
    ['--chunk-mb with a model, not streamed', ['train', '--data', 'd.csv', '--target', 'y', '--model', 'logistic', '--chunk-mb', '1'], /--chunk-mb: .*--model logistic alone/],
    ['a model without --data', ['train', '--model', 'softmax'], /--data: required for train with --model/],
    ['--target without --data', ['train', '--target', 'y'], /--target: needs --data/],
    ['--model unknown', ['train', '--model', 'tree'], /--model: expected linear, logistic, softmax, mlp, got "tree"/],
    ['predict without --model', ['predict', '--data', 'd.csv'], /--model: required for predict/],
    ['evaluate without --data', ['evaluate', '--model', 'm.json'], /--data: required for evaluate/],
    ['convert without OUT', ['convert', 'in.csv', '--target', 'y'], /convert: expected IN and OUT\.f32/],
    ['option of the other command', ['gradient', '--data', 'd.csv', '--target', 'y', '--lr', '0.1'], /--lr\b/],
    ['option without its value', ['train', '--lr'], /--lr\b/],
    ['a positional argument', ['train', 'extra.csv'], /extra\.csv/],
  ];
  for (const [name, argv, pattern] of cases) {
    it(name, () => {
      const e = usageErrorOf(argv);
      expect(e.name).toBe('UsageError');
      expect(e.message).toMatch(pattern);
    });
  }
});
