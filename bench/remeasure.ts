// `npm run bench:remeasure [-- --trials N] [--remeasure K] [--runs N] [--workloads a,b] [--threads N]
//  [--seed N] [--tolerance X] [--out DIR]`
//
// Does the figure `flexfarm best` reports reproduce? For each workload (default gemm-512 and
// yolo-C9 from bench/workloads/): `tune --trials N` with re-measuring of the top K, then the best
// config `best` reports is run --runs more times, each in a fresh process, and the median of those
// runs is compared with the reported figure (target: within ±3 %). The same ratio without
// re-measuring — the search's own best config and its search figure, run as many times,
// interleaved with the first — is printed beside it, and the share of the run's wall time that
// re-measuring took. The CPU, the load average and the run's noise are printed; a loaded host is
// said, not hidden.
// Environment: FLEXFARM_WORKLOADS (folder of workload lists, default bench/workloads).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { createCpuBackend } from '../agent/backends/cpu/cpu-backend.ts';
import type { CompiledBackend } from '../agent/measure.ts';
import { DEFAULT_PROTOCOL, median } from '../contracts/result.ts';
import { parseFlags, parseInteger, UsageError } from '../cli/args.ts';
import { tune } from '../cli/embedded-tune.ts';
import { formatSeconds, progressWriter } from '../cli/progress.ts';
import { bestEntry, openLog } from '../coordinator/best.ts';
import { configKey } from '../coordinator/keys.ts';
import { describeNoise } from '../coordinator/noise.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import type { Config } from '../tensor/templates/template.ts';
import { runBench, write } from './entry.ts';
import { DEFAULT_WORKLOADS_DIR, findWorkloads, type NamedWorkload } from './workloads.ts';

const DEFAULTS = { trials: 60, remeasure: 5, runs: 5, workloads: ['gemm-512', 'yolo-C9'], tolerance: 0.03, seed: 1 };

const USAGE = `usage: npm run bench:remeasure -- [--trials N] [--remeasure K] [--runs N] [--workloads a,b,...] [--threads N]
                                   [--seed N] [--tolerance X] [--out DIR]
  --trials N       measurements of each search (default ${DEFAULTS.trials})
  --remeasure K    configs re-measured after the search, as tune --remeasure (default ${DEFAULTS.remeasure})
  --runs N         fresh-process runs of the reported best afterwards (default ${DEFAULTS.runs})
  --workloads LIST workload names from bench/workloads/*.json (default ${DEFAULTS.workloads.join(',')})
  --threads N      OpenMP threads of every run (default: all cores)
  --seed N         seed of the search (default ${DEFAULTS.seed})
  --tolerance X    the target: |median of the runs / reported - 1| at most X (default ${DEFAULTS.tolerance})
  --out DIR        keep the tuning logs and kernels here (default: a temp folder, removed)
environment: FLEXFARM_WORKLOADS  folder of workload lists (default ${DEFAULT_WORKLOADS_DIR})`;

interface Options {
  workloads: NamedWorkload[];
  trials: number;
  remeasure: number;
  runs: number;
  threads?: number;
  seed: number;
  tolerance: number;
  workDir: string;
}

interface Outcome {
  name: string;
  /** Median of the fresh runs / the figure `best` reports (re-measured), and the same for the search's own best. */
  ratio: number | null;
  plainRatio: number | null;
  remeasureShare: number;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    trials: { type: 'string' }, remeasure: { type: 'string' }, runs: { type: 'string' }, workloads: { type: 'string' },
    threads: { type: 'string' }, seed: { type: 'string' }, tolerance: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' },
  });
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n${USAGE}`);
  const names = values.workloads?.split(',').map((n) => n.trim()).filter(Boolean) ?? DEFAULTS.workloads;
  if (!names.length) throw new UsageError('--workloads: no workload named');
  const tolerance = values.tolerance === undefined ? DEFAULTS.tolerance : Number(values.tolerance);
  if (!(tolerance > 0 && tolerance < 1)) throw new UsageError(`--tolerance: expected a number between 0 and 1, got '${values.tolerance}'`);
  const options: Omit<Options, 'workDir'> = {
    workloads: findWorkloads(names),
    trials: parseInteger('--trials', values.trials, DEFAULTS.trials, 1),
    remeasure: parseInteger('--remeasure', values.remeasure, DEFAULTS.remeasure, 1),
    runs: parseInteger('--runs', values.runs, DEFAULTS.runs, 1),
    ...(values.threads !== undefined ? { threads: parseInteger('--threads', values.threads, 1, 1) } : {}),
    seed: parseInteger('--seed', values.seed, DEFAULTS.seed),
    tolerance,
  };
  const workDir = values.out ? resolve(values.out) : mkdtempSync(join(os.tmpdir(), 'flexfarm-bench-remeasure-'));
  try {
    return await bench({ ...options, workDir });
  } finally {
    if (!values.out) rmSync(workDir, { recursive: true, force: true });
  }
}

async function bench(o: Options): Promise<number> {
  const backend = createCpuBackend({ cacheDir: join(o.workDir, 'cache'), threads: o.threads });
  const device = backend.describe();
  write([
    `flexfarm bench:remeasure — ${device.model}, ${device.cores} threads, ${os.availableParallelism()} cores; ${device.toolchain.split(' ').slice(0, 4).join(' ')}`,
    `each workload: tune --trials ${o.trials} --remeasure ${o.remeasure} (seed ${o.seed}), then the best that \`flexfarm best\` reports and the`,
    `search's own best run ${o.runs} more times each, interleaved, every run in a fresh process; target: median within ±${pct(o.tolerance)} of the reported figure`,
    `load average at start: ${loadAverage()} on ${os.availableParallelism()} cores${loaded() ? ' — LOADED: other work is running, figures will be noisy' : ''}`,
    '',
  ]);
  const outcomes: Outcome[] = [];
  for (const w of o.workloads) outcomes.push(await benchWorkload(w, defineWorkload(w.op, w.shape), backend, o));
  write([
    'summary',
    ...outcomes.map((x) => `  ${x.name.padEnd(12)} re-measured: ${fmtRatio(x.ratio, o.tolerance)}   without re-measuring: ${fmtRatio(x.plainRatio, o.tolerance)}   re-measuring took ${pct(x.remeasureShare)} of the run's wall time`),
    `load average at the end: ${loadAverage()} on ${os.availableParallelism()} cores${loaded() ? ' — LOADED: the ratios above are from a busy host' : ''}`,
  ]);
  const missed = outcomes.filter((x) => x.ratio === null || Math.abs(x.ratio - 1) > o.tolerance);
  write([missed.length ? `target missed (±${pct(o.tolerance)}): ${missed.map((x) => x.name).join(', ')}` : `target met (±${pct(o.tolerance)}) on every workload`]);
  return 0;
}

async function benchWorkload(w: NamedWorkload, def: ComputeDef, backend: CompiledBackend, o: Options): Promise<Outcome> {
  const recordsPath = join(o.workDir, w.name, 'records.jsonl');
  const progress = progressWriter(process.stderr);
  const outcome = await tune({
    def, backend, trials: o.trials, explorer: undefined, seed: o.seed, recordsPath, outDir: join(o.workDir, w.name),
    remeasure: o.remeasure, onProgress: (p) => progress.update(p), warn: (m) => process.stderr.write(`warning: ${m}\n`),
  }).finally(() => progress.finish());
  // What `flexfarm best` reports for this log, and what the search alone would have reported.
  const reported = bestEntry(openLog(recordsPath), def.key, 'cpu')!;
  const plain = outcome.searchBest!;
  const same = configKey(plain.config) === configKey(reported.config);
  const runs = { reported: [] as number[], plain: [] as number[] };
  for (let r = 0; r < o.runs; r++) {
    runs.reported.push(...(await freshRun(backend, def, reported.config, `${w.name}-best-${r}`)));
    if (!same) runs.plain.push(...(await freshRun(backend, def, plain.config, `${w.name}-search-${r}`)));
  }
  if (same) runs.plain = runs.reported;
  const now = median(runs.reported), nowPlain = median(runs.plain);
  const ratio = now === null ? null : now / reported.seconds;
  const plainRatio = nowPlain === null ? null : nowPlain / plain.seconds;
  const remeasureShare = outcome.wallSeconds > 0 ? outcome.remeasureSeconds / outcome.wallSeconds : 0;
  write([
    `${w.name}: ${def.key}`,
    `  reported by best:        ${formatSeconds(reported.seconds)}${reported.remeasured ? ` (re-measured, median of ${reported.remeasured.runs}; the search measured ${formatSeconds(reported.remeasured.searchSeconds)})` : ' (not re-measured)'}`,
    `  ${o.runs} fresh runs of it:      ${now === null ? 'failed' : `${formatSeconds(now)} median (${runs.reported.map(formatSeconds).join(', ')})`}   ratio ${fmtRatio(ratio, o.tolerance)}`,
    `  search's own best:       ${formatSeconds(plain.seconds)}${same ? ' (the same config)' : ' (another config)'}`,
    `  ${o.runs} fresh runs of it:      ${nowPlain === null ? 'failed' : `${formatSeconds(nowPlain)} median`}   ratio ${fmtRatio(plainRatio, o.tolerance)}`,
    `  wall time ${outcome.wallSeconds.toFixed(1)} s, of which re-measuring ${outcome.remeasureSeconds.toFixed(1)} s (${pct(remeasureShare)}); ${outcome.remeasured} re-measurements`,
    `  ${describeNoise(outcome.noise)}`,
    ...outcome.noise.warnings.map((x) => `  warning: ${x}`),
    '',
  ]);
  return { name: w.name, ratio, plainRatio, remeasureShare };
}

/** One run of a config in a fresh process, as the tuner measures a candidate; [] when it failed. */
async function freshRun(backend: CompiledBackend, def: ComputeDef, config: Config, id: string): Promise<number[]> {
  const r = await backend.measure({ id, workload: def.key, target: 'cpu', config }, DEFAULT_PROTOCOL);
  if (r.error || r.median === null) {
    process.stderr.write(`warning: ${id}: ${r.error?.code ?? 'no time'} ${r.error?.message ?? ''}\n`);
    return [];
  }
  return [r.median];
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const fmtRatio = (r: number | null, tolerance: number) => (r === null ? 'n/a' : `${r.toFixed(3)}${Math.abs(r - 1) <= tolerance ? ' (within)' : ' (outside)'}`);
const loadAverage = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const loaded = () => os.loadavg()[0] > 0.5 * os.availableParallelism();

await runBench('bench:remeasure', main);
