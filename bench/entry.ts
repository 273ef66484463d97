// What every benchmark's entry point shares: print lines to stdout, and run `main` so that a
// usage error exits 2 and any other error exits 1, each with one line on stderr naming the bench.
import { UsageError } from '../cli/args.ts';

export function write(lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function runBench(name: string, main: (argv: string[]) => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${name}: ${(err as Error).message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
