// `flexfarm verify --records FILE [--workload KEY|OP] [--target T] [--tolerance 0.05] [--rounds N]
//  [--json]`: measures the recorded best of each workload again on this host, each run in a fresh
// process, and prints recorded vs now; exit status 1 when a ratio lies outside the tolerance.
import os from 'node:os';
import { createBackend } from '../../agent/backends/index.ts';
import { TARGET_KINDS } from '../../contracts/targets.ts';
import { verifyLog, type VerifyRow } from '../../coordinator/verify.ts';
import { oneOf, parseFlags, parseInteger, UsageError } from '../args.ts';
import { cacheDir } from '../cache-dir.ts';
import { formatSeconds } from '../progress.ts';

const usage = () => `usage: flexfarm verify --records FILE [--workload KEY|OP] [--target ${TARGET_KINDS.join('|')}]
                       [--tolerance X] [--rounds N] [--threads N] [--seed N] [--json]
  --records FILE   tuning log (JSONL) whose recorded best per workload is measured again here
  --workload KEY   only this workload key, or every shape of an operator
  --target T       only this target (default: every target in the log)
  --tolerance X    the largest |now / recorded - 1| that passes (default 0.05: ±5 %)
  --rounds N       fresh runs per workload, interleaved across workloads; their median is "now" (default 3)
  --threads N      cpu: OpenMP threads of the runs (all cores); --seed N: sim: the landscape's seed (0)
  --json           print a JSON array on stdout, one object per workload
Exit status 1 when a ratio lies outside the tolerance or a run fails.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    records: { type: 'string' }, workload: { type: 'string' }, target: { type: 'string' }, tolerance: { type: 'string' },
    rounds: { type: 'string' }, threads: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
  });
  if (values.help) { process.stdout.write(`${usage()}\n`); return 0; }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n${usage()}`);
  if (!values.records) throw new UsageError(`--records is required\n${usage()}`);
  const target = values.target === undefined ? undefined : oneOf('--target', values.target, TARGET_KINDS, 'cpu');
  const tolerance = parseTolerance(values.tolerance);
  const rounds = parseInteger('--rounds', values.rounds, 3, 1);
  const threads = values.threads === undefined ? undefined : parseInteger('--threads', values.threads, 1, 1);
  const seed = parseInteger('--seed', values.seed, 0);
  const json = values.json ?? false;

  const loadBefore = os.loadavg()[0];
  const rows = await verifyLog({
    recordsPath: values.records, workload: values.workload, target, tolerance, rounds,
    backendFor: (t) => createBackend(t, { cacheDir: cacheDir() }, { seed, threads }),
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
    onRun: (done, total) => { if (!json) process.stderr.write(`\rmeasuring ${done}/${total}`); },
  });
  if (!json) process.stderr.write('\n');
  const failed = rows.filter((r) => !r.ok);
  if (json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
  } else {
    const host = `load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after, on ${os.availableParallelism()} cores`;
    process.stdout.write(`verified ${rows.length} workload${rows.length === 1 ? '' : 's'} from ${values.records}: median of ${rounds} fresh runs each (${host})\n`);
    for (const r of rows) process.stdout.write(`${describe(r, tolerance)}\n`);
    process.stdout.write(failed.length
      ? `${failed.length} of ${rows.length} outside ±${(100 * tolerance).toFixed(1)} %: ${failed.map((r) => r.workload).join(', ')}\n`
      : `all within ±${(100 * tolerance).toFixed(1)} %\n`);
  }
  for (const r of failed) process.stderr.write(`flexfarm verify: ${r.workload} on ${r.target}: ${r.error ?? `now ${formatSeconds(r.now!)} is ${r.ratio!.toFixed(3)}x the recorded ${formatSeconds(r.recorded)}, outside ±${(100 * tolerance).toFixed(1)} %`}\n`);
  return failed.length ? 1 : 0;
}

function describe(r: VerifyRow, tolerance: number): string {
  const recorded = `recorded ${formatSeconds(r.recorded)}${r.remeasured ? ' (re-measured)' : ''}`;
  const now = r.now === null ? `now: failed (${r.error})` : `now ${formatSeconds(r.now)}, ratio ${r.ratio!.toFixed(3)}`;
  const verdict = r.ok ? 'ok' : r.now === null ? 'FAILED' : `OUTSIDE ±${(100 * tolerance).toFixed(1)} %`;
  const where = r.sameDevice ? '' : `\n    recorded on another device: ${r.recordedOn}`;
  return `  ${r.workload}  ${r.target}\n    ${recorded}; ${now}  ${verdict}${where}`;
}

function parseTolerance(text: string | undefined): number {
  if (text === undefined) return 0.05;
  const value = Number(text);
  if (!/^\d*\.?\d+(e-?\d+)?$/i.test(text) || !Number.isFinite(value) || value <= 0 || value >= 1) {
    throw new UsageError(`--tolerance: expected a number between 0 and 1 (0.05 = ±5 %), got '${text}'`);
  }
  return value;
}
