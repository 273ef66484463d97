// `npm run bench:search [-- --seeds N] [--budgets 50,100,200] [--explorers LIST] [--workloads LIST]
//                         [--cpu] [--cpu-seeds N] [--cpu-budgets LIST] [--cpu-workloads LIST] [--threads N]
//                         [--skip-sim] [--save FILE] [--cpu-first-seed N] [--cost-sizes LIST] [--cost-workload NAME] [--skip-cost]`
//        `npm run bench:search -- --summarise FILE[,FILE...]`  (tables from saved runs, no measuring)
//
// How fast each explorer finds a good schedule. For every explorer, budget and seed it runs a
// search and reports, per budget, the median (over seeds) of the best time found relative to the
// best known for that workload, and the median number of measurements needed to reach 90% of the
// best known's speed. The sim part (the analytical landscape, never a device) runs in well under
// a few minutes; `--cpu` adds the real local CPU (gcc-built kernels, slow: fewer seeds).
// The best known is the best over every run of the table, plus, on sim, long flextensor runs.
// Then the explorer-cost table (bench/explorer-cost.ts): candidates proposed per second of
// coordinator CPU at 100, 1,000 and 10,000 sim measurements, per explorer.
// Environment: FLEXFARM_WORKLOADS (folder of workload lists, default bench/workloads).
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../agent/backends/index.ts';
import { SimBackend } from '../agent/backends/sim/sim-backend.ts';
import { parseFlags, parseInteger, UsageError } from '../cli/args.ts';
import type { Backend } from '../contracts/backend.ts';
import { DEFAULT_PROTOCOL, type MeasureResult, type TimingProtocol } from '../contracts/result.ts';
import { drive, driveAsync, type DriveResult } from '../coordinator/explore/drive.ts';
import { createExplorer, explorerNames } from '../coordinator/explore/index.ts';
import { Space } from '../coordinator/space.ts';
import { templateSpace } from '../coordinator/template-space.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import type { Config } from '../tensor/templates/template.ts';
import { DEFAULT_WORKLOADS_DIR, findWorkloads, type NamedWorkload } from './workloads.ts';
import { runBench, write } from './entry.ts';
import { costTargetLine, DEFAULT_COST_SIZES, explorerCostTable } from './explorer-cost.ts';

const SIM_WORKLOADS = ['gemm-1024', 'yolo-C4'];
const COST_WORKLOAD = 'yolo-C4';
const CPU_WORKLOADS = ['gemm-512', 'yolo-C9'];
const DEFAULT_BUDGETS = [50, 100, 200];
/** Long runs that establish the best known on sim (cheap there). */
const LONG_RUN = { explorer: 'flextensor', budget: 3000, seeds: 3 };
/** Issue 3's targets, checked at this budget. */
const TARGET_BUDGET = 100;
const TARGET_SPEEDUP = 1.2;

const USAGE = `usage: npm run bench:search -- [--seeds N] [--budgets LIST] [--explorers LIST] [--workloads LIST]
                                [--cpu] [--cpu-seeds N] [--cpu-budgets LIST] [--cpu-workloads LIST] [--threads N] [--skip-sim]
  --seeds N            seeds per explorer and budget on sim (default 9; use at least 5)
  --budgets LIST       measurement budgets on sim (default ${DEFAULT_BUDGETS.join(',')})
  --explorers LIST     explorers (default: ${explorerNames().join(',')})
  --workloads LIST     sim workloads (default ${SIM_WORKLOADS.join(',')})
  --cpu                also search on the real local CPU (slow: minutes per explorer)
  --cpu-seeds N        seeds on the CPU (default 2)
  --cpu-budgets LIST   budgets on the CPU (default ${TARGET_BUDGET})
  --cpu-workloads LIST CPU workloads (default ${CPU_WORKLOADS.join(',')})
  --threads N          OpenMP threads for CPU kernels (default 2)
  --skip-sim           only the CPU part (with --cpu)
  --save FILE          append every CPU measurement to FILE (JSONL: workload, explorer, budget, seed,
                       index, config, median, error) to study the runs afterwards
  --cpu-first-seed N   first CPU seed (default 0): add seeds to an earlier saved run
  --cost-sizes LIST    budgets of the explorer-cost table (default ${DEFAULT_COST_SIZES.join(',')})
  --cost-workload NAME sim workload of the explorer-cost table (default ${COST_WORKLOAD})
  --skip-cost          no explorer-cost table
  --summarise FILES    print the CPU tables and targets of runs saved with --save (several files
                       are pooled; the best known is the best over all of them); measures nothing
environment: FLEXFARM_WORKLOADS  folder of workload lists (default ${DEFAULT_WORKLOADS_DIR})`;

interface Run { explorer: string; budget: number; seed: number; drive?: DriveResult; refused?: string; wallMs: number }

interface Row {
  explorer: string;
  budget: number;
  /** Per seed: best seconds / best known (1 = the best known). */
  relative: number[];
  /** Per seed: measurements to reach 90% of the best known's speed (Infinity when not reached). */
  reach: number[];
  refused?: string;
  failed: number;
  /** Mean wall time of the runs that recorded one (NaN: none did, e.g. runs saved without it). */
  msPerRun: number;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    seeds: { type: 'string' }, budgets: { type: 'string' }, explorers: { type: 'string' }, workloads: { type: 'string' },
    cpu: { type: 'boolean' }, 'cpu-seeds': { type: 'string' }, 'cpu-budgets': { type: 'string' },
    'cpu-workloads': { type: 'string' }, threads: { type: 'string' }, 'skip-sim': { type: 'boolean' }, save: { type: 'string' }, 'cpu-first-seed': { type: 'string' },
    summarise: { type: 'string' }, help: { type: 'boolean' },
    'cost-sizes': { type: 'string' }, 'cost-workload': { type: 'string' }, 'skip-cost': { type: 'boolean' },
  });
  if (values.help) { write([USAGE]); return 0; }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n${USAGE}`);
  if (values.summarise) { write(summariseSaved(list('--summarise', values.summarise)!)); return 0; }
  const explorers = list('--explorers', values.explorers) ?? explorerNames();
  for (const e of explorers) if (!explorerNames().includes(e)) throw new UsageError(`--explorers: unknown explorer '${e}' (known: ${explorerNames().join(', ')})`);
  const seeds = parseInteger('--seeds', values.seeds, 9, 1);
  const budgets = integers('--budgets', values.budgets) ?? DEFAULT_BUDGETS;

  const simRows = values['skip-sim'] ? [] : simSection(findWorkloads(list('--workloads', values.workloads) ?? SIM_WORKLOADS), explorers, budgets, seeds);
  const targets = simRows.map((r) => targetLines(`sim ${r.workload}`, r.rows));
  if (!values['skip-cost'] && !values['skip-sim']) {
    const sizes = integers('--cost-sizes', values['cost-sizes']) ?? DEFAULT_COST_SIZES;
    const [w] = findWorkloads([values['cost-workload'] ?? COST_WORKLOAD]);
    const sim = new SimBackend({ seed: 0 });
    const def = defineWorkload(w.op, w.shape);
    let id = 0;
    const measure = (config: Config) => sim.measureNow({ id: String(id++), workload: def.key, target: 'sim', config }, DEFAULT_PROTOCOL);
    // The space as a campaign has it: the template's validity filter asked about every neighbour.
    const cost = explorerCostTable(templateSpace(sim.template, def), measure, explorers, sizes);
    write([`sim ${w.name}: ${def.key} — simulated landscape, the campaign's space (template filter on)`, ...cost.lines, '']);
    const line = costTargetLine(cost.cells, sizes);
    if (line) targets.push([line]);
  }
  if (values.cpu) {
    const cpuRows = await cpuSection(
      findWorkloads(list('--cpu-workloads', values['cpu-workloads']) ?? CPU_WORKLOADS), explorers,
      integers('--cpu-budgets', values['cpu-budgets']) ?? [TARGET_BUDGET],
      parseInteger('--cpu-seeds', values['cpu-seeds'], 2, 1), parseInteger('--threads', values.threads, 2, 1), values.save,
      parseInteger('--cpu-first-seed', values['cpu-first-seed'], 0, 0),
    );
    targets.push(...cpuRows.map((r) => targetLines(`cpu ${r.workload}`, r.rows)));
  } else {
    write(['(real CPU part skipped: add --cpu to search gemm-512 and yolo-C9 on this machine)', '']);
  }
  write([`targets at ${TARGET_BUDGET} measurements (issue 3: real CPU; sim shown for reference):`, ...targets.flat(), '']);
  return 0;
}

function simSection(workloads: NamedWorkload[], explorers: string[], budgets: number[], seeds: number) {
  const sim = new SimBackend({ seed: 0 });
  const out: { workload: string; rows: Row[] }[] = [];
  for (const w of workloads) {
    const started = performance.now();
    const def = defineWorkload(w.op, w.shape);
    const space = new Space(sim.template.knobs(def));
    let id = 0;
    const measure = (config: Config) => sim.measureNow({ id: String(id++), workload: def.key, target: 'sim', config }, DEFAULT_PROTOCOL);
    const runs: Run[] = [];
    for (const explorer of explorers) {
      for (const budget of budgets) {
        for (let seed = 0; seed < seeds; seed++) runs.push(runSync(explorer, space, seed, budget, measure));
      }
    }
    let bestKnown = bestOf(runs);
    for (let seed = 0; seed < LONG_RUN.seeds; seed++) {
      const long = runSync(LONG_RUN.explorer, space, 1000 + seed, LONG_RUN.budget, measure);
      bestKnown = Math.min(bestKnown, bestOf([long]));
    }
    const rows = summarise(runs, bestKnown);
    write([
      `sim ${w.name}: ${def.key} — simulated landscape, not a device measurement`,
      `  space ${space.size.toLocaleString('en-US')} points; best known ${formatMs(bestKnown)} (${gflops(def, bestKnown)} GFLOP/s simulated), ` +
      `best of every run below and ${LONG_RUN.seeds} ${LONG_RUN.explorer} runs of ${LONG_RUN.budget}; ${seeds} seeds; ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
      ...table(rows),
      '',
    ]);
    out.push({ workload: w.name, rows });
  }
  return out;
}

async function cpuSection(
  workloads: NamedWorkload[], explorers: string[], budgets: number[], seeds: number, threads: number, save?: string, firstSeed = 0,
) {
  const cacheDir = mkdtempSync(join(os.tmpdir(), 'flexfarm-bench-search-'));
  const out: { workload: string; rows: Row[] }[] = [];
  let backend: Backend | undefined;
  try {
    backend = createBackend('cpu', { cacheDir }, { threads });
    const protocol: TimingProtocol = DEFAULT_PROTOCOL;
    for (const w of workloads) {
      const started = performance.now();
      const def = defineWorkload(w.op, w.shape);
      const space = new Space(backend.template.knobs(def));
      const reference = await backend.reference(def, protocol);
      let id = 0;
      const b = backend;
      const measure = (config: Config) => b.measure({ id: `bench-search-${id++}`, workload: def.key, target: 'cpu', config }, protocol);
      const runs: Run[] = [];
      for (const explorer of explorers) {
        for (const budget of budgets) {
          for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
            const run = await runAsync(explorer, space, seed, budget, measure);
            runs.push(run);
            if (save) saveRun(save, w.name, run);
            process.stderr.write(`  cpu ${w.name} ${explorer} budget ${budget} seed ${seed}: ` +
              `${run.drive ? `best ${formatMs(bestOf([run]))}` : run.refused} (${(run.wallMs / 1000).toFixed(0)} s)\n`);
          }
        }
      }
      const bestKnown = bestOf(runs);
      const rows = summarise(runs, bestKnown);
      write([
        `cpu ${w.name}: ${def.key} on ${backend.describe().model}, ${threads} threads`,
        `  space ${space.size.toLocaleString('en-US')} points; best known ${formatMs(bestKnown)} (${gflops(def, bestKnown)} GFLOP/s), ` +
        `best of every run below; reference ${formatMs(reference.seconds)}; ${seeds} seeds; ${((performance.now() - started) / 60000).toFixed(1)} min`,
        ...table(rows),
        '',
      ]);
      out.push({ workload: w.name, rows });
    }
  } finally {
    await backend?.close?.();
    rmSync(cacheDir, { recursive: true, force: true });
  }
  return out;
}

function runSync(explorer: string, space: Space, seed: number, budget: number, measure: (c: Config) => MeasureResult): Run {
  const started = performance.now();
  try {
    const e = createExplorer(explorer, { space, seed, budget });
    return { explorer, budget, seed, drive: drive(e, measure, budget), wallMs: performance.now() - started };
  } catch (err) {
    return { explorer, budget, seed, refused: (err as Error).message, wallMs: performance.now() - started };
  }
}

async function runAsync(explorer: string, space: Space, seed: number, budget: number, measure: (c: Config) => Promise<MeasureResult>): Promise<Run> {
  const started = performance.now();
  let e;
  try {
    e = createExplorer(explorer, { space, seed, budget });
  } catch (err) {
    return { explorer, budget, seed, refused: (err as Error).message, wallMs: 0 };
  }
  return { explorer, budget, seed, drive: await driveAsync(e, measure, budget), wallMs: performance.now() - started };
}

/** One JSON line per measurement of the run, appended as soon as the run ends. */
function saveRun(file: string, workload: string, run: Run): void {
  const lines = (run.drive?.results ?? []).map((r, index) => JSON.stringify({
    workload, explorer: run.explorer, budget: run.budget, seed: run.seed, index,
    config: r.config, median: r.median, error: r.error?.code ?? null, wallMs: Math.round(run.wallMs),
  }));
  if (lines.length) appendFileSync(file, `${lines.join('\n')}\n`);
}

interface SavedLine { workload: string; explorer: string; budget: number; seed: number; index: number; median: number | null; wallMs?: number }

/** The CPU tables and targets of runs saved with --save. A run (workload, explorer, budget, seed)
 *  saved twice is taken from the later file. */
function summariseSaved(files: string[]): string[] {
  const runs = new Map<string, SavedLine[]>();
  for (const file of files) {
    const fromFile = new Map<string, SavedLine[]>();
    readFileSync(file, 'utf8').split('\n').forEach((text, n) => {
      if (!text.trim()) return;
      let line: SavedLine;
      try { line = JSON.parse(text); } catch { throw new UsageError(`--summarise: ${file} line ${n + 1} is not JSON`); }
      if (typeof line.workload !== 'string' || typeof line.explorer !== 'string' || !Number.isInteger(line.budget) || !Number.isInteger(line.seed) || !Number.isInteger(line.index)) {
        throw new UsageError(`--summarise: ${file} line ${n + 1} is not a saved measurement (workload, explorer, budget, seed, index)`);
      }
      const key = [line.workload, line.explorer, line.budget, line.seed].join('\t');
      fromFile.set(key, [...(fromFile.get(key) ?? []), line]);
    });
    for (const [key, lines] of fromFile) runs.set(key, lines);
  }
  const out: string[] = [];
  const targets: string[] = [];
  for (const workload of [...new Set([...runs.values()].map((l) => l[0].workload))]) {
    const asRuns: Run[] = [...runs.values()].filter((l) => l[0].workload === workload).map((lines) => {
      lines.sort((a, b) => a.index - b.index);
      let best = Infinity;
      const bestAfter = lines.map((l) => (best = l.median !== null && l.median < best ? l.median : best));
      const { explorer, budget, seed, wallMs } = lines[0];
      return { explorer, budget, seed, drive: { results: [], bestAfter, failed: !Number.isFinite(best) }, wallMs: wallMs ?? NaN };
    });
    const bestKnown = bestOf(asRuns);
    const seeds = [...new Set(asRuns.map((r) => r.seed))].sort((a, b) => a - b);
    out.push(`cpu ${workload} (saved runs): best known ${formatMs(bestKnown)}, best of every run below; seeds ${seeds.join(',')} (${seeds.length})`);
    const rows = summarise(asRuns, bestKnown);
    out.push(...table(rows), '');
    targets.push(...targetLines(`cpu ${workload}`, rows));
  }
  return [...out, `targets at ${TARGET_BUDGET} measurements (issue 3):`, ...targets, ''];
}

function bestOf(runs: Run[]): number {
  let best = Infinity;
  for (const r of runs) if (r.drive?.bestAfter.length) best = Math.min(best, r.drive.bestAfter.at(-1)!);
  return best;
}

function summarise(runs: Run[], bestKnown: number): Row[] {
  const rows: Row[] = [];
  const timed = new Map<Row, number>();
  for (const r of runs) {
    let row = rows.find((x) => x.explorer === r.explorer && x.budget === r.budget);
    if (!row) {
      row = { explorer: r.explorer, budget: r.budget, relative: [], reach: [], failed: 0, msPerRun: 0 };
      rows.push(row);
    }
    if (Number.isFinite(r.wallMs)) { row.msPerRun += r.wallMs; timed.set(row, (timed.get(row) ?? 0) + 1); }
    if (r.refused || !r.drive) { row.refused = r.refused; continue; }
    const final = r.drive.bestAfter.at(-1) ?? Infinity;
    row.relative.push(final / bestKnown);
    const k = r.drive.bestAfter.findIndex((b) => bestKnown / b >= 0.9);
    row.reach.push(k < 0 ? Infinity : k + 1);
    if (!Number.isFinite(final)) row.failed++;
  }
  for (const row of rows) row.msPerRun = timed.get(row) ? row.msPerRun / timed.get(row)! : NaN;
  return rows;
}

function table(rows: Row[]): string[] {
  const head = `  ${'explorer'.padEnd(11)}${'budget'.padStart(6)}  ${'best/known median (min–max)'.padEnd(30)}${'reach 90% median (seeds reaching)'.padEnd(36)}ms/run`;
  const lines = [head];
  const refused = new Set<string>();
  for (const row of rows) {
    if (row.refused) {
      if (!refused.has(row.explorer)) lines.push(`  ${row.explorer.padEnd(11)}  refused: ${row.refused}`);
      refused.add(row.explorer);
      continue;
    }
    const rel = `${fmtRatio(median(row.relative))} (${fmtRatio(Math.min(...row.relative))}–${fmtRatio(Math.max(...row.relative))})`;
    const reached = row.reach.filter(Number.isFinite).length;
    const m = median(row.reach);
    const reach = `${Number.isFinite(m) ? String(m) : `>${row.budget}`} (${reached}/${row.reach.length})`;
    lines.push(`  ${row.explorer.padEnd(11)}${String(row.budget).padStart(6)}  ${rel.padEnd(30)}${reach.padEnd(36)}${Number.isFinite(row.msPerRun) ? row.msPerRun.toFixed(0) : '–'}`);
  }
  return lines;
}

/** Issue 3's targets at TARGET_BUDGET: flextensor and q vs random, model vs flextensor. */
function targetLines(label: string, rows: Row[]): string[] {
  const at = (e: string) => rows.find((r) => r.explorer === e && r.budget === TARGET_BUDGET && !r.refused);
  const random = at('random'), lines: string[] = [];
  for (const e of ['flextensor', 'q']) {
    const row = at(e);
    if (!row || !random) continue;
    const speedup = median(random.relative) / median(row.relative);
    lines.push(`  ${label}: ${e} finds a schedule ${speedup.toFixed(2)}x faster than random (median best; target ≥ ${TARGET_SPEEDUP}) → ${speedup >= TARGET_SPEEDUP ? 'met' : 'missed'}`);
  }
  const model = at('model'), ft = at('flextensor');
  if (model && ft) {
    const a = median(model.reach), b = median(ft.reach);
    const show = (x: number) => (Number.isFinite(x) ? String(x) : `>${TARGET_BUDGET}`);
    const met = a < b || (Number.isFinite(a) && !Number.isFinite(b));
    lines.push(`  ${label}: model reaches 90% of the best known in ${show(a)} measurements, flextensor in ${show(b)} → ${met ? 'met' : 'missed'}`);
  }
  return lines;
}

function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  if (s.length % 2) return s[mid];
  return Number.isFinite(s[mid]) ? (s[mid - 1] + s[mid]) / 2 : s[mid];
}

const fmtRatio = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : 'none valid');
const formatMs = (s: number) => (Number.isFinite(s) ? `${(s * 1e3).toFixed(3)} ms` : 'none');
const gflops = (def: ComputeDef, s: number) => (def.flops / s / 1e9).toFixed(1);

function list(flag: string, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((x) => x.trim()).filter(Boolean);
  if (!items.length) throw new UsageError(`${flag}: empty list`);
  return items;
}

function integers(flag: string, text: string | undefined): number[] | undefined {
  return list(flag, text)?.map((x) => parseInteger(flag, x, 0, 1));
}

await runBench('bench:search', main);
