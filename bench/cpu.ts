// `npm run bench:cpu [-- --trials N] [--quick] [--workloads LIST] [--save FILE] [--summarise FILES] …`
//
// Tunes each workload on the local CPU with the default explorer (at most --trials measurements),
// then measures, in the same run, interleaved and with the same timing protocol, our best kernel
// and the library anchors (OpenBLAS, oneDNN), and prints GFLOP/s, ratios ours/anchor, how soon
// the search reached 90 % of its final best, the compiler's share of the time, and the CPU-speed
// issue's targets (cpu-summary.ts). --save appends one line per workload; --summarise pools saved
// runs (a full list takes more than one sitting).
// Environment: FLEXFARM_WORKLOADS (folder of workload lists, default bench/workloads).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { createCpuBackend } from '../agent/backends/cpu/cpu-backend.ts';
import { DEFAULT_PROTOCOL, median, type TimingProtocol } from '../contracts/result.ts';
import { oneOf, parseFlags, parseInteger, UsageError } from '../cli/args.ts';
import { DEFAULT_EXPLORER, explorerNames } from '../coordinator/explore/index.ts';
import { onMeasurePhase } from '../agent/phase-timing.ts';
import { capSimd, hostCpuFlags, hostSimd } from '../agent/backends/cpu/host-simd.ts';
import { loadSummaries, saveSummaries, summaryLines, type WorkloadSummary } from './cpu-summary.ts';
import { progressWriter } from '../cli/progress.ts';
import { tune } from '../cli/embedded-tune.ts';
import { NoValidScheduleError } from '../coordinator/tune.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { anchorsFor, AnchorRunner, LIBRARIES, type AnchorLibrary } from './anchors/anchors.ts';
import { formatBlock, type BenchRow } from './report.ts';
import { DEFAULT_WORKLOADS_DIR, findWorkloads, loadWorkloads, type NamedWorkload } from './workloads.ts';
import { runBench, write } from './entry.ts';

/** The CPU-speed issue's set: every yolo layer, one layer of each other family, four gemms.
 *  `@list` names every workload of bench/workloads/<list>.json. */
const FULL_WORKLOADS = ['@conv2d-yolo', '@cpu-speed', 'gemm-512', 'gemm-1024'];
const QUICK_WORKLOADS = ['gemm-512'];
const DEFAULT_TRIALS = 200, QUICK_TRIALS = 8, DEFAULT_ROUNDS = 3, SAMPLES = 256;

const USAGE = `usage: npm run bench:cpu -- [--trials N] [--quick] [--seed N] [--threads N] [--isa ISA] [--rounds N] [--workloads a,b,...] [--out DIR]
  --trials N         measurements per workload (default ${DEFAULT_TRIALS}; ${QUICK_TRIALS} with --quick)
  --quick            smoke run: ${QUICK_WORKLOADS.join(', ')} only, ${QUICK_TRIALS} trials
  --seed N           seed of the explorer (default 1)
  --explorer NAME    search method (default ${DEFAULT_EXPLORER}, as flexfarm tune)
  --threads N        threads for flexfarm's kernels and every library (default 2)
  --isa ISA          cap ours and the libraries at this vector ISA (avx2 on an AVX-512 host: the
                     AVX2 code paths, side by side; default the CPU's widest)
  --rounds N         measurements of ours and of each anchor, interleaved; rows show their median (default ${DEFAULT_ROUNDS})
  --workloads LIST   workload names, or @list for a whole list file (default ${FULL_WORKLOADS.join(',')})
  --save FILE        append one summary line per workload (JSON) to FILE
  --summarise FILES  print the summary and targets of saved runs (comma-separated files), measure nothing
  --out DIR          keep the tuning log, kernels and anchor binaries here (default: a temp folder,
                     removed); a log already there seeds the search, as with flexfarm tune
environment: FLEXFARM_WORKLOADS  folder of workload lists (default ${DEFAULT_WORKLOADS_DIR})`;

interface BenchOptions {
  workloads: NamedWorkload[];
  trials: number;
  seed: number;
  explorer: string;
  threads: number;
  /** Caps ours and the libraries at this vector ISA (default: the host's widest). */
  isa?: string;
  /** Measurements of ours and of each anchor, interleaved; each row shows the median of the rounds. */
  rounds: number;
  /** Output elements each anchor compares with naive sums. */
  samples: number;
  workDir: string;
  /** The work folder is kept (--out) rather than removed. */
  keep: boolean;
  protocol: TimingProtocol;
  /** Append each workload's summary line here. */
  save?: string;
}

interface WorkloadResult {
  summary: Omit<WorkloadSummary, 'name' | 'op' | 'cpu' | 'isa' | 'loadAverage' | 'at'>;
  name: string;
  /** Median over the rounds, and the best figure the search saw. */
  oursGflops: number | null;
  searchGflops: number | null;
  failed: boolean;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    trials: { type: 'string' }, quick: { type: 'boolean' }, seed: { type: 'string' }, threads: { type: 'string' }, isa: { type: 'string' },
    rounds: { type: 'string' }, workloads: { type: 'string' }, out: { type: 'string' }, explorer: { type: 'string' },
    save: { type: 'string' }, summarise: { type: 'string' }, help: { type: 'boolean' },
  });
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (values.summarise !== undefined) {
    const files = values.summarise.split(',').map((f) => f.trim()).filter(Boolean);
    if (!files.length) throw new UsageError('--summarise: no file named');
    write([`bench:cpu summary of ${files.join(', ')}`, ...summaryLines(loadSummaries(files))]);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n${USAGE}`);
  const quick = values.quick ?? false;
  const names = values.workloads?.split(',').map((n) => n.trim()).filter(Boolean) ?? (quick ? QUICK_WORKLOADS : FULL_WORKLOADS);
  if (!names.length) throw new UsageError('--workloads: no workload named');
  const workloads = findWorkloads(expandLists(names));
  const trials = parseInteger('--trials', values.trials, quick ? QUICK_TRIALS : DEFAULT_TRIALS, 1);
  const seed = parseInteger('--seed', values.seed, 1);
  const explorer = oneOf('--explorer', values.explorer, explorerNames(), DEFAULT_EXPLORER);
  const threads = parseInteger('--threads', values.threads, 2, 1);
  const rounds = parseInteger('--rounds', values.rounds, DEFAULT_ROUNDS, 1);
  // Last, once every argument is known good: nothing to clean up after a usage error.
  const workDir = values.out ? resolve(values.out) : mkdtempSync(join(os.tmpdir(), 'flexfarm-bench-cpu-'));
  const options: BenchOptions = {
    workloads, trials, seed, explorer, threads, ...(values.isa ? { isa: parseIsa(values.isa) } : {}), rounds, samples: SAMPLES, workDir, keep: Boolean(values.out), protocol: DEFAULT_PROTOCOL,
    ...(values.save ? { save: resolve(values.save) } : {}),
  };
  const cleanUp = () => { if (!options.keep) rmSync(workDir, { recursive: true, force: true }); };
  const interrupted = () => { cleanUp(); process.exit(130); };
  process.once('SIGINT', interrupted);
  try {
    return await bench(options);
  } finally {
    process.off('SIGINT', interrupted);
    cleanUp();
  }
}

/** --isa: an ISA this CPU has, at most its widest. */
function parseIsa(value: string): string {
  try {
    return capSimd(hostCpuFlags(), value).simd.isa;
  } catch (err) {
    throw new UsageError(`--isa: ${(err as Error).message}`);
  }
}

async function bench(options: BenchOptions): Promise<number> {
  const { threads, protocol } = options;
  const backend = createCpuBackend({ cacheDir: join(options.workDir, 'cache'), threads, isa: options.isa });
  const anchors = new AnchorRunner({ buildDir: join(options.workDir, 'anchors'), threads, samples: options.samples, baseEnv: process.env, isa: options.isa });
  const device = backend.describe();
  const installed = await libraryLine(anchors);
  const anchorEnv = anchors.env();
  const simd = options.isa ? capSimd(hostCpuFlags(), options.isa).simd : hostSimd();
  const capped = options.isa ? ` (capped with --isa: this CPU's widest is ${hostSimd().isa}; oneDNN capped at ${anchorEnv.ONEDNN_MAX_CPU_ISA})` : '';
  write([
    `flexfarm bench:cpu — ${device.model}; ISA ${simd.isa}${capped}, ${simd.vectorWidth} floats per vector, ${simd.vectorRegisters} vector registers`,
    `${threads} threads for everything (OMP_NUM_THREADS=${anchorEnv.OMP_NUM_THREADS}, OPENBLAS_NUM_THREADS=${anchorEnv.OPENBLAS_NUM_THREADS}, OPENBLAS_CORETYPE=${anchorEnv.OPENBLAS_CORETYPE ?? 'unset: OpenBLAS detects its core'})`,
    `ours: best of ${options.trials} configs (explorer ${options.explorer}, seed ${options.seed}), ${device.toolchain}`,
    `anchors: ${installed}`,
    `timing (all rows): one checked warm-up run, number raised until a repeat lasts ≥ ${protocol.minRepeatMs} ms, ${protocol.repeat} repeats, median;`,
    `  ours and the anchors measured ${options.rounds} times, interleaved: median of the rounds, spread = (max - min) / median`,
    `load average at start: ${loadAverage()} on ${os.availableParallelism()} cores (other load makes figures noisy; ratios are measured side by side)`,
    '',
  ]);

  const results: WorkloadResult[] = [];
  const summaries: WorkloadSummary[] = [];
  for (const workload of options.workloads) {
    const def = defineWorkload(workload.op, workload.shape);
    const result = await benchWorkload(workload, def, backend, anchors, options);
    results.push(result);
    const summary: WorkloadSummary = {
      ...result.summary, name: workload.name, op: def.op, cpu: device.model, isa: options.isa ? `${simd.isa}, capped (the CPU has ${hostSimd().isa})` : simd.isa, loadAverage: loadAverage(), at: new Date().toISOString(),
    };
    summaries.push(summary);
    if (options.save) saveSummaries(options.save, [summary]);
  }
  write([...summaryLines(summaries), `load average at end: ${loadAverage()}`]);
  if (options.save) write([`summary lines appended to ${options.save}`]);
  if (options.keep) write([`records, kernels and anchor binaries: ${options.workDir}`]);
  return results.some((r) => r.failed) ? 1 : 0;
}

/** One implementation measured once per round, interleaved with the others so that a burst of
 *  load from elsewhere falls on all of them rather than on one. */
interface Contender {
  label: string;
  check: string;
  run(): Promise<{ seconds: number; library?: string; detail?: string } | { error: string } | { notInstalled: string }>;
  /** Median seconds of each round. */
  medians: number[];
  stopped?: { error: string } | { notInstalled: string };
  detail?: string;
}

async function benchWorkload(
  workload: NamedWorkload, def: ComputeDef, backend: ReturnType<typeof createCpuBackend>, anchors: AnchorRunner, options: BenchOptions,
): Promise<WorkloadResult> {
  const { protocol } = options;
  const title = `${workload.name}  ${def.key}  (${(def.flops / 1e9).toFixed(3)} GFLOP)`;
  process.stderr.write(`${workload.name}: tuning ${options.trials} configs (explorer ${options.explorer})…\n`);
  const progress = progressWriter(process.stderr);
  const notes: string[] = [];
  const contenders: Contender[] = [];
  let reference: BenchRow | null = null;
  let failedSearch: BenchRow | null = null;
  let searchGflops: number | null = null;
  let bestConfig: WorkloadSummary['config'] = null;

  // The search's trajectory (best after each measurement) and the compiler's time.
  const trajectory: { measured: number; seconds: number; elapsedMs: number }[] = [];
  let compileSeconds = 0;
  const stopListening = onMeasurePhase((e) => { if (e.phase === 'compile') compileSeconds += e.seconds; });
  const tuneStarted = Date.now();
  let measurements = 0, tuneWall = 0;
  try {
    const outcome = await tune({
      def, backend, trials: options.trials, explorer: options.explorer, seed: options.seed, protocol,
      recordsPath: join(options.workDir, 'records.jsonl'), outDir: join(options.workDir, workload.name),
      onProgress: (p) => {
        progress.update(p);
        measurements = p.measured;
        if (p.best) trajectory.push({ measured: p.measured, seconds: p.best.seconds, elapsedMs: p.elapsedMs });
      },
      warn: (m) => process.stderr.write(`warning: ${m}\n`),
    }).finally(() => { progress.finish(); stopListening(); tuneWall = Date.now() - tuneStarted; });
    const best = outcome.best!;
    searchGflops = best.gflops;
    bestConfig = best.config;
    // The search's best is the fastest of many noisy medians: it is measured again, like the anchors.
    let round = 0;
    contenders.push({
      label: `ours: best of ${outcome.trials} ${options.explorer} (${outcome.valid} valid)`, check: 'every element vs reference', medians: [],
      run: async () => {
        const id = `${def.key}#cpu#bench-best-${++round}`;
        const r = await backend.measure({ id, workload: def.key, target: 'cpu', config: best.config }, protocol);
        return r.error || r.median === null ? { error: `${r.error?.code}: ${r.error?.message}` } : { seconds: r.median };
      },
    });
    notes.push(`ours: the search measured its best at ${best.gflops.toFixed(1)} GFLOP/s; config ${JSON.stringify(best.config)}`);
    reference = {
      label: 'unscheduled reference (flexfarm, serial)', seconds: outcome.reference.seconds, gflops: outcome.reference.gflops,
      check: 'is the oracle (measured once)',
    };
  } catch (err) {
    progress.finish();
    if (!(err instanceof NoValidScheduleError)) throw err;
    failedSearch = { label: `ours: best of ${options.trials} ${options.explorer}`, status: `FAILED — no valid schedule: ${err.message}` };
  }
  for (const spec of anchorsFor(def.op)) {
    contenders.push({
      label: spec.label, check: '', medians: [],
      run: async () => {
        const o = await anchors.measure(spec, def, protocol);
        if (o.status === 'not-installed') return { notInstalled: o.message };
        if (o.status === 'failed') return { error: o.message.replace(/\n/g, ' ') };
        return { seconds: o.median, library: o.library, detail: o.detail };
      },
    });
  }

  process.stderr.write(`${workload.name}: measuring ours and the anchors, interleaved, ${options.rounds} rounds…\n`);
  for (let round = 0; round < options.rounds; ++round) {
    for (const c of contenders) {
      if (c.stopped) continue;
      const r = await c.run();
      if ('seconds' in r) {
        c.medians.push(r.seconds);
        if (r.library) c.label = r.library;
        if (r.detail) c.detail = r.detail;
        if (!c.check) c.check = `${options.samples} sampled elements = naive sums`;
      } else {
        c.stopped = r;
      }
    }
  }

  const rows = contenders.map((c) => contenderRow(c, def));
  const oursRow = failedSearch ?? rows.shift()!;
  const oursGflops = oursRow.gflops ?? null;
  const others = [...(reference ? [reference] : []), ...rows];
  for (const row of others) if (oursGflops !== null && row.gflops !== undefined) row.ratio = oursGflops / row.gflops;
  oursRow.ratio = null;
  const table = [oursRow, ...others];
  for (const c of contenders) if (c.detail) notes.push(`${c.label}: ${c.detail}`);
  if (anchorsFor(def.op).some((a) => a.library === 'onednn' && a.program.includes('conv'))) {
    notes.push('ours reads and writes the operator\'s own layouts (weights packed untimed when the config says so); oneDNN runs in the layouts it chose (format any), its input reorders untimed');
  }
  const tuneSeconds = tuneWall / 1000;
  const to90 = reachedNinety(trajectory);
  if (to90) notes.push(`the search reached 90 % of its final best after ${to90.measurements} of ${measurements} measurements, ${to90.seconds.toFixed(0)} s of ${tuneSeconds.toFixed(0)} s; the compiler ran ${compileSeconds.toFixed(0)} s (${(100 * compileSeconds / Math.max(tuneSeconds, 1e-9)).toFixed(0)} % of the search's wall time, compiles overlap)`);
  write([formatBlock(title, table, notes)]);
  const failed = Boolean(failedSearch) || contenders.some((c) => c.stopped && 'error' in c.stopped);
  const libraries = rows.filter((r) => r.gflops !== undefined).sort((a, b) => b.gflops! - a.gflops!);
  const summary = {
    oursGflops, library: libraries.length ? { label: libraries[0].label, gflops: libraries[0].gflops! } : null,
    measurements, to90, tuneSeconds, compileShare: compileSeconds / Math.max(tuneSeconds, 1e-9), config: bestConfig,
  };
  return { summary, name: workload.name, oursGflops, searchGflops, failed };
}

/** The first point of the search's trajectory within 90 % of its final best (in GFLOP/s). */
function reachedNinety(trajectory: { measured: number; seconds: number; elapsedMs: number }[]): { measurements: number; seconds: number } | null {
  if (!trajectory.length) return null;
  const final = trajectory[trajectory.length - 1].seconds;
  const first = trajectory.find((t) => t.seconds <= final / 0.9)!;
  return { measurements: first.measured, seconds: first.elapsedMs / 1000 };
}

/** `@list` names every workload of bench/workloads/<list>.json; other names stand for themselves. */
function expandLists(names: string[]): string[] {
  const all = loadWorkloads();
  return names.flatMap((name) => {
    if (!name.startsWith('@')) return [name];
    const members = all.filter((w) => w.file.replace(/^.*\//, '') === `${name.slice(1)}.json`).map((w) => w.name);
    if (!members.length) throw new UsageError(`--workloads: no workload list ${name.slice(1)}.json`);
    return members;
  });
}

/** A contender's row: the median over rounds, and the spread of the round medians around it. */
function contenderRow(c: Contender, def: ComputeDef): BenchRow {
  if (c.stopped && 'notInstalled' in c.stopped) return { label: c.label, status: `not installed — ${c.stopped.notInstalled}` };
  if (c.stopped && 'error' in c.stopped) return { label: c.label, status: `FAILED — ${c.stopped.error}` };
  const seconds = median(c.medians)!;
  const spread = (Math.max(...c.medians) - Math.min(...c.medians)) / seconds;
  return { label: c.label, seconds, gflops: def.flops / seconds / 1e9, spread, check: c.check };
}

async function libraryLine(anchors: AnchorRunner): Promise<string> {
  const parts: string[] = [];
  for (const library of Object.keys(LIBRARIES) as AnchorLibrary[]) {
    parts.push(`${anchors.library(library).name} ${(await anchors.isInstalled(library)) ? 'installed' : 'not installed'}`);
  }
  return `${parts.join(', ')} (checked by compiling and linking a probe)`;
}

function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}

await runBench('bench:cpu', main);
