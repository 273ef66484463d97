// `npm run bench:transfer [-- --seeds N] [--budget N] [--source-budget N] [--explorer NAME]
//                          [--target NAME] [--sources A,B] [--no-cpu] [--cpu-budget N]
//                          [--cpu-source-budget N] [--threads N]`
//
// What `tune --transfer-from` saves: the measurements needed to reach 90% of the best known speed
// of a workload, tuned from scratch and tuned seeded from a log of neighbouring shapes (by
// default yolo-C9 after yolo-C7 and yolo-C11). Each seed tunes the sources, then the target
// without and with transfer, through coordinator/tune.ts (the code path of the CLI flag); the
// transferred seeds count against the budget; with `--explorer model` the sources' measurements
// are also the model's prior (coordinator/transfer-prior.ts), and `--transfer-seeds 0` measures
// what that prior alone saves. On `sim` (an analytical landscape, not a device)
// over several seeds; once on the real local CPU with a small budget.
// The best known: on sim, the best of every run here and of 3 long flextensor runs; on the CPU,
// the best of the two target runs (a small budget: a weaker anchor, said so in the output).
// Environment: FLEXFARM_WORKLOADS (folder of workload lists, default bench/workloads).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../agent/backends/index.ts';
import { parseFlags, parseInteger, UsageError } from '../cli/args.ts';
import { tune } from '../cli/embedded-tune.ts';
import { formatSeconds } from '../cli/progress.ts';
import type { Backend } from '../contracts/backend.ts';
import { explorerNames } from '../coordinator/explore/index.ts';
import { RecordLog } from '../coordinator/records.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { findWorkloads } from './workloads.ts';
import { runBench, write } from './entry.ts';

const LONG_RUN = { explorer: 'flextensor', budget: 3000, seeds: 3 };
const TARGET_RATIO = 2;
const REACH = 0.9;

const USAGE = `usage: npm run bench:transfer -- [--seeds N] [--budget N] [--source-budget N] [--explorer NAME]
                                  [--target NAME] [--sources A,B] [--no-cpu] [--cpu-budget N]
                                  [--cpu-source-budget N] [--threads N] [--transfer-seeds N]
  --seeds N              sim seeds (default 7)
  --budget N             measurements per target run on sim, seeds included (default 200)
  --source-budget N      measurements per source workload on sim (default 200)
  --explorer NAME        search method for every run (default flextensor)
  --target NAME          workload tuned (default yolo-C9)
  --sources A,B          neighbouring workloads tuned first (default yolo-C7,yolo-C11)
  --no-cpu               skip the real-CPU run
  --cpu-budget N         measurements per target run on the CPU (default 24)
  --cpu-source-budget N  measurements per source workload on the CPU (default 40)
  --threads N            OpenMP threads of CPU kernels (default 2)
  --transfer-seeds N     transferred configs measured first (default: tune's, a fifth of the budget, 1 to 8;
                         0 with --explorer model: the sources' measurements only as the model's prior)`;

interface Pair { seed: number; without: number[]; with: number[]; seeds: number }

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    seeds: { type: 'string' }, budget: { type: 'string' }, 'source-budget': { type: 'string' }, explorer: { type: 'string' },
    target: { type: 'string' }, sources: { type: 'string' }, 'no-cpu': { type: 'boolean' }, 'cpu-budget': { type: 'string' },
    'cpu-source-budget': { type: 'string' }, threads: { type: 'string' }, 'transfer-seeds': { type: 'string' }, help: { type: 'boolean' },
  });
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n${USAGE}`);
  const explorer = values.explorer ?? 'flextensor';
  if (!explorerNames().includes(explorer)) throw new UsageError(`--explorer: unknown explorer '${explorer}' (known: ${explorerNames().join(', ')})`);
  const targetName = values.target ?? 'yolo-C9';
  const sourceNames = (values.sources ?? 'yolo-C7,yolo-C11').split(',').map((s) => s.trim()).filter(Boolean);
  const [target, ...sources] = findWorkloads([targetName, ...sourceNames]).map((w) => defineWorkload(w.op, w.shape));
  const work = mkdtempSync(join(os.tmpdir(), 'flexfarm-bench-transfer-'));
  try {
    const transferSeeds = values['transfer-seeds'] === undefined ? undefined : parseInteger('--transfer-seeds', values['transfer-seeds'], 0, 0);
    const setup = { target, sources, targetName, sourceNames, explorer, work, transferSeeds };
    const sim = await simSection(setup, parseInteger('--seeds', values.seeds, 7, 1),
      parseInteger('--budget', values.budget, 200, 2), parseInteger('--source-budget', values['source-budget'], 200, 1));
    let cpu: string | null = null;
    if (!values['no-cpu']) {
      cpu = await cpuSection(setup, parseInteger('--cpu-budget', values['cpu-budget'], 24, 2),
        parseInteger('--cpu-source-budget', values['cpu-source-budget'], 40, 1), parseInteger('--threads', values.threads, 2, 1));
    }
    write(['summary:', `  sim: ${sim}`, `  cpu: ${cpu ?? 'skipped (--no-cpu)'}`, '']);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return 0;
}

interface Setup { target: ComputeDef; sources: ComputeDef[]; targetName: string; sourceNames: string[]; explorer: string; work: string; transferSeeds?: number }

async function simSection(s: Setup, seeds: number, budget: number, sourceBudget: number): Promise<string> {
  const started = performance.now();
  const backend = createBackend('sim', { cacheDir: join(s.work, 'cache') }, { seed: 0 });
  const pairs: Pair[] = [];
  for (let seed = 1; seed <= seeds; seed++) pairs.push(await runPair(s, backend, seed, budget, sourceBudget, `sim-${seed}`));
  let bestKnown = Math.min(...pairs.flatMap((p) => [...p.without, ...p.with]));
  for (let i = 0; i < LONG_RUN.seeds; i++) {
    const path = join(s.work, `sim-long-${i}.jsonl`);
    await tune({ def: s.target, backend, trials: LONG_RUN.budget, explorer: LONG_RUN.explorer, seed: 1000 + i, recordsPath: path, outDir: join(s.work, 'out') });
    bestKnown = Math.min(bestKnown, ...curve(path, s.target.key, 'sim'));
  }
  write([
    `sim: ${s.targetName} ${s.target.key} after ${s.sourceNames.join(', ')} — simulated landscape, not a device measurement`,
    `  explorer ${s.explorer}; budget ${budget} per target run (transferred seeds included); sources ${sourceBudget} measurements each; ${transferLine(s)}; ` +
    `best known ${formatSeconds(bestKnown)} (${gflops(s.target, bestKnown)} GFLOP/s simulated): every run here and ${LONG_RUN.seeds} ` +
    `${LONG_RUN.explorer} runs of up to ${LONG_RUN.budget}; ${((performance.now() - started) / 1000).toFixed(1)} s`,
    ...table(pairs, bestKnown, budget),
    '',
  ]);
  return verdict(pairs, bestKnown, budget);
}

async function cpuSection(s: Setup, budget: number, sourceBudget: number, threads: number): Promise<string> {
  const started = performance.now();
  const backend = createBackend('cpu', { cacheDir: join(s.work, 'cache') }, { threads });
  const pair = await runPair(s, backend, 1, budget, sourceBudget, 'cpu', (m) => process.stderr.write(`  cpu: ${m}\n`));
  const bestKnown = Math.min(...pair.without, ...pair.with);
  write([
    `cpu: ${s.targetName} ${s.target.key} after ${s.sourceNames.join(', ')} on ${backend.describe().model}, ${threads} threads`,
    `  explorer ${s.explorer}; budget ${budget} per target run (transferred seeds included); sources ${sourceBudget} measurements each; ${transferLine(s)}; ` +
    `best known ${formatSeconds(bestKnown)} (${gflops(s.target, bestKnown)} GFLOP/s): the best of these two runs only; ` +
    `${((performance.now() - started) / 60000).toFixed(1)} min`,
    ...table([pair], bestKnown, budget),
    '',
  ]);
  await backend.close?.();
  return verdict([pair], bestKnown, budget);
}

/** What "with transfer" gives the search. */
function transferLine(s: Setup): string {
  const seeds = s.transferSeeds === undefined ? 'seeds as tune gives them' : `${s.transferSeeds} seeds`;
  return `with transfer: ${seeds}${s.explorer === 'model' ? ', and the sources\' measurements as the model\'s prior' : ''}`;
}

/** Tune the sources into one log, then the target without and with --transfer-from that log. */
async function runPair(s: Setup, backend: Backend, seed: number, budget: number, sourceBudget: number, tag: string,
  progress?: (m: string) => void): Promise<Pair> {
  const sourceLog = join(s.work, `${tag}-sources.jsonl`);
  const out = join(s.work, 'out');
  for (const [i, def] of s.sources.entries()) {
    progress?.(`tuning source ${s.sourceNames[i]} (${sourceBudget} measurements)`);
    await tune({ def, backend, trials: sourceBudget, explorer: s.explorer, seed, recordsPath: sourceLog, outDir: out });
  }
  const without = join(s.work, `${tag}-without.jsonl`), withTransfer = join(s.work, `${tag}-with.jsonl`);
  progress?.(`tuning ${s.targetName} from scratch (${budget})`);
  await tune({ def: s.target, backend, trials: budget, explorer: s.explorer, seed, recordsPath: without, outDir: out });
  progress?.(`tuning ${s.targetName} with --transfer-from (${budget})`);
  const seeded = await tune({ def: s.target, backend, trials: budget, explorer: s.explorer, seed, recordsPath: withTransfer, outDir: out, transferFrom: sourceLog, transferSeeds: s.transferSeeds });
  return {
    seed, seeds: seeded.transferred ?? 0,
    without: curve(without, s.target.key, backend.kind), with: curve(withTransfer, s.target.key, backend.kind),
  };
}

/** Median seconds per measurement in log order (Infinity for failures). */
function curve(path: string, workload: string, target: string): number[] {
  return RecordLog.open(path).select(workload, target).map((r) => (r.error || r.median === null ? Infinity : r.median));
}

/** Measurements until the best so far reaches `REACH` of the best known speed; Infinity if never. */
function reach(times: number[], bestKnown: number): number {
  let best = Infinity;
  for (let i = 0; i < times.length; i++) {
    best = Math.min(best, times[i]);
    if (best * REACH <= bestKnown) return i + 1;
  }
  return Infinity;
}

function table(pairs: Pair[], bestKnown: number, budget: number): string[] {
  const rel = (times: number[]) => (bestKnown / Math.min(...times)).toFixed(3);
  const n = (x: number) => (Number.isFinite(x) ? String(x) : `>${budget}`);
  const rows = pairs.map((p) => [
    String(p.seed).padStart(4), n(reach(p.without, bestKnown)).padStart(16), rel(p.without).padStart(12),
    n(reach(p.with, bestKnown)).padStart(16), rel(p.with).padStart(12), String(p.seeds).padStart(8),
  ].join(''));
  const med = (f: (p: Pair) => number) => median(pairs.map(f));
  return [
    `  ${'seed'.padStart(4)}${'without: reach'.padStart(16)}${'best/known'.padStart(12)}${'with: reach'.padStart(16)}${'best/known'.padStart(12)}${'seeds'.padStart(8)}`,
    ...rows.map((r) => `  ${r}`),
    `  ${'med'.padStart(4)}${n(med((p) => reach(p.without, bestKnown))).padStart(16)}${(1 / med((p) => Math.min(...p.without) / bestKnown)).toFixed(3).padStart(12)}` +
    `${n(med((p) => reach(p.with, bestKnown))).padStart(16)}${(1 / med((p) => Math.min(...p.with) / bestKnown)).toFixed(3).padStart(12)}`,
    `  reach = measurements until the best so far is within ${Math.round(REACH * 100)}% of the best known speed (>${budget}: not within the budget);`,
    '  best/known = best known time / best found (1 = the best known); seeds = transferred configs measured first',
  ];
}

/** "median N without, M with: K x fewer (target 2x: met)"; a censored median gives a lower bound. */
function verdict(pairs: Pair[], bestKnown: number, budget: number): string {
  const without = median(pairs.map((p) => reach(p.without, bestKnown)));
  const withT = median(pairs.map((p) => reach(p.with, bestKnown)));
  if (!Number.isFinite(withT)) return `with transfer the median run did not reach ${REACH * 100}% within ${budget}: no gain measured`;
  const censored = !Number.isFinite(without);
  const ratio = (censored ? budget + 1 : without) / withT;
  const met = ratio >= TARGET_RATIO ? 'met' : 'MISSED';
  return `median measurements to ${REACH * 100}% of the best known: ${censored ? `>${budget}` : without} without, ${withT} with transfer → ` +
    `${censored ? '≥' : ''}${ratio < 10 ? ratio.toFixed(2) : ratio.toFixed(0)}x fewer (target ${TARGET_RATIO}x: ${met})`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const gflops = (def: ComputeDef, seconds: number) => (def.flops / seconds / 1e9).toFixed(1);

await runBench('bench:transfer', main);
