// The published package as a user gets it: `npm pack`, installed into a fresh project in a temporary folder,
// then (a) imported from Node, training on the CPU path, plus the installed `nabla` command (compiled JS, no
// TypeScript at run time), and (b) a ten-line page bundled with Vite that trains the linear model and an MLP
// on the GPU in headless Chromium. Nothing from this checkout's src/ is reachable from the fresh project.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'vite';
import { chromium, type Browser } from 'playwright-core';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_WEBGPU_ARGS, chromiumPath } from '../../src/cli/chromium-flags.ts';
import { serveStatic } from './static-server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function run(cmd: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout: 240_000, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** The page of the README's "Use it in your page", verbatim. */
const PAGE_SCRIPT = `import { requestGpu, compileFormula, startingParameters, GpuFormulaEngine, GpuModelEngine, mlpModel, optimizerConfig } from 'nabla';
const gpu = await requestGpu();
const n = 4096, x = new Float32Array(n), y = new Float32Array(n);
for (let i = 0; i < n; i++) { x[i] = i / n; y[i] = 3 * x[i] + 2; }
const model = compileFormula({ formula: 'y ~ linear(x)', loss: 'mse' }, { columns: ['x', 'y'] });   // yhat = w_x * x + b
const linear = await GpuFormulaEngine.create(gpu, model, { x, y, n, d: 1 }, startingParameters(model, {}));
const fit = await linear.train({ lr: 0.5, maxEpochs: 5000, tol: 1e-5, optimizer: optimizerConfig({ kind: 'sgd' }) });
const mlp = await GpuModelEngine.create(gpu, mlpModel(1, [16], 'tanh', 'mse'), { x, y, n, d: 1 });
const net = await mlp.train({ lr: 0.01, maxEpochs: 300, optimizer: optimizerConfig({ kind: 'adam' }) });
document.body.dataset.result = JSON.stringify({ w: fit.theta[0], b: fit.theta[1], mlpLoss: net.loss, adapter: gpu.summary.name });
`;

const NODE_SCRIPT = `import { compileFormula, startingParameters, CpuFormulaEngine, CpuModelEngine, FastCpuModelEngine, NodeWorkerPool, mlpModel, optimizerConfig } from 'nabla/node';
const n = 1000, x = new Float32Array(n), y = new Float32Array(n);
for (let i = 0; i < n; i++) { x[i] = i / n; y[i] = 3 * x[i] + 2; }
const model = compileFormula({ formula: 'y ~ linear(x)', loss: 'mse' }, { columns: ['x', 'y'] });
const fit = await new CpuFormulaEngine(model, { x, y, n, d: 1 }, startingParameters(model, {}))
  .train({ lr: 0.5, maxEpochs: 5000, tol: 1e-8, optimizer: optimizerConfig({ kind: 'sgd' }) });
const net = await new CpuModelEngine(mlpModel(1, [8], 'tanh', 'mse'), { x, y, n, d: 1 })
  .train({ lr: 0.01, maxEpochs: 200, optimizer: optimizerConfig({ kind: 'adam' }) });
// The fast path on worker threads: the same fit within float32 data's rounding.
const pool = await NodeWorkerPool.create(2);
const fast = await new FastCpuModelEngine(mlpModel(1, [8], 'tanh', 'mse'), { x, y, n, d: 1 }, { pool })
  .train({ lr: 0.01, maxEpochs: 200, optimizer: optimizerConfig({ kind: 'adam' }) });
pool.dispose();
console.log(JSON.stringify({ w: fit.theta[0], b: fit.theta[1], mlpLoss: net.loss, fastLoss: fast.loss }));
`;

/** The formula snippet of the README's "Use it in your page", verbatim. */
const FORMULA_SCRIPT = `import { compileFormula, startingParameters, FastCpuFormulaEngine, NodeWorkerPool, curveFit, optimizerConfig } from 'nabla/node';
const n = 20000, x = new Float32Array(n), y = new Float32Array(n);
for (let i = 0; i < n; i++) { x[i] = 70 + 690 * i / n; y[i] = 240 * (1 - Math.exp(-5.5e-4 * x[i])) + Math.sin(i) / 10; }
const model = compileFormula({ formula: 'y ~ b1*(1-exp(-b2*x))', loss: 'mse' }, { columns: ['x', 'y'] });
const start = startingParameters(model, { b1: 500, b2: 1e-4 });
const pool = await NodeWorkerPool.create(2);
const engine = new FastCpuFormulaEngine(model, { x, y, n, d: 1 }, start, { pool });
const fit = await curveFit(model, n, (theta) => engine.normalEquations(theta), start);   // Levenberg-Marquardt
const descent = await engine.train({ lr: 1e-3, maxEpochs: 100, optimizer: optimizerConfig({ kind: 'adam' }) });
engine.dispose(); pool.dispose();
console.log(JSON.stringify({ params: fit.params, standardErrors: fit.standardErrors, descentLoss: descent.loss }));
`;

const TYPED_USE = `import { CpuFormulaEngine, compileFormula, optimizerConfig, type ModelTrainResult } from 'nabla/node';
import { GpuFormulaEngine, requestGpu } from 'nabla';
const model = compileFormula({ formula: 'y ~ linear(x)' }, { columns: ['x', 'y'] });
const data = { x: new Float32Array(4), y: new Float32Array(4), n: 4, d: 1 };
const r: Promise<ModelTrainResult> = new CpuFormulaEngine(model, data, new Float64Array(2)).train({ lr: 0.1, maxEpochs: 1, optimizer: optimizerConfig() });
// @ts-expect-error: the engine API is typed, a string is not data
new CpuFormulaEngine(model, 'not data', new Float64Array(2));
export { r, GpuFormulaEngine, requestGpu };
`;

let project: string;
let browser: Browser | undefined;

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'nabla-consumer-'));
  await run('npm', ['pack', '--pack-destination', project, '--silent'], ROOT); // runs `prepare`: the compiled build
  const tarball = (await readdir(project)).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack wrote no tarball');
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`], project);
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('the packed package in a fresh project', () => {
  it('ships compiled JavaScript and declarations, no TypeScript sources', async () => {
    const pkgDir = join(project, 'node_modules', 'nabla');
    const top = await readdir(pkgDir);
    expect(top).not.toContain('src');
    expect(await readdir(join(pkgDir, 'dist', 'types'))).toContain('index.d.ts');
    const bin = await run(process.execPath, [join(pkgDir, 'bin', 'nabla.mjs'), 'train', '--epochs', '200', '--device', 'cpu', '--json'], project);
    const out = JSON.parse(bin.stdout);
    expect(out.device).toBe('cpu');
    expect(Math.abs(out.weights.x - 3)).toBeLessThan(0.05); // the built-in dataset is y = 3x + 2 + noise
  });

  it('Node: imports nabla/node and trains the linear model and an MLP on the CPU path', async () => {
    await writeFile(join(project, 'train.mjs'), NODE_SCRIPT);
    const { stdout } = await run(process.execPath, ['train.mjs'], project);
    const r = JSON.parse(stdout);
    expect(r.w).toBeCloseTo(3, 3);
    expect(r.b).toBeCloseTo(2, 3);
    expect(r.mlpLoss).toBeLessThan(0.5); // J(0) of y in [2, 5] is above 10: the MLP learned
    expect(Math.abs(r.fastLoss - r.mlpLoss)).toBeLessThan(1e-4 * (1 + r.mlpLoss)); // float32 SIMD vs float64: parameters within 2e-5 of their travel (cpu-fast.test.ts) move this loss far less than 1e-4
  });

  it('Node: a formula model fitted by Levenberg-Marquardt and trained by Adam through the package', async () => {
    await writeFile(join(project, 'formula.mjs'), FORMULA_SCRIPT);
    const { stdout } = await run(process.execPath, ['formula.mjs'], project);
    const r = JSON.parse(stdout);
    expect(r.params.b1).toBeCloseTo(240, 0);
    expect(r.params.b2 / 5.5e-4).toBeCloseTo(1, 2);
    expect(r.standardErrors.b1).toBeGreaterThan(0);
    expect(Number.isFinite(r.descentLoss)).toBe(true);
  });

  it('TypeScript: the declarations type-check a consumer (and reject a wrong call)', async () => {
    await writeFile(join(project, 'use.ts'), TYPED_USE);
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
      // skipLibCheck off, as tsc's default: the package's own declarations must check without the consumer's help.
      compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, noEmit: true, skipLibCheck: false, types: [] },
      files: ['use.ts'],
    }));
    await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], project);
  });

  it('a ten-line page bundled with Vite trains the linear model and an MLP on the GPU', async () => {
    await writeFile(join(project, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
    await writeFile(join(project, 'main.js'), PAGE_SCRIPT);
    const outDir = join(project, 'site');
    await build({ root: project, configFile: false, logLevel: 'error', build: { outDir, target: 'es2022' } });
    const server = await serveStatic(outDir);
    try {
      browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_WEBGPU_ARGS, headless: true });
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.waitForFunction(() => document.body?.dataset.result, undefined, { timeout: 240_000 }).catch(() => {
        throw new Error(`the page produced no result: ${errors.join('; ')}`);
      });
      const r = JSON.parse((await page.getAttribute('body', 'data-result'))!);
      expect(errors).toEqual([]);
      expect(r.adapter).toBeTruthy();
      expect(r.w).toBeCloseTo(3, 2);
      expect(r.b).toBeCloseTo(2, 2);
      expect(r.mlpLoss).toBeLessThan(0.5);
    } finally {
      await server.close();
    }
  });
});
