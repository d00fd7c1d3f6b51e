// `npm run bench:cpu-web -- [--threads T] [--epochs E] [--runs R] [--out FILE]`: the fast CPU path in headless
// Chromium, on the page's thread vs on Web Workers (src/cpu-fast/web-pool.ts), epochs/s of the spirals MLP.
// Serves bench/cpu-web.html with Vite's dev server and vite.config.ts, whose cross-origin isolation headers
// give the page SharedArrayBuffer. Prints a table and writes bench/results/<date>-cpu-web.json (commit, dirty,
// command, browser, load); the numbers move with the machine's load (say so when citing).
import { createServer } from 'vite';
import { chromium } from 'playwright-core';
import { loadavg } from 'node:os';
import { commandLine, gitState } from './provenance.ts';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeResultFile } from './node-cli.ts';
import { chromiumPath } from '../src/cli/chromium-flags.ts';
import type { CpuWebRow } from './cpu-web-page.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function parse(argv: string[]): { query: URLSearchParams; out: string | null } {
  const q = new URLSearchParams();
  let out: string | null = null;
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    const value = argv[i + 1];
    if (name === 'out' && value) {
      out = value;
      continue;
    }
    if (!['threads', 'epochs', 'runs'].includes(name) || !/^[1-9]\d*$/.test(value ?? '')) {
      throw new Error(`expected --threads, --epochs or --runs with a positive integer, or --out FILE, got "${argv[i]} ${value ?? ''}"`);
    }
    q.set(name, value);
  }
  return { query: q, out };
}

async function main(): Promise<number> {
  let query: URLSearchParams;
  let out: string | null;
  try {
    ({ query, out } = parse(process.argv.slice(2)));
  } catch (e) {
    process.stderr.write(`bench/cpu-web: ${(e as Error).message}\n`);
    return 2;
  }
  const server = await createServer({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'error', server: { port: 0, host: '127.0.0.1' } });
  await server.listen();
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') process.stderr.write(`page: ${m.text()}\n`);
    });
    const loadBefore = loadavg()[0];
    await page.goto(`${server.resolvedUrls!.local[0]}bench/cpu-web.html?${query}`);
    const handle = await page.waitForFunction(() => document.body.dataset.result, undefined, { timeout: 600_000 });
    const r = JSON.parse((await handle.jsonValue()) as string) as { rows: CpuWebRow[]; cores: number; userAgent: string; error?: string };
    process.stdout.write(await page.textContent('#log') ?? '');
    if (r.error) {
      process.stderr.write(`bench/cpu-web: ${r.error}\n`);
      return 1;
    }
    process.stdout.write(`\n${r.userAgent}; navigator.hardwareConcurrency ${r.cores}; load average ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after\n\n`);
    process.stdout.write('| job | page thread, epochs/s | Web Workers, epochs/s | threads | ratio | runs (median) |\n|---|---|---|---|---|---|\n');
    for (const row of r.rows) {
      process.stdout.write(`| ${row.job} | ${row.inline.toFixed(1)} | ${row.workers.toFixed(1)} | ${row.threads} | ${(row.workers / row.inline).toFixed(2)}x | ${row.runs} |\n`);
    }
    const { commit, dirty } = gitState();
    const date = new Date().toISOString();
    const file = out ?? `bench/results/${date.replace(/[:.]/g, '-')}-cpu-web.json`;
    mkdirSync(dirname(file), { recursive: true });
    writeResultFile(file, {
      suite: 'cpu-web', commit, dirty, command: commandLine(process.argv.slice(2), 'bench:cpu-web'), date,
      browser: r.userAgent, cores: r.cores, load: { before: loadBefore, after: loadavg()[0] }, rows: r.rows,
    });
    process.stdout.write(`\nwrote ${file}\n`);
    return 0;
  } finally {
    await browser.close();
    await server.close();
  }
}

process.exitCode = await main();
