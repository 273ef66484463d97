// Queries over a tuning log: the best valid measurement per (workload, device), and the best
// config for a workload and target (what TVM calls apply-history-best). Where the log holds
// re-measurements of a workload on a device, its best is chosen by the re-measured figure
// (coordinator/remeasure/figures.ts), and the entry says so.
import { existsSync } from 'node:fs';
import { FlexfarmError } from '../contracts/errors.ts';
import type { DeviceInfo, TargetKind } from '../contracts/result.ts';
import { targetSpec } from '../contracts/targets.ts';
import { defineFromKey, opFamily } from '../tensor/ops/registry.ts';
import type { Config } from '../tensor/templates/template.ts';
import { deviceKey } from './keys.ts';
import { RecordLog, type LibraryRecord, type ReferenceRecord, type RemeasureRecord, type TuningRecord } from './records.ts';
import { chooseBest } from './remeasure/figures.ts';

export class RecordsNotFoundError extends FlexfarmError {
  override name = 'RecordsNotFoundError';
  readonly code = 'RECORDS_NOT_FOUND';
  constructor(readonly path: string) {
    super(`tuning log '${path}' does not exist (tune with --records FILE to write one)`);
  }
}

export interface BestEntry {
  workload: string;
  op: string;
  target: TargetKind;
  device: DeviceInfo;
  /** Identity of the device within its target: target, host name and model. */
  deviceKey: string;
  config: Config;
  /** Median seconds of the best: its re-measured figure when it was re-measured, else its search median. */
  seconds: number;
  /** When re-measured: the median over `runs` fresh runs (= `seconds`) and what the search measured. */
  remeasured: { seconds: number; runs: number; searchSeconds: number } | null;
  /** From the workload's FLOP count; null when the key cannot be parsed by this flexfarm. */
  gflops: number | null;
  /** Measurements of this workload on this device, and how many were valid. */
  measurements: number;
  valid: number;
  simulated: boolean;
  estimated: boolean;
  /** The unscheduled reference kernel on this device, when the log holds its timing. */
  reference: { seconds: number; gflops: number | null } | null;
  speedup: number | null;
  /** The vendor library at this shape on this device, when the log holds its timing (an agent's
   *  yardstick: contracts/yardstick.ts), and ours ÷ it in GFLOP/s. */
  library: { name: string; seconds: number; gflops: number | null } | null;
  ofLibrary: number | null;
  /** The device's FP32 peak (DeviceInfo) with where it comes from, and ours ÷ it. */
  peak: { gflops: number; source: string } | null;
  ofPeak: number | null;
  explorer?: string;
  candidateId: string;
  at: string;
}

export interface BestQuery {
  /** A workload key, or an operator name for every shape of that operator. */
  workload?: string;
  target?: string;
}

export interface LoadOptions {
  warn?: (message: string) => void;
}

/** Open an existing log; a missing file is an error (a typo must not read as "no results"). */
export function openLog(path: string, options: LoadOptions = {}): RecordLog {
  if (!existsSync(path)) throw new RecordsNotFoundError(path);
  return RecordLog.open(path, { warn: options.warn });
}

/** A short human name for a device: "cpu: AMD EPYC … (host)". */
export function deviceLabel(r: { target: string; device: DeviceInfo }): string {
  return targetSpec(r.target)?.simulated ? `${r.target}: ${r.device.model}` : `${r.target}: ${r.device.model} (${r.device.name})`;
}

/** FLOPs of one run of a workload, or null when this flexfarm cannot parse the key. */
const flopsCache = new Map<string, number | null>();
export function workloadFlops(workload: string): number | null {
  if (!flopsCache.has(workload)) {
    let flops: number | null = null;
    try { flops = defineFromKey(workload).flops; } catch { /* a key from another version */ }
    flopsCache.set(workload, flops);
  }
  return flopsCache.get(workload)!;
}

/** A predicate for `--workload`: an exact (canonicalised) key, or an operator name. */
export function workloadMatcher(query: string | undefined): (key: string) => boolean {
  if (query === undefined) return () => true;
  if (query.includes('(')) {
    const key = defineFromKey(query).key; // canonical: defaults filled, parameters in order
    return (k) => k === key;
  }
  opFamily(query); // throws UnknownOpError naming the known operators
  return (k) => k.startsWith(`${query}(`);
}

const isValid = (r: TuningRecord) => !r.error && r.median !== null && Number.isFinite(r.median) && r.median > 0;

/** The best valid measurement per (workload, device), sorted by workload, then fastest first. */
export function bestPerWorkloadDevice(
  records: readonly TuningRecord[],
  references: readonly ReferenceRecord[] = [],
  query: BestQuery = {},
  remeasures: readonly RemeasureRecord[] = [],
  libraries: readonly LibraryRecord[] = [],
): BestEntry[] {
  const matches = workloadMatcher(query.workload);
  const wanted = (r: { target: string; workload: string }) => (query.target === undefined || r.target === query.target) && matches(r.workload);
  const groups = byWorkloadDevice(records.filter(wanted));
  const again = byWorkloadDevice(remeasures.filter(wanted));
  const latestReference = new Map<string, ReferenceRecord>();
  for (const ref of references) latestReference.set(`${ref.workload}#${deviceKey(ref)}`, ref);
  const latestLibrary = new Map<string, LibraryRecord>();
  for (const lib of libraries) if (lib.median > 0) latestLibrary.set(`${lib.workload}#${deviceKey(lib)}`, lib);

  const out: BestEntry[] = [];
  for (const [key, list] of groups) {
    const valid = list.filter(isValid);
    const chosen = chooseBest(valid, again.get(key));
    if (!chosen) continue;
    const { record: best, seconds, remeasured } = chosen;
    const flops = workloadFlops(best.workload);
    const ref = latestReference.get(key);
    const reference = ref && ref.median > 0
      ? { seconds: ref.median, gflops: flops === null ? null : flops / ref.median / 1e9 } : null;
    const lib = latestLibrary.get(key);
    const library = lib ? { name: lib.library, seconds: lib.median, gflops: flops === null ? null : flops / lib.median / 1e9 } : null;
    const peak = best.device.peakGflops ? { gflops: best.device.peakGflops, source: best.device.peakSource ?? 'reported by the agent' } : null;
    out.push({
      workload: best.workload, op: best.workload.split('(')[0], target: best.target, device: best.device,
      deviceKey: deviceKey(best), config: best.config, seconds, remeasured,
      gflops: flops === null ? null : flops / seconds / 1e9,
      measurements: list.length, valid: valid.length,
      simulated: list.some((r) => r.simulated), estimated: list.some((r) => r.estimated),
      reference, speedup: reference ? reference.seconds / seconds : null,
      library, ofLibrary: library ? library.seconds / seconds : null,
      peak, ofPeak: peak && flops !== null ? flops / seconds / 1e9 / peak.gflops : null,
      ...(best.explorer ? { explorer: best.explorer } : {}),
      candidateId: best.candidateId, at: best.at,
    });
  }
  return out.sort((a, b) => a.workload.localeCompare(b.workload) || a.seconds - b.seconds);
}

function byWorkloadDevice<T extends TuningRecord>(records: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const r of records) {
    const key = `${r.workload}#${deviceKey(r)}`;
    const list = groups.get(key);
    if (list) list.push(r); else groups.set(key, [r]);
  }
  return groups;
}

/** The fastest valid measurement of a workload on a target (any device of that target). */
export function bestEntry(log: RecordLog, workloadKey: string, target: string): BestEntry | null {
  const key = defineFromKey(workloadKey).key;
  return bestPerWorkloadDevice(log.all(), log.references(), { workload: key, target }, log.remeasures(), log.libraries())[0] ?? null;
}

/**
 * The best config for a workload and target from a tuning log (by its re-measured figure where it
 * was re-measured), or null when the log holds no valid measurement of it. Throws RecordsNotFoundError for a missing log and ShapeError /
 * UnknownOpError for a key that does not parse.
 */
export function bestConfig(recordsPath: string, workloadKey: string, target: string, options: LoadOptions = {}): Config | null {
  return bestEntry(openLog(recordsPath, options), workloadKey, target)?.config ?? null;
}
