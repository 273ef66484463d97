// The embedded tuning loop: explorer → backend → tuning log → explorer, until the budget is spent
// or the explorer stops. Used by `flexfarm tune` (one process, local agent) and benchmarks, through
// cli/embedded-tune.ts, which passes the local agent's factory in.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, ReferenceTiming } from '../contracts/backend.ts';
import { FlexfarmError } from '../contracts/errors.ts';
import type { LocalAgentFactory } from '../contracts/local-agent.ts';
import { DEFAULT_PROTOCOL, type MeasureResult, type TimingProtocol } from '../contracts/result.ts';
import { targetSpec } from '../contracts/targets.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import type { Config } from '../tensor/templates/template.ts';
import { DEFAULT_EXPLORER } from './explore/index.ts';
import { deviceKey } from './keys.ts';
import { runEmbedded } from './farm/embedded.ts';
import { bestRecord, RecordLog } from './records.ts';
import { defaultSeedCount, transferSeedsFromLog } from './transfer.ts';

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
   *  with explorer "transfer"), then given to the explorer as history. */
  transferFrom?: string;
  /** Seeds taken from `transferFrom` at most (default: a fifth of `trials`, 1 to 8). */
  transferSeeds?: number;
}

export interface TuneProgress {
  measured: number;
  budget: number;
  valid: number;
  best: { seconds: number; gflops: number } | null;
  elapsedMs: number;
  /** The latest result, for displays that show failures as they happen. */
  last?: MeasureResult;
}

export interface TuneOutcome {
  workload: string;
  target: string;
  explorer: string;
  /** Measurements made in this run. */
  trials: number;
  /** Of which valid. */
  valid: number;
  /** Best over this run and the log's earlier lines for the same workload and target. */
  best: { config: Config; seconds: number; gflops: number } | null;
  reference: ReferenceTiming;
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
  const history = log.select(def.key, target);
  const results: MeasureResult[] = [];
  // Transferred seeds are measured before the explorer starts, which then sees them as history.
  const seedQueue = options.transferFrom
    ? transferSeedsFromLog(options.transferFrom, def, backend.template, backend.limits, {
      target, deviceKey: deviceKey({ target, device: backend.describe() }), exclude: history.map((r) => r.config),
      count: Math.min(options.trials, options.transferSeeds ?? defaultSeedCount(options.trials)),
    }, options.warn).map((s) => s.config)
    : [];
  const transferred = seedQueue.length;
  if (options.transferFrom && !transferred) options.warn?.(`${options.transferFrom}: no valid measurement of another ${def.op} shape or device to transfer from; tuning without seeds`);
  // The search runs through the farm's own code (campaign, dispatcher, agent queue, bus, log)
  // over the in-process bus; transferred seeds are measured first, then the explorer starts.
  const started = Date.now();
  const run = await runEmbedded({
    def, backend, createAgent, trials: options.trials, explorer: explorerName, seed: options.seed ?? 0, protocol,
    recordsPath: options.recordsPath, concurrency: options.batchSize ?? 4, history, seeds: seedQueue, seedLabel: 'transfer',
    warn: options.warn,
    onResult: (result) => {
      results.push(result);
      options.onProgress?.(progress(def, results, options.trials, started, result));
    },
  });
  const stopReason = results.length < options.trials ? run.stopReason ?? `explorer '${explorerName}' proposed nothing more` : undefined;

  const best = bestRecord([...history, ...results]);
  if (!best) {
    throw new NoValidScheduleError(
      `no valid schedule for ${def.key} on ${target} after ${results.length} measurements` +
      `${stopReason ? ` (${stopReason})` : ''}; errors: ${summariseErrors(results)}; see ${options.recordsPath}`,
    );
  }
  const reference = await backend.reference(def, protocol);
  if (Number.isFinite(reference.seconds) && reference.seconds > 0) {
    const device = backend.describe();
    log.appendReference({ workload: def.key, target, device, toolchain: device.toolchain, median: reference.seconds, ...(targetSpec(target)?.simulated ? { simulated: true } : {}) });
  }
  mkdirSync(options.outDir, { recursive: true });
  const kernel = join(options.outDir, `kernel${targetSpec(target)?.sourceExtension ?? '.c'}`);
  writeFileSync(kernel, backend.source(def, best.config));
  return {
    workload: def.key, target, explorer: explorerName,
    trials: results.length, valid: results.filter((r) => !r.error).length,
    best: { config: best.config, seconds: best.median!, gflops: def.flops / best.median! / 1e9 },
    reference, records: options.recordsPath, kernel,
    ...(stopReason ? { stopReason } : {}),
    ...(best.simulated ? { simulated: true } : {}),
    ...(best.estimated ? { estimated: true, estimator: best.estimator } : {}),
    ...(transferred ? { transferred } : {}),
  };
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
