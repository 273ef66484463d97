// `flexfarm tune <op> --shape K=V,… [--target cpu|sim] [--trials N] [--explorer NAME] [--seed N]
//  [--records FILE] [--out DIR] [--remeasure K] [--json]`: tune one operator with an embedded local agent.
import { join } from 'node:path';
import { createBackend } from '../../agent/backends/index.ts';
import { TARGET_KINDS } from '../../contracts/targets.ts';
import { DEFAULT_EXPLORER, explorerNames } from '../../coordinator/explore/index.ts';
import { configKey } from '../../coordinator/keys.ts';
import { describeNoise } from '../../coordinator/noise.ts';
import { DEFAULT_REMEASURE, DEFAULT_REMEASURE_ROUNDS, MAX_REMEASURE } from '../../coordinator/remeasure/plan.ts';
import { defineWorkload } from '../../tensor/ops/registry.ts';
import { oneOf, parseFlags, parseInteger, parseShape, UsageError } from '../args.ts';
import { cacheDir } from '../cache-dir.ts';
import { hostCpuLibrary } from '../library-timing.ts';
import { yardstickParts } from '../yardstick-text.ts';
import { tune } from '../embedded-tune.ts';
import { formatSeconds, progressWriter } from '../progress.ts';

/** The usage text; the targets are the registry's, live (a registered kind is listed). */
const usage = () => `usage: flexfarm tune <op> --shape K=V[,K=V...] [--target ${TARGET_KINDS.join('|')}] [--trials N]
                     [--explorer NAME] [--seed N] [--records FILE] [--out DIR] [--json]
                     [--transfer-from FILE] [--remeasure K] [--threads N] [--isa ISA]
  --trials N       measurements to spend (default 100)
  --explorer NAME  search method: ${explorerNames().join(', ')} (default ${DEFAULT_EXPLORER})
  --records FILE   tuning log (JSONL); an existing log seeds the search and is appended to
                   (default <out>/records.jsonl)
  --out DIR        where the best kernel and the log go (default out/<op>-<target>)
  --json           print one JSON object on stdout; progress goes to stderr
  --transfer-from FILE  seed the search with the best configs of the nearest workloads (same
                   operator, other shapes or devices) in that tuning log, adapted to this shape;
                   they are measured first and count against --trials
  --remeasure K    after the search, measure its best K configs again, each in a fresh process,
                   ${DEFAULT_REMEASURE_ROUNDS} rounds interleaved, and choose the best by the re-measured median
                   (default ${DEFAULT_REMEASURE}; 0: off). Extra to --trials
  --threads N      cpu: OpenMP threads of the kernels (default all cores)
  --isa ISA        cpu: the widest vector ISA the kernels use (avx512f, avx2, avx, sse2; default the
                   CPU's widest): kernels for a fleet of narrower CPUs`;

/** The embedded agent's backend; a flag value its kind refuses (an ISA this CPU lacks) is a usage error. */
function backendFor(target: string, flags: { seed: number; threads?: number; isa?: string }) {
  try {
    return createBackend(target, { cacheDir: cacheDir(), hostCpuLibrary: hostCpuLibrary(cacheDir(), flags) }, flags);
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(`--isa: ${err.message}`);
    throw err;
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    shape: { type: 'string' }, target: { type: 'string' }, trials: { type: 'string' },
    explorer: { type: 'string' }, seed: { type: 'string' }, records: { type: 'string' },
    out: { type: 'string' }, json: { type: 'boolean' }, threads: { type: 'string' }, isa: { type: 'string' }, help: { type: 'boolean' },
    'transfer-from': { type: 'string' }, remeasure: { type: 'string' },
  }, true, { targets: 'tune measures on one --target; to tune on several device classes at once, submit a farm campaign: flexfarm campaign submit --targets cpu,sim' });
  if (values.help) { process.stdout.write(`${usage()}\n`); return 0; }
  if (positionals.length !== 1) throw new UsageError(`expected one operator, got ${positionals.length ? positionals.join(' ') : 'none'}\n${usage()}`);
  const def = defineWorkload(positionals[0], parseShape(values.shape));
  const target = oneOf('--target', values.target, TARGET_KINDS, 'cpu');
  const trials = parseInteger('--trials', values.trials, 100, 1);
  const seed = parseInteger('--seed', values.seed, 0);
  const explorer = oneOf('--explorer', values.explorer, explorerNames(), DEFAULT_EXPLORER);
  const threads = values.threads === undefined ? undefined : parseInteger('--threads', values.threads, 1, 1);
  const remeasure = parseInteger('--remeasure', values.remeasure, DEFAULT_REMEASURE, 0);
  if (remeasure > MAX_REMEASURE) throw new UsageError(`--remeasure: at most ${MAX_REMEASURE}, got ${remeasure}`);
  const outDir = values.out ?? join('out', `${def.op}-${target}`);
  const recordsPath = values.records ?? join(outDir, 'records.jsonl');
  const json = values.json ?? false;
  const backend = backendFor(target, { seed, threads, isa: values.isa });
  await backend.start?.((line) => process.stderr.write(`${line}\n`));

  const progress = progressWriter(process.stderr, { forcePlain: json });
  if (!json) process.stderr.write(`tuning ${def.key} on ${target} (${backend.describe().model}), ${trials} measurements, explorer ${explorer}\n`);
  const outcome = await tune({
    def, backend, trials, explorer, seed, recordsPath, outDir,
    onProgress: (p) => progress.update(p),
    warn: (m) => process.stderr.write(`warning: ${m}\n`),
    transferFrom: values['transfer-from'], remeasure,
  }).finally(() => progress.finish());
  for (const w of outcome.noise.warnings) process.stderr.write(`warning: ${w}\n`);

  const best = outcome.best!;
  if (json) {
    process.stdout.write(`${JSON.stringify({
      workload: outcome.workload, target: outcome.target, trials: outcome.trials, valid: outcome.valid,
      best: {
        config: best.config, seconds: best.seconds, gflops: best.gflops, remeasured: best.remeasured ?? null,
        ...(outcome.estimated ? { estimated: true, estimator: outcome.estimator } : {}),
      },
      searchBest: outcome.searchBest, remeasureSeconds: outcome.remeasureSeconds, wallSeconds: outcome.wallSeconds,
      noise: outcome.noise,
      reference: outcome.reference, speedup: outcome.reference.seconds / best.seconds,
      library: outcome.library, ofLibrary: outcome.ofLibrary, libraryMissing: outcome.libraryMissing ?? null,
      peak: outcome.peak, ofPeak: outcome.ofPeak,
      records: outcome.records, kernel: outcome.kernel,
      ...(outcome.simulated ? { simulated: true } : {}),
    })}\n`);
    return 0;
  }
  const speedup = outcome.reference.seconds / best.seconds;
  const lines = [
    outcome.simulated ? 'SIMULATED (sim target: an analytical landscape, not a device measurement)' : '',
    outcome.estimated ? `ESTIMATED (${outcome.target}: seconds from the ${outcome.estimator} estimator, checked by C simulation, not measured on a device)` : '',
    `measured ${outcome.trials} configs, ${outcome.valid} valid${outcome.stopReason ? ` (stopped: ${outcome.stopReason})` : ''}`,
    outcome.transferred ? `transferred ${outcome.transferred} seed configs from ${values['transfer-from']}` : '',
    `best config: ${JSON.stringify(best.config)}`,
    `best: ${formatSeconds(best.seconds)} median, ${best.gflops.toFixed(1)} GFLOP/s, ${speedup.toFixed(1)}x the unscheduled reference (${formatSeconds(outcome.reference.seconds)}, ${outcome.reference.gflops.toFixed(1)} GFLOP/s)`,
    best.remeasured
      ? `  re-measured: median of ${best.remeasured.runs} fresh runs; the search measured it at ${formatSeconds(best.remeasured.searchSeconds)}` +
        `${outcome.searchBest && configKey(outcome.searchBest.config) !== configKey(best.config) ? ` (the search's own best, ${formatSeconds(outcome.searchBest.seconds)}, did not hold up)` : ''}` +
        `; re-measuring took ${outcome.remeasureSeconds.toFixed(1)} s of ${outcome.wallSeconds.toFixed(1)} s`
      : `  not re-measured${remeasure ? '' : ' (--remeasure 0)'}: the search's own measurement`,
    ...yardstickParts({ ...outcome, speedup: null }).map((p) => `  ${p}`),
    describeNoise(outcome.noise),
    `records: ${outcome.records}`,
    `kernel:  ${outcome.kernel}`,
  ].filter(Boolean);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
