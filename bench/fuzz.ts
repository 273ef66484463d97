// `npm run bench:fuzz [-- --runs N] [--surface NAME] [--json]`
//
// Issue 15, item 6: every fuzzing surface (test/fuzz/surfaces/) with N generated inputs each
// (default 10,000): both gRPC services over a real socket, every NATS subject the farm reads on a
// real nats-server, the log reader, shape strings, config JSON and CLI flags. Prints the count and
// the time per surface; exits 1 with the failing input when a property fails.
import os from 'node:os';
import { parseFlags, parseInteger } from '../cli/args.ts';
import { SURFACES } from '../test/fuzz/surfaces/index.ts';
import type { FuzzOutcome } from '../test/fuzz/fuzz-run.ts';
import { runBench } from './entry.ts';

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { runs: { type: 'string' }, surface: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } }, false);
  const runs = parseInteger('--runs', values.runs, 10_000, 1);
  const seed = values.seed === undefined ? undefined : parseInteger('--seed', values.seed, 0);
  const chosen = SURFACES.filter((s) => !values.surface || s.name.includes(values.surface));
  const out = values.json ? process.stderr : process.stdout;
  const outcomes: FuzzOutcome[] = [];
  const cpuBefore = process.cpuUsage();
  for (const surface of chosen) {
    const started = process.cpuUsage();
    const outcome = await surface.run(runs, { seed });
    const cpu = process.cpuUsage(started);
    outcomes.push(outcome);
    out.write(`${surface.name.padEnd(16)} ${String(outcome.runs).padStart(7)} inputs  ${outcome.seconds.toFixed(1).padStart(6)} s  ` +
      `CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (this process)  no failure\n`);
  }
  const total = process.cpuUsage(cpuBefore);
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  if (values.json) process.stdout.write(`${JSON.stringify({ runs, outcomes, loadAverage: os.loadavg() })}\n`);
  else process.stdout.write(`${outcomes.reduce((n, o) => n + o.runs, 0)} inputs over ${outcomes.length} surfaces, every property held; CPU ${((total.user + total.system) / 1e6).toFixed(0)} s; load average ${load} on ${os.availableParallelism()} cores\n`);
  return 0;
}

await runBench('bench:fuzz', main);
