// The CLI's main() run in this process with its stdout and stderr collected, as the CLI tests check them.
import { main } from '../src/cli/main.ts';

export async function runMain(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
