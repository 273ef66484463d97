// `flexfarm best [--records FILE] [--workload KEY|OP] [--target T] [--json]`: the best valid
// measurement per workload and device in tuning logs, with config, seconds and GFLOP/s (the
// re-measured figure where the log has re-measurements, and it says so).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TARGET_KINDS } from '../../contracts/targets.ts';
import { bestPerWorkloadDevice, deviceLabel, openLog, type BestEntry } from '../../coordinator/best.ts';
import { oneOf, parseFlags, UsageError } from '../args.ts';
import { formatSeconds } from '../progress.ts';
import { yardstickParts } from '../yardstick-text.ts';

/** The targets are the registry's, live. */
const usage = () => `usage: flexfarm best [--records FILE] [--workload KEY|OP] [--target ${TARGET_KINDS.join('|')}] [--json]
  --records FILE   tuning log (JSONL); may be given several times (default: every out/*/records.jsonl)
  --workload KEY   a workload key, e.g. 'gemm(M=512,N=512,K=512,dtype=float32)', or an operator name
  --target T       only this target
  --json           print a JSON array on stdout, one object per (workload, device)
Exit status 1 when no valid measurement matches.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    records: { type: 'string', multiple: true }, workload: { type: 'string' }, target: { type: 'string' },
    json: { type: 'boolean' }, help: { type: 'boolean' },
  });
  if (values.help) { process.stdout.write(`${usage()}\n`); return 0; }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n${usage()}`);
  const target = values.target === undefined ? undefined : oneOf('--target', values.target, TARGET_KINDS, 'cpu');
  const paths = values.records?.length ? values.records : defaultLogs();
  const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);

  const entries: BestEntry[] = [];
  for (const path of paths) {
    const log = openLog(path, { warn });
    entries.push(...bestPerWorkloadDevice(log.all(), log.references(), { workload: values.workload, target }, log.remeasures(), log.libraries()));
  }
  if (!entries.length) {
    const filters = [values.workload && `--workload ${values.workload}`, target && `--target ${target}`].filter(Boolean).join(' ');
    process.stderr.write(`flexfarm best: no valid measurement in ${paths.join(', ')}${filters ? ` matches ${filters}` : ''}\n`);
    return 1;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(entries.map(toJson))}\n`);
    return 0;
  }
  let workload = '';
  for (const e of entries) {
    if (e.workload !== workload) {
      workload = e.workload;
      process.stdout.write(`${workload}\n`);
    }
    const gflops = e.gflops === null ? '? GFLOP/s' : `${e.gflops.toFixed(1)} GFLOP/s`;
    const speedup = e.speedup === null ? '' : `, ${e.speedup.toFixed(1)}x the reference`;
    const against = yardstickParts({ ...e, speedup: null });
    process.stdout.write(`  ${deviceLabel(e)}${e.simulated ? ' [SIMULATED]' : ''}\n`);
    process.stdout.write(`    ${formatSeconds(e.seconds)} median, ${gflops}${speedup} (best of ${e.valid} valid / ${e.measurements} measured)\n`);
    if (against.length) process.stdout.write(`    ${against.join('; ')}\n`);
    process.stdout.write(`    ${e.remeasured
      ? `re-measured: median of ${e.remeasured.runs} fresh runs (the search measured ${formatSeconds(e.remeasured.searchSeconds)})`
      : 'not re-measured: the search\'s own measurement'}\n`);
    process.stdout.write(`    config: ${JSON.stringify(e.config)}\n`);
  }
  return 0;
}

function toJson(e: BestEntry) {
  return {
    workload: e.workload, target: e.target,
    device: { name: e.device.name, model: e.device.model, toolchain: e.device.toolchain },
    config: e.config, seconds: e.seconds, gflops: e.gflops, remeasured: e.remeasured,
    measurements: e.measurements, valid: e.valid,
    reference: e.reference, speedup: e.speedup,
    library: e.library, ofLibrary: e.ofLibrary, peak: e.peak, ofPeak: e.ofPeak,
    ...(e.simulated ? { simulated: true } : {}), ...(e.estimated ? { estimated: true } : {}),
    at: e.at,
  };
}

/** The logs `flexfarm tune` writes by default: out/<op>-<target>/records.jsonl. */
function defaultLogs(): string[] {
  // `out` may be a file (found by fuzzing: a raw ENOTDIR): then there are no default logs.
  const found = existsSync('out') && statSync('out').isDirectory()
    ? readdirSync('out').map((d) => join('out', d, 'records.jsonl')).filter((p) => existsSync(p)).sort()
    : [];
  if (!found.length) throw new UsageError('no --records given and no out/*/records.jsonl here');
  return found;
}
