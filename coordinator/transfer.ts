// Transfer between shapes and devices: seed a new search with the best configs of the nearest
// workloads in a tuning log, adapted to the new shape.
//
// Nearest: same operator; distance = sum over shape parameters of |log2(1+a) - log2(1+b)|, plus
// 1 when the record is from another target and 0.5 when from another device of the same target.
// The same workload on the same target is not a source (that is resume, from --records).
// Adapting a config to the new shape, knob by knob:
//   split.<axis>: the entity of the new sub-space whose inner factors are nearest in log2, inner
//     levels weighted more (level p weighs p): the register tile is kept first, then the cache
//     tile; the outer factor is recomputed by the sub-space (f0 = ceil(E / inner product)).
//     Inner factors that fit the new extent are therefore kept exactly.
//   choice knobs (reorder, unroll): kept when the value exists in the new space, else the first.
// Seeds are taken round-robin over the nearest sources (each source's best, then second best…),
// deduplicated, and checked against the device limits.
import type { ComputeDef } from '../tensor/compute.ts';
import { InstantiationError } from '../tensor/errors.ts';
import { defineFromKey } from '../tensor/ops/registry.ts';
import type { Config, DeviceLimits, Knob, Template } from '../tensor/templates/template.ts';
import { openLog } from './best.ts';
import { configKey, deviceKey } from './keys.ts';
import type { TuningRecord } from './records.ts';

export interface TransferSource {
  workload: string;
  target: string;
  deviceKey: string;
  distance: number;
  /** Valid records of this source, fastest first, one per distinct config. */
  ranked: TuningRecord[];
}

export interface TransferSeed {
  config: Config;
  /** The record it was adapted from. */
  from: { workload: string; target: string; config: Config; seconds: number };
  distance: number;
}

export interface TransferOptions {
  /** Target being tuned (sources on other targets count as farther away). */
  target: string;
  /** Device being tuned, when known (sources on other devices of the target count as farther). */
  deviceKey?: string;
  /** Seeds to return at most. */
  count: number;
  /** Nearest sources to draw from (default 3). */
  sources?: number;
  /** Configs not to return (already measured). */
  exclude?: readonly Config[];
}

/** Distance between two workloads of the same operator; Infinity across operators. */
export function workloadDistance(a: ComputeDef, b: ComputeDef): number {
  if (a.op !== b.op) return Infinity;
  let d = 0;
  for (const name of Object.keys(a.params)) d += Math.abs(Math.log2(1 + a.params[name]) - Math.log2(1 + (b.params[name] ?? 0)));
  return d;
}

/** The nearest sources for `def` among valid records, nearest first. */
export function transferSources(records: readonly TuningRecord[], def: ComputeDef, options: Omit<TransferOptions, 'count'>): TransferSource[] {
  const groups = new Map<string, TransferSource>();
  const defs = new Map<string, ComputeDef | null>();
  for (const r of records) {
    if (r.error || r.median === null || !(r.median > 0)) continue;
    if (r.workload === def.key && r.target === options.target) continue;
    if (!defs.has(r.workload)) {
      let source: ComputeDef | null = null;
      try { source = defineFromKey(r.workload); } catch { /* unparseable key: not a source */ }
      defs.set(r.workload, source);
    }
    const source = defs.get(r.workload);
    if (!source || source.op !== def.op) continue;
    const key = `${r.workload}#${deviceKey(r)}`;
    let group = groups.get(key);
    if (!group) {
      const penalty = r.target !== options.target ? 1 : options.deviceKey && deviceKey(r) !== options.deviceKey ? 0.5 : 0;
      group = { workload: r.workload, target: r.target, deviceKey: deviceKey(r), distance: workloadDistance(def, source) + penalty, ranked: [] };
      groups.set(key, group);
    }
    group.ranked.push(r);
  }
  for (const g of groups.values()) {
    const best = new Map<string, TuningRecord>();
    for (const r of g.ranked) {
      const k = configKey(r.config);
      const seen = best.get(k);
      if (!seen || r.median! < seen.median!) best.set(k, r);
    }
    g.ranked = [...best.values()].sort((a, b) => a.median! - b.median!);
  }
  return [...groups.values()].sort((a, b) => a.distance - b.distance || a.workload.localeCompare(b.workload));
}

/** A config of another shape mapped onto `knobs` (the new shape's sub-spaces). */
export function adaptConfig(config: Config, knobs: readonly Knob[]): Config {
  const out: Config = {};
  for (const knob of knobs) {
    const value = config[knob.name];
    if (knob.kind === 'split') {
      out[knob.name] = [...nearestSplit(knob, Array.isArray(value) ? value : null)];
    } else {
      const same = knob.entities.find((e) => JSON.stringify(e) === JSON.stringify(value));
      const chosen = same ?? knob.entities[0];
      out[knob.name] = Array.isArray(chosen) ? [...chosen] : chosen;
    }
  }
  return out;
}

function nearestSplit(knob: Knob, source: number[] | null): number[] {
  const entities = knob.entities as number[][];
  const parts = entities[0].length;
  const want = source && source.length === parts && source.every((f) => f >= 1) ? source : new Array<number>(parts).fill(1);
  let best = entities[0], bestDistance = Infinity, bestSize = Infinity;
  for (const e of entities) {
    let d = 0, inner = 1, wantInner = 1;
    for (let p = 1; p < parts; p++) {
      d += p * Math.abs(Math.log2(e[p]) - Math.log2(want[p]));
      inner *= e[p];
      wantInner *= want[p];
    }
    const size = Math.abs(Math.log2(inner) - Math.log2(wantInner));
    if (d < bestDistance - 1e-9 || (Math.abs(d - bestDistance) <= 1e-9 && size < bestSize)) {
      best = e; bestDistance = d; bestSize = size;
    }
  }
  return best;
}

/** Adapted seeds from the nearest sources, round-robin over sources, valid for the limits. */
export function transferSeeds(
  records: readonly TuningRecord[], def: ComputeDef, template: Template, limits: DeviceLimits, options: TransferOptions,
): TransferSeed[] {
  const sources = transferSources(records, def, options).slice(0, options.sources ?? 3);
  const knobs = template.knobs(def);
  const taken = new Set((options.exclude ?? []).map(configKey));
  const seeds: TransferSeed[] = [];
  const depth = Math.max(0, ...sources.map((s) => s.ranked.length));
  for (let rank = 0; rank < depth && seeds.length < options.count; rank++) {
    for (const source of sources) {
      const record = source.ranked[rank];
      if (!record || seeds.length >= options.count) continue;
      const config = adaptConfig(record.config, knobs);
      const key = configKey(config);
      if (taken.has(key)) continue;
      taken.add(key);
      try {
        template.check(def, config, limits);
      } catch (err) {
        if (err instanceof InstantiationError) continue;
        throw err;
      }
      seeds.push({
        config, distance: source.distance,
        from: { workload: record.workload, target: record.target, config: record.config, seconds: record.median! },
      });
    }
  }
  return seeds;
}

/** transferSeeds over the log at `path` (what `--transfer-from FILE` and campaigns call). */
export function transferSeedsFromLog(
  path: string, def: ComputeDef, template: Template, limits: DeviceLimits, options: TransferOptions,
  warn?: (message: string) => void,
): TransferSeed[] {
  const log = openLog(path, { warn });
  return transferSeeds(log.all(), def, template, limits, options);
}

/** Default number of seeds for a budget: a fifth of it, between 1 and 8. */
export function defaultSeedCount(budget: number): number {
  return Math.max(1, Math.min(8, Math.ceil(budget / 5)));
}
