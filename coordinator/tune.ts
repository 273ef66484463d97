// The embedded tuning loop: explorer → backend → tuning log → explorer, until the budget is spent
// or the explorer stops. Used by `flexfarm tune` (one process, local agent) and benchmarks, through
// cli/embedded-tune.ts, which passes the local agent's factory in.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Backend, ReferenceTiming } from '../contracts/backend.ts';
import { FlexfarmError } from '../contracts/errors.ts';
import type { LocalAgentFactory } from '../contracts/local-agent.ts';
import { DEFAULT_PROTOCOL, type MeasureResult, type TimingProtocol } from '../contracts/result.ts';
import { targetSpec } from '../contracts/targets.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import type { Config } from '../tensor/templates/template.ts';
import { bestPerWorkloadDevice, openLog, type BestEntry } from './best.ts';
import { DEFAULT_EXPLORER } from './explore/index.ts';
import { deviceKey } from './keys.ts';
import { runEmbedded } from './farm/embedded.ts';
import { summariseNoise, type NoiseSummary } from './noise.ts';
import { bestRecord, RecordLog } from './records.ts';
import { DEFAULT_REMEASURE, DEFAULT_REMEASURE_ROUNDS } from './remeasure/plan.ts';
import { defaultSeedCount, transferSeeds } from './transfer.ts';
import { transferPrior } from './transfer-prior.ts';

export interface TuneOptions {
  def: ComputeDef;
  backend: Backend;
  /** Measurements to spend in this run (results already in the log do not count). */
  trials: number;
  explorer?: string;
  seed?: number;
  /** Tuning log; existing lines for this workload and target seed the search (resume). */
  recordsPath: string;
  /** Where the best kernel's source is written. */
  outDir: string;
  protocol?: TimingProtocol;
  /** Candidates handed to the backend at once (compiles overlap, timing stays exclusive). */
  batchSize?: number;
  onProgress?: (progress: TuneProgress) => void;
  /** Log lines that cannot be read (torn last line). */
  warn?: (message: string) => void;
  /** A tuning log whose nearest workloads seed this search (coordinator/transfer.ts): their best
   *  configs, adapted to this shape, are measured first (they count against `trials`, logged
   *  with explorer "transfer"), then given to the explorer as history; and the `model` explorer
   *  trains on those workloads' measurements too (coordinator/transfer-prior.ts). */
  transferFrom?: string;
  /** Seeds taken from `transferFrom` at most (default: a fifth of `trials`, 1 to 8). */
  transferSeeds?: number;
  /** After the search, the top this many configs are measured again in fresh processes, and the
   *  best is chosen by the re-measured median (default 5; 0: off). */
  remeasure?: number;
  /** Rounds of re-measuring: each re-measured config is measured once per round (default 3). */
  remeasureRounds?: number;
}

export interface TuneProgress {
  measured: number;
  budget: number;
  valid: number;
  best: { seconds: number; gflops: number } | null;
  elapsedMs: number;
  /** The latest result, for displays that show failures as they happen. */
  last?: MeasureResult;
  /** While re-measuring the top configs after the search: re-measurements done of total. */
  remeasure?: { done: number; total: number };
}

export interface TuneOutcome {
  workload: string;
  target: string;
  explorer: string;
  /** Measurements made in this run. */
  trials: number;
  /** Of which valid. */
  valid: number;
  /** Best over this run and the log's earlier lines for the same workload and target, as
   *  `flexfarm best` reports it: by the re-measured figure when there is one (`remeasured`). */
  best: {
    config: Config; seconds: number; gflops: number;
    remeasured?: { seconds: number; runs: number; searchSeconds: number };
  } | null;
  /** The search's own best (its fastest first measurement), before any re-measuring. */
  searchBest: { config: Config; seconds: number } | null;
  /** Re-measurements made after the search, and the wall time they took. */
  remeasured: number;
  remeasureSeconds: number;
  /** Wall time of the search and re-measuring. */
  wallSeconds: number;
  /** How noisy the host was (spreads of the repeats, load average). */
  noise: NoiseSummary;
  reference: ReferenceTiming;
  /** The best against the vendor library (ours ÷ library in GFLOP/s) and the device's FP32
   *  peak, where the agent timed one and the device knows its peak (coordinator/best.ts). */
  library: BestEntry['library'];
  ofLibrary: number | null;
  libraryMissing?: string;
  peak: BestEntry['peak'];
  ofPeak: number | null;
  records: string;
  kernel: string | null;
  /** Why the search ended before the budget, if it did. */
  stopReason?: string;
  simulated?: boolean;
  /** FPGA: the best figure is an estimate, and which estimator made it (from the best record). */
  estimated?: boolean;
  estimator?: string;
  /** Configs transferred from `transferFrom` and measured first. */
  transferred?: number;
}

export class NoValidScheduleError extends FlexfarmError {
  override name = 'NoValidScheduleError';
  readonly code = 'NO_VALID_SCHEDULE';
}

/** The tuning loop, with the local agent `createAgent` makes around `options.backend`. */
export async function tuneEmbedded(options: TuneOptions, createAgent: LocalAgentFactory): Promise<TuneOutcome> {
  const { def, backend } = options;
  const target = backend.kind;
  const explorerName = options.explorer ?? DEFAULT_EXPLORER;
  const protocol = options.protocol ?? DEFAULT_PROTOCOL;
  const log = RecordLog.open(options.recordsPath, { warn: options.warn });
  log.assertAppendable(); // before anything is measured: a log that cannot take lines would stall the run
  const history = log.select(def.key, target);
  const results: MeasureResult[] = [];
  // Transferred seeds are measured before the explorer starts, which then sees them as history;
  // a learned explorer also trains on the sources' measurements (transfer-prior.ts).
  const sources = options.transferFrom ? openLog(options.transferFrom, { warn: options.warn }).all() : [];
  const here = { target, deviceKey: deviceKey({ target, device: backend.describe() }) };
  const seedQueue = sources.length
    ? transferSeeds(sources, def, backend.template, backend.limits, {
      ...here, exclude: history.map((r) => r.config), count: Math.min(options.trials, options.transferSeeds ?? defaultSeedCount(options.trials)),
    }).map((s) => s.config)
    : [];
  const prior = sources.length ? transferPrior(sources, def, backend.template, backend.limits, here) : [];
  const transferred = seedQueue.length;
  if (options.transferFrom && !transferred && !prior.length) options.warn?.(`${options.transferFrom}: no valid measurement of another ${def.op} shape or device to transfer from; tuning without seeds`);
  // The search runs through the farm's own code (campaign, dispatcher, agent queue, bus, log)
  // over the in-process bus; transferred seeds are measured first, then the explorer starts.
  const loadBefore = os.loadavg()[0];
  const started = Date.now();
  let searchEnded = 0;
  const remeasure = options.remeasure ?? DEFAULT_REMEASURE;
  const rounds = options.remeasureRounds ?? DEFAULT_REMEASURE_ROUNDS;
  const remeasured: MeasureResult[] = [];
  const run = await runEmbedded({
    def, backend, createAgent, trials: options.trials, explorer: explorerName, seed: options.seed ?? 0, protocol,
    recordsPath: options.recordsPath, concurrency: options.batchSize ?? 4, history, seeds: seedQueue, seedLabel: 'transfer', prior,
    remeasure, remeasureRounds: rounds, warn: options.warn,
    onResult: (result, { remeasure: again, remeasured: plan }) => {
      if (again) remeasured.push(result);
      else {
        results.push(result);
        searchEnded = Date.now();
      }
      const p = progress(def, results, options.trials, started, result);
      options.onProgress?.(again && plan ? { ...p, remeasure: plan } : p);
    },
  });
  const ended = Date.now();
  const stopReason = results.length < options.trials ? run.stopReason ?? `explorer '${explorerName}' proposed nothing more` : undefined;

  const searchBest = bestRecord([...history, ...results]);
  if (!searchBest) {
    throw new NoValidScheduleError(
      `no valid schedule for ${def.key} on ${target} after ${results.length} measurements` +
      `${stopReason ? ` (${stopReason})` : ''}; errors: ${summariseErrors(results)}; see ${options.recordsPath}`,
    );
  }
  const reference = await backend.reference(def, protocol);
  // The agent's yardstick normally put the reference line in the log during the run already.
  const logged = RecordLog.open(options.recordsPath, { warn: () => {} }).references()
    .some((r) => r.workload === def.key && deviceKey(r) === deviceKey({ target, device: backend.describe() }) && r.at >= new Date(started).toISOString());
  if (!logged && Number.isFinite(reference.seconds) && reference.seconds > 0) {
    const device = backend.describe();
    log.appendReference({ workload: def.key, target, device, toolchain: device.toolchain, median: reference.seconds, ...(targetSpec(target)?.simulated ? { simulated: true } : {}) });
  }
  const best = loggedBest(options.recordsPath, def.key, target, deviceKey({ target, device: backend.describe() }));
  mkdirSync(options.outDir, { recursive: true });
  const kernel = join(options.outDir, `kernel${targetSpec(target)?.sourceExtension ?? '.c'}`);
  writeFileSync(kernel, backend.source(def, best.config));
  const record = [...history, ...results].find((r) => r.candidateId === best.candidateId) ?? searchBest;
  return {
    workload: def.key, target, explorer: explorerName,
    trials: results.length, valid: results.filter((r) => !r.error).length,
    best: { config: best.config, seconds: best.seconds, gflops: def.flops / best.seconds / 1e9, ...(best.remeasured ? { remeasured: best.remeasured } : {}) },
    searchBest: { config: searchBest.config, seconds: searchBest.median! },
    remeasured: remeasured.length, remeasureSeconds: remeasured.length ? (ended - searchEnded) / 1000 : 0, wallSeconds: (ended - started) / 1000,
    noise: summariseNoise([...results, ...remeasured], { loadBefore, cores: os.availableParallelism() }),
    reference, library: best.library, ofLibrary: best.ofLibrary, peak: best.peak, ofPeak: best.ofPeak,
    ...(!best.library && run.libraryMissing ? { libraryMissing: run.libraryMissing } : {}),
    records: options.recordsPath, kernel,
    ...(stopReason ? { stopReason } : {}),
    ...(record.simulated ? { simulated: true } : {}),
    ...(record.estimated ? { estimated: true, estimator: record.estimator } : {}),
    ...(transferred ? { transferred } : {}),
  };
}

/** The best as `flexfarm best` reads it from the log: this device's entry, else the fastest device's. */
function loggedBest(path: string, workload: string, target: string, device: string): BestEntry {
  const log = RecordLog.open(path, { warn: () => {} }); // its warnings were given when the run opened it
  const entries = bestPerWorkloadDevice(log.all(), log.references(), { workload, target }, log.remeasures(), log.libraries());
  return entries.find((e) => e.deviceKey === device) ?? entries[0];
}

function progress(def: ComputeDef, results: MeasureResult[], budget: number, started: number, last: MeasureResult): TuneProgress {
  const best = bestRecord(results);
  return {
    measured: results.length, budget, valid: results.filter((r) => !r.error).length,
    best: best ? { seconds: best.median!, gflops: def.flops / best.median! / 1e9 } : null,
    elapsedMs: Date.now() - started, last,
  };
}

function summariseErrors(results: MeasureResult[]): string {
  const counts = new Map<string, number>();
  for (const r of results) if (r.error) counts.set(r.error.code, (counts.get(r.error.code) ?? 0) + 1);
  const first = results.find((r) => r.error)?.error?.message;
  return [...counts].map(([code, n]) => `${code} x${n}`).join(', ') + (first ? `; first: ${first}` : '');
}
