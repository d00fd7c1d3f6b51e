// The library's public entries name a missing or mistyped argument (a TypeError, or a RangeError for a bad
// value) instead of failing inside with "Cannot read properties of undefined" or "x is not a function".
// The GPU entries check their arguments before any GPU call, so those checks run here without a device.
import { describe, expect, it } from 'vitest';
import {
  CpuFormulaEngine, CpuModelEngine, FastCpuFormulaEngine, FastCpuModelEngine, GpuFormulaEngine, GpuModelEngine, compileFormula, curveFit, formulaPredict, linearModel, mlpModel,
  openUrl, optimizerConfig, parseSchedule, readAllChunks, requestGpu, startingParameters, type FormulaData, type GpuContext, type SampleSource, type ShardPool,
} from '../../src/index.ts';

const model = compileFormula({ formula: 'y ~ b1*(1-exp(-b2*x))' }, { columns: ['x', 'y'] });
const data: FormulaData = { n: 3, d: 1, x: Float32Array.of(1, 2, 3), y: Float32Array.of(1, 2, 3) };
const start = Float64Array.of(1, 0.1);
const missing = undefined as never;

describe('startingParameters', () => {
  it('takes no values (undefined or null) as none given: a model whose formula starts every parameter needs none', () => {
    const linear = compileFormula({ formula: 'y ~ linear(x)' }, { columns: ['x', 'y'] });
    expect(Array.from(startingParameters(linear))).toEqual([0, 0]);
    expect(Array.from(startingParameters(linear, null))).toEqual([0, 0]);
  });

  it('names the parameters without a value when none are given, and refuses values that are no object', () => {
    expect(() => startingParameters(model)).toThrow(/no starting value for "b1", "b2"/);
    expect(() => startingParameters(model, null)).toThrow(/no starting value for "b1", "b2"/);
    expect(() => startingParameters(model, 5 as never)).toThrow(new TypeError('start: expected an object of starting values by parameter name (e.g. { b1: 500 }), got number'));
    expect(() => startingParameters(model, [1, 2] as never)).toThrow(/^start: .* got an array$/);
  });
});

describe('the formula engines', () => {
  it('CpuFormulaEngine names missing data, start and theta', async () => {
    expect(() => new CpuFormulaEngine(model, missing, start)).toThrow(new TypeError('data: expected the rows as { n, d, x, y }, got undefined'));
    expect(() => new CpuFormulaEngine(model, { ...data, y: [1, 2, 3] as never }, start)).toThrow(TypeError);
    expect(() => new CpuFormulaEngine(model, { ...data, x: missing }, start)).toThrow(/^data: x: expected a Float32Array, got undefined$/);
    expect(() => new CpuFormulaEngine(model, data, missing)).toThrow(/^start: expected the 2 parameter values \(b1, b2\) as a Float64Array or an array, got undefined$/);
    const engine = new CpuFormulaEngine(model, data, start);
    await expect(engine.lossAndGradient(missing)).rejects.toThrow(/^theta: expected the 2 parameter values/);
    expect(() => new CpuFormulaEngine(model, data, Float64Array.of(1))).toThrow(new RangeError('start: expected 2 values (b1, b2), got 1'));
    await expect(engine.lossAndGradient(Float64Array.of(1, NaN))).rejects.toThrow(new RangeError('theta: b2 = NaN is not a finite number'));
    await expect(engine.normalEquations(missing)).rejects.toThrow(TypeError);
  });

  it('train() names a bad maxEpochs, batchSize or chunkRows by its option name', async () => {
    const engine = new CpuFormulaEngine(model, data, start);
    const o = { lr: 0.1, maxEpochs: 1, optimizer: optimizerConfig() };
    await expect(engine.train({ ...o, maxEpochs: -1 })).rejects.toThrow(new RangeError('maxEpochs: expected a non-negative integer, got -1'));
    await expect(engine.train({ ...o, batchSize: 0 })).rejects.toThrow(new RangeError('batchSize: expected a positive integer, got 0'));
    await expect(engine.train({ ...o, chunkRows: 1.5 })).rejects.toThrow(new RangeError('chunkRows: expected a positive integer, got 1.5'));
  });

  it('the formula engines and formulaPredict name a model that is not a compiled formula', async () => {
    const noModel = /^model: expected a compiled formula model \(from compileFormula\), got undefined$/;
    expect(() => new CpuFormulaEngine(missing, data, start)).toThrow(noModel);
    expect(() => new FastCpuFormulaEngine(missing, data, start)).toThrow(noModel);
    await expect(GpuFormulaEngine.create({ device: {} } as GpuContext, missing, data, start)).rejects.toThrow(noModel);
    expect(() => formulaPredict({ formula: 'y ~ a*x' } as never, [1], data)).toThrow(/^model: .* got an object without params and features$/);
  });

  it('FastCpuFormulaEngine and FastCpuModelEngine name a pool that is no ShardPool', () => {
    const message = /^pool: expected a ShardPool \(an InlinePool, NodeWorkerPool or WebWorkerPool\), got an object without allocate, register, run, release, dispose, threads$/;
    expect(() => new FastCpuFormulaEngine(model, data, start, { pool: {} as ShardPool })).toThrow(message);
    expect(() => new FastCpuFormulaEngine(model, data, start, { pool: 4 as never })).toThrow(/^pool: .* got number$/);
    const config = linearModel(1);
    expect(() => new FastCpuModelEngine(config, { n: 3, d: 1, x: data.x, y: data.y }, { pool: {} as ShardPool })).toThrow(message);
  });

  it('the GPU engines name a missing GPU context before any GPU call', async () => {
    await expect(GpuFormulaEngine.create(missing, model, data, start)).rejects.toThrow(new TypeError('gpu: expected the context requestGpu() gives, got undefined'));
    await expect(GpuFormulaEngine.create({} as GpuContext, model, data, start)).rejects.toThrow(/^gpu: .* got an object without a device$/);
    await expect(GpuModelEngine.create(missing, linearModel(1), { n: 3, d: 1, x: data.x, y: data.y })).rejects.toThrow(/^gpu: expected the context requestGpu\(\) gives/);
  });

  it('the GPU engines refuse rows that are not Float32Arrays before any GPU call (their upload would turn a Float64Array into integers)', async () => {
    const gpu = { device: {} } as GpuContext;
    const x64 = Float64Array.from(data.x);
    await expect(GpuFormulaEngine.create(gpu, model, { ...data, x: x64 as never }, start)).rejects.toThrow(new TypeError('data: x: expected a Float32Array (the GPU holds the rows as float32), got Float64Array'));
    await expect(GpuFormulaEngine.create(gpu, model, { ...data, y: [1, 2, 3] as never }, start)).rejects.toThrow(/^data: y: expected a Float32Array/);
    await expect(GpuModelEngine.create(gpu, linearModel(1), { n: 3, d: 1, x: x64 as never, y: data.y })).rejects.toThrow(/^data: x: expected a Float32Array .* got Float64Array$/);
    await expect(GpuModelEngine.create(gpu, linearModel(1), { n: 3, d: 1, x: data.x, y: Float64Array.from(data.y) as never })).rejects.toThrow(/^data: y: expected a Float32Array .* got Float64Array$/);
  });

  it('the network engines name missing samples, and the GPU engines a missing stream, before any GPU call', async () => {
    const gpu = { device: {} } as GpuContext;
    const config = linearModel(1);
    expect(() => new CpuModelEngine(config, missing)).toThrow(new TypeError('data: expected the samples as { n, d, x, y }, got undefined'));
    expect(() => new CpuModelEngine(config, { n: 3, d: 1, x: missing, y: data.y })).toThrow(new TypeError('data: x: expected a Float32Array, got undefined'));
    await expect(GpuModelEngine.create(gpu, config, { n: 3, d: 1, x: data.x, y: null as never })).rejects.toThrow(new TypeError('data: y: expected a Float32Array, got null'));
    const noStream = /^stream: expected a RowStream \(n, d, chunkRows, pass\(\)\), got null$/;
    await expect(GpuModelEngine.createStreamed(gpu, config, null as never)).rejects.toThrow(noStream);
    await expect(GpuFormulaEngine.createStreamed(gpu, model, null as never, start)).rejects.toThrow(noStream);
  });

  it('requestGpu names a gpu argument that is not navigator.gpu', async () => {
    await expect(requestGpu({} as GPU)).rejects.toThrow(TypeError);
    await expect(requestGpu({} as GPU)).rejects.toThrow(/^gpu: expected navigator\.gpu/);
  });
});

describe('formulaPredict', () => {
  it('takes rows without a target (what a prediction has), and names missing rows', () => {
    expect(Array.from(formulaPredict(model, [2, 1], { n: 2, d: 1, x: Float32Array.of(0, 1) }))).toEqual([0, 2 * (1 - Math.exp(-1))]);
    expect(() => formulaPredict(model, [2, 1], missing)).toThrow(new TypeError('data: expected the rows as { n, d, x }, got undefined'));
    expect(() => formulaPredict(model, [2, 1], { n: 2, d: 1, x: missing })).toThrow(new TypeError('data: x: expected a Float32Array, got undefined'));
  });
});

describe('curveFit', () => {
  const pass = (theta: Float64Array) => new CpuFormulaEngine(model, data, start).normalEquations(theta);

  it('names a pass that is no function and a missing or mis-sized start', async () => {
    await expect(curveFit(model, 3, 5 as never, start)).rejects.toThrow(/^pass: expected a function of theta giving the normal-equations sums/);
    await expect(curveFit(model, 3, pass, missing)).rejects.toThrow(/^start: expected the 2 starting values \(b1, b2\) as a Float64Array/);
    await expect(curveFit(model, 3, pass, Float64Array.of(1))).rejects.toThrow(new RangeError('start: expected 2 values (b1, b2), got 1'));
  });
});

describe('models, schedules and sources', () => {
  it('mlpModel names hidden when it is no array', () => {
    expect(() => mlpModel(1, missing, 'tanh', 'mse')).toThrow(new TypeError('hidden: expected the hidden layers\' widths as an array (e.g. [16, 16], or [] for none), got undefined'));
    expect(() => mlpModel(1, 16 as never, 'tanh', 'mse')).toThrow(/^hidden: .* got number$/);
  });

  it('parseSchedule names text that is no string', () => {
    expect(() => parseSchedule(5 as never)).toThrow(new TypeError('schedule: expected the text form, e.g. "cosine:1000,warmup:50", got number'));
  });

  it('openUrl, given a local path or a file: URL (Deno reads both), says what reads a local file', async () => {
    const local = /a local file is read by its path \(openSource from 'nabla\/node', or the CLI\) or, in a page, as a Blob \(openCsvBlob/;
    await expect(openUrl('/data/d.csv', { target: 'y' })).rejects.toThrow(/^\/data\/d\.csv: not a URL: openUrl reads http:\/\/ and https:\/\/ URLs; a local file/);
    await expect(openUrl('/data/d.csv', { target: 'y' })).rejects.toThrow(local);
    await expect(openUrl('file:///data/d.csv', { target: 'y' })).rejects.toThrow(/^file:\/\/\/data\/d\.csv: unsupported URL scheme "file:"/);
    await expect(openUrl('file:///data/d.csv', { target: 'y' })).rejects.toThrow(local);
  });

  it('readAllChunks names a source that is no SampleSource', async () => {
    await expect(readAllChunks(missing)).rejects.toThrow(new TypeError('source: expected a SampleSource (from openSource, openCsvBlob, openUrl, ...), got undefined'));
    await expect(readAllChunks({} as SampleSource)).rejects.toThrow(/^source: .* got an object without chunks\(\)$/);
  });
});
