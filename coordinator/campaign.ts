// One campaign: an operator and shape tuned on one or more device classes at once, each with its
// own explorer and budget. Results are applied once per candidate id. What survives a restart is
// the spec, the state and the id counters (campaign-store.ts) plus the results in the tuning log:
// explorers are rebuilt from those results, so nothing but the records needs to be durable.
// When a target's search ends, its top k configs are re-measured (coordinator/remeasure/) before
// the target is done; the re-measured figure then names its best.
import { decodeCandidateId, encodeCandidateId } from '../contracts/candidate-id.ts';
import { PROTOCOL_LIMITS } from '../contracts/messages/limits.ts';
import type { Candidate, DeviceInfo, MeasureResult, TargetKind, TimingProtocol } from '../contracts/result.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import type { Config, DeviceLimits, Template } from '../tensor/templates/template.ts';
import type { CampaignSpec } from './campaign-spec.ts';
import { createExplorer } from './explore/index.ts';
import type { PriorMeasurement } from './explore/batch-explorer.ts';
import type { Explorer } from './explore/explorer.ts';
import { templateFor } from './farm/templates.ts';
import { deviceKey } from './keys.ts';
import type { RemeasureRecord } from './records.ts';
import { RemeasurePhase, type RemeasureResult } from './remeasure/phase.ts';
import { DEFAULT_REMEASURE, DEFAULT_REMEASURE_ROUNDS, planRemeasure } from './remeasure/plan.ts';
import { templateSpace } from './template-space.ts';
import type { TargetYardstick } from './target-yardstick.ts';

export type CampaignState = 'running' | 'done' | 'cancelled' | 'failed';
export const CAMPAIGN_STATES: readonly CampaignState[] = ['running', 'done', 'cancelled', 'failed'];

/** Candidate ids are reserved in blocks: the state file is written once per block, not per candidate. */
export const ID_BLOCK = 4096;

export interface Best {
  config: Config;
  seconds: number;
  gflops: number;
  candidateId: string;
  /** Agent that measured it ('' when read back from the records). */
  agent: string;
  /** Set once re-measured: `seconds` is then the re-measured median of `runs` fresh runs, and
   *  `searchSeconds` what the search measured. */
  remeasured?: { searchSeconds: number; runs: number };
  /** The device that measured it (its yardstick: farm/target-yardstick.ts). */
  device?: DeviceInfo;
}

/** A target's state: running; waiting (work left, no agent of its kind up: farm/stalls.ts); done;
 *  once the campaign has ended, the campaign's state. */
export type TargetState = 'running' | 'waiting' | 'done' | 'cancelled' | 'failed';

export interface TargetSnapshot {
  target: TargetKind;
  state: TargetState;
  /** Why it is waiting (farm/waiting-message.ts); absent otherwise. */
  message?: string;
  budget: number;
  measured: number;
  valid: number;
  best: Best | null;
  queued: number;
  inFlight: number;
  /** Why this target ended before its budget (the explorer stopped), if it did. */
  stopReason?: string;
  /** Re-measurements of the top configs after the search: done (or given up) of total. */
  remeasure?: { done: number; total: number };
  /** The target is an analytical landscape (sim): its figures are simulated. */
  simulated?: true;
  /** The best against its device's reference, library and peak (target-yardstick.ts). */
  yardstick?: TargetYardstick;
}

export interface CampaignSnapshot {
  id: string;
  state: CampaignState;
  op: string;
  shape: Record<string, number>;
  workload: string;
  explorer: string;
  seed: number;
  targets: TargetSnapshot[];
  createdAt: string;
  finishedAt?: string;
  message?: string;
}

/** The campaign as the state file keeps it. */
export interface PersistedCampaign {
  id: string;
  spec: CampaignSpec;
  state: CampaignState;
  createdAt: string;
  finishedAt?: string;
  message?: string;
  /** Per target: candidate ids below this number may have been issued. */
  idsReserved: Partial<Record<TargetKind, number>>;
  stopReasons?: Partial<Record<TargetKind, string>>;
  /** Per target whose search has ended: candidate ids from this number on are re-measurements. */
  remeasureFrom?: Partial<Record<TargetKind, number>>;
}

export interface Proposal {
  candidate: Candidate;
  protocol: TimingProtocol;
  /** Only an agent of this device (coordinator/keys.ts deviceKey) may measure it: a re-measurement
   *  goes to the device that measured the config in the search. */
  device?: string;
}

/** How a result of the campaign goes into the tuning log. */
export type LogLine =
  | { type: 'measurement'; explorer: string }
  | { type: 'remeasure'; round: number; of: string }
  /** A re-measurement the plan has no slot for (issued before a restart and measured again since). */
  | { type: 'unplanned' };

const isRemeasureRecord = (r: MeasureResult | RemeasureRecord): r is RemeasureRecord => (r as { type?: unknown }).type === 'remeasure';

/** What only an in-process caller gives a campaign (embedded `tune`); not persisted. */
export interface CampaignExtras {
  /** Results from outside the campaign (earlier runs in the log) that seed each target's explorer. */
  history?: Partial<Record<TargetKind, readonly MeasureResult[]>>;
  /** Configs measured first, before the explorer is created; it then sees their results as history. */
  seeds?: Partial<Record<TargetKind, Config[]>>;
  /** The tuning log's `explorer` field for seed results (default 'seed'). */
  seedLabel?: string;
  /** The template to explore per target, when not the device class's usual one (the local backend's). */
  templates?: Partial<Record<TargetKind, Template>>;
  /** The limits of the device that measures each target, when known (an embedded agent): the
   *  explorer then proposes only configs its template accepts under them. */
  limits?: Partial<Record<TargetKind, DeviceLimits>>;
  /** Other workloads' measurements adapted to each target's space, for learned explorers to
   *  train on (transfer-prior.ts). */
  prior?: Partial<Record<TargetKind, readonly PriorMeasurement[]>>;
}

interface TargetRun {
  kind: TargetKind;
  /** Created once the seeds are measured (at once when there are none). */
  explorer: Explorer | null;
  seeds: Config[];
  seedIds: Set<string>;
  outsideHistory: readonly MeasureResult[];
  /** This campaign's results for the target, in the order applied. */
  results: MeasureResult[];
  nextId: number;
  idsReserved: number;
  measured: number;
  valid: number;
  best: Best | null;
  /** Issued, not yet applied; null = reclaimed from an agent after a restart (config not known here). */
  pending: Map<string, Candidate | null>;
  /** The search has ended (budget spent or explorer stopped); re-measuring may still run. */
  searchDone: boolean;
  /** Ids from this sequence number on are re-measurements; null until the search has ended. */
  remeasureFrom: number | null;
  /** Created when the search has ended; null when nothing is re-measured. */
  phase?: RemeasurePhase | null;
  /** This campaign's re-measurements already in the log (restart). */
  remeasured: RemeasureResult[];
  /** Agent of each valid result, for the best's `agent`. */
  agents: Map<string, string>;
  done: boolean;
  stopReason?: string;
}

export class Campaign {
  state: CampaignState;
  readonly createdAt: string;
  finishedAt?: string;
  message?: string;
  private readonly runs = new Map<TargetKind, TargetRun>();
  private readonly applied = new Set<string>();
  /** Per target: ids below this may have been issued before this process restored the campaign. */
  private readonly reservedAtRestore = new Map<TargetKind, number>();

  /** `history`: this campaign's results (and re-measurements) already in the tuning log (resume after a restart). */
  constructor(
    readonly id: string,
    readonly spec: CampaignSpec,
    readonly def: ComputeDef,
    persisted?: PersistedCampaign,
    history: readonly (MeasureResult | RemeasureRecord)[] = [],
    private readonly extras: CampaignExtras = {},
  ) {
    this.state = persisted?.state ?? 'running';
    this.createdAt = persisted?.createdAt ?? new Date().toISOString();
    this.finishedAt = persisted?.finishedAt;
    this.message = persisted?.message;
    for (const kind of spec.targets) {
      if (!this.templateOf(kind)) throw new Error(`no template for device class '${kind}'`);
      // After a restart, ids continue past the reserved block: none can collide with one issued before.
      const reserved = persisted?.idsReserved[kind] ?? 0;
      this.reservedAtRestore.set(kind, reserved);
      const remeasureFrom = persisted?.remeasureFrom?.[kind] ?? null;
      const run: TargetRun = {
        kind, explorer: null, seeds: [...(extras.seeds?.[kind] ?? [])], seedIds: new Set(), outsideHistory: extras.history?.[kind] ?? [],
        results: [], nextId: reserved, idsReserved: reserved, measured: 0, valid: 0, best: null,
        pending: new Map(), searchDone: remeasureFrom !== null, remeasureFrom, remeasured: [], agents: new Map(),
        done: false, stopReason: persisted?.stopReasons?.[kind],
      };
      this.runs.set(kind, run);
      for (const r of history) {
        if (r.target !== kind || r.campaign !== id || this.applied.has(r.candidateId)) continue;
        if (isRemeasureRecord(r)) {
          this.applied.add(r.candidateId);
          run.remeasured.push({ result: r, round: r.round });
          continue;
        }
        this.count(run, r, '');
        run.results.push(r);
      }
      if (!run.seeds.length) run.explorer = this.createExplorer(run);
    }
    if (this.state !== 'running') for (const run of this.runs.values()) run.done = true;
  }

  get running(): boolean { return this.state === 'running'; }

  targetKinds(): TargetKind[] { return [...this.runs.keys()]; }

  /**
   * Up to `n` new candidates for `kind`, within the budget. `reserved` is true when an id block was
   * reserved: the caller must persist the campaign before sending them anywhere.
   */
  propose(kind: TargetKind, n: number): { proposals: Proposal[]; reserved: boolean } {
    const run = this.runs.get(kind);
    if (!run || run.done || !this.running) return { proposals: [], reserved: false };
    if (this.searchOver(run)) return this.proposeRemeasure(run, n);
    const room = this.spec.trials - run.measured - run.pending.size;
    if (room <= 0 || n <= 0) return { proposals: [], reserved: false };
    const fromSeeds = run.seeds.length > 0;
    // The explorer starts once every seed is measured, with their results as its history.
    if (!fromSeeds && !run.explorer) {
      if (run.pending.size) return { proposals: [], reserved: false };
      run.explorer = this.createExplorer(run);
    }
    const configs = fromSeeds ? run.seeds.splice(0, Math.min(n, room)) : run.explorer!.next(Math.min(n, room));
    if (!configs.length && !run.pending.size) {
      // Nothing to wait for and nothing proposed: the method has nothing more to offer.
      run.searchDone = true;
      run.stopReason = run.explorer?.stopReason ?? `explorer '${this.spec.explorer}' proposed nothing more`;
      return this.proposeRemeasure(run, n);
    }
    const multiplier = fromSeeds ? 1 : run.explorer!.timeoutMultiplier ?? 1;
    const protocol = { ...this.spec.protocol, runTimeoutMs: Math.min(this.spec.protocol.runTimeoutMs * multiplier, PROTOCOL_LIMITS.runTimeoutMs.max) };
    let reserved = false;
    const proposals = configs.map((config): Proposal => {
      const issued = this.issueId(run);
      reserved ||= issued.reserved;
      const candidate: Candidate = { id: issued.id, campaign: this.id, workload: this.def.key, target: kind, config };
      run.pending.set(candidate.id, candidate);
      if (fromSeeds) run.seedIds.add(candidate.id);
      return { candidate, protocol };
    });
    return { proposals, reserved };
  }

  /** Re-measurements of the top configs, once the search has ended and its results are all in. */
  private proposeRemeasure(run: TargetRun, n: number): { proposals: Proposal[]; reserved: boolean } {
    const phase = this.ready(run) ? this.phaseOf(run) : null;
    if (!phase || n <= 0) return { proposals: [], reserved: false };
    // The first re-measurement id is persisted before any leaves the process (`reserved`), so that
    // after a restart its results are still known as re-measurements.
    let reserved = false;
    if (run.remeasureFrom === null) {
      run.remeasureFrom = run.nextId;
      reserved = true;
    }
    const proposals = phase.take(n, () => {
      const issued = this.issueId(run);
      reserved ||= issued.reserved;
      return issued.id;
    }).map(({ config, candidateId }): Proposal => ({
      candidate: { id: candidateId, campaign: this.id, workload: this.def.key, target: run.kind, config: config.config },
      protocol: this.spec.protocol,
      device: config.device,
    }));
    return { proposals, reserved };
  }

  private issueId(run: TargetRun): { id: string; reserved: boolean } {
    const seq = run.nextId++;
    let reserved = false;
    if (seq >= run.idsReserved) {
      run.idsReserved = seq + ID_BLOCK;
      reserved = true;
    }
    return { id: encodeCandidateId({ campaign: this.id, target: run.kind, seq }), reserved };
  }

  /** True once the search has ended (budget spent, or the explorer stopped with nothing pending). */
  private searchOver(run: TargetRun): boolean {
    if (!run.searchDone) {
      if (run.measured >= this.spec.trials) run.searchDone = true;
      else if (run.explorer?.done && run.pending.size === 0) {
        run.searchDone = true;
        run.stopReason = run.explorer.stopReason ?? 'the explorer stopped';
      }
    }
    return run.searchDone;
  }

  /** The search has ended and every one of its results is in: re-measuring may be planned. */
  private ready(run: TargetRun): boolean {
    return this.searchOver(run) && (run.pending.size === 0 || run.measured >= this.spec.trials);
  }

  /** The target's re-measuring, planned the first time it is asked for; null when off or nothing valid. */
  private phaseOf(run: TargetRun): RemeasurePhase | null {
    if (run.phase !== undefined) return run.phase;
    const count = this.spec.remeasure ?? DEFAULT_REMEASURE;
    const plan = planRemeasure(this.remeasurePool(run), count, this.spec.remeasureRounds ?? DEFAULT_REMEASURE_ROUNDS);
    run.phase = plan.slots.length ? new RemeasurePhase(plan, run.remeasured) : null;
    return run.phase;
  }

  /** What the top k are chosen from: this campaign's results, and the outside history measured on
   *  the devices it measured on (a resumed `tune`). */
  private remeasurePool(run: TargetRun): MeasureResult[] {
    const devices = new Set(run.results.map(deviceKey));
    return [...run.outsideHistory.filter((r) => devices.has(deviceKey(r))), ...run.results];
  }

  /** True for a candidate id issued after the target's search ended. */
  private isRemeasureId(run: TargetRun, candidateId: string): boolean {
    const seq = decodeCandidateId(candidateId)?.seq;
    return run.remeasureFrom !== null && seq !== undefined && seq >= run.remeasureFrom;
  }

  /** How a result goes into the tuning log: a measurement (with the method that proposed it) or a
   *  re-measurement (with its round and the search measurement it re-measures). */
  lineOf(result: MeasureResult): LogLine {
    const run = this.runOf(result.candidateId);
    if (!run || !this.isRemeasureId(run, result.candidateId)) return { type: 'measurement', explorer: this.labelOf(result.candidateId) };
    const issued = (this.ready(run) ? this.phaseOf(run) : null)?.slotFor(result.candidateId, result.config);
    return issued ? { type: 'remeasure', round: issued.slot.round, of: issued.config.of } : { type: 'unplanned' };
  }

  /** The tuning log's `explorer` field for a candidate: the method that proposed it. */
  labelOf(candidateId: string): string {
    const run = this.runOf(candidateId);
    return run?.seedIds.has(candidateId) ? this.extras.seedLabel ?? 'seed' : this.spec.explorer;
  }

  /** True when the result belongs to this campaign (its id prefix and one of its targets). */
  owns(result: MeasureResult): boolean {
    const id = decodeCandidateId(result.candidateId);
    return this.runs.has(result.target) && id?.campaign === this.id && id.target === result.target;
  }

  isApplied(candidateId: string): boolean { return this.applied.has(candidateId); }

  /** True for an id a previous process may have issued (below the block reserved when this one
   *  restored the campaign) whose result is not in yet: its config is not known here. */
  issuedBeforeRestart(candidateId: string): boolean {
    const id = decodeCandidateId(candidateId);
    if (!id || id.campaign !== this.id || this.applied.has(candidateId)) return false;
    return id.seq < (this.reservedAtRestore.get(id.target as TargetKind) ?? 0);
  }

  /** The config is a point of the target's space (its knobs, their shapes), whatever the device. */
  acceptsConfig(kind: TargetKind, config: Config): boolean {
    const template = this.templateOf(kind);
    if (!template) return false;
    try {
      template.check(this.def, config, {});
      return true;
    } catch {
      return false;
    }
  }

  /** Applies new results (duplicates skipped) and feeds each target's explorer; returns those applied. */
  apply(deliveries: { result: MeasureResult; agent: string }[]): MeasureResult[] {
    const byKind = new Map<TargetKind, MeasureResult[]>();
    const remeasures: MeasureResult[] = [];
    for (const { result, agent } of deliveries) {
      if (!this.running || this.applied.has(result.candidateId) || !this.owns(result)) continue;
      const run = this.runs.get(result.target)!;
      if (this.isRemeasureId(run, result.candidateId)) {
        // Never counted against the budget, never shown to the explorer.
        this.applied.add(result.candidateId);
        if (this.lineOf(result).type === 'remeasure') run.phase!.complete(result);
        remeasures.push(result);
        continue;
      }
      this.count(run, result, agent);
      run.results.push(result);
      run.pending.delete(result.candidateId);
      let list = byKind.get(run.kind);
      if (!list) byKind.set(run.kind, (list = []));
      list.push(result);
    }
    const applied: MeasureResult[] = [...remeasures];
    for (const [kind, results] of byKind) {
      // Before the explorer exists (seeds), results wait in `results` and become its history.
      this.runs.get(kind)!.explorer?.update(results);
      applied.push(...results);
    }
    return applied;
  }

  /** An agent holds a candidate of this campaign that is neither pending nor applied: count it as pending. */
  reclaim(candidateId: string): boolean {
    if (!this.running || this.applied.has(candidateId)) return false;
    const run = this.runOf(candidateId);
    if (!run || run.pending.has(candidateId) || decodeCandidateId(candidateId)?.campaign !== this.id) return false;
    if (this.isRemeasureId(run, candidateId)) return true; // its result claims a slot of its config when it comes
    run.pending.set(candidateId, null);
    return true;
  }

  /** A pending candidate will never come back (refused, or reclaimed and its agent lost): make room for another. */
  forget(candidateId: string): void {
    const run = this.runOf(candidateId);
    if (run && this.isRemeasureId(run, candidateId)) run.phase?.forget(candidateId);
    else run?.pending.delete(candidateId);
  }

  /** Ends finished targets and, when all have ended, the campaign. Returns true when the state changed. */
  settle(): boolean {
    if (!this.running) return false;
    for (const run of this.runs.values()) {
      if (run.done || !this.ready(run)) continue;
      const phase = this.phaseOf(run);
      if (phase && !phase.finished) continue;
      if (phase) this.adoptWinner(run, phase);
      run.done = true;
    }
    if ([...this.runs.values()].some((r) => !r.done)) return false;
    const empty = [...this.runs.values()].filter((r) => r.valid === 0);
    this.state = empty.length ? 'failed' : 'done';
    if (empty.length) this.message = empty.map((r) => `${r.kind}: no valid schedule${r.stopReason ? ` (${r.stopReason})` : ''}`).join('; ');
    else {
      const stopped = [...this.runs.values()].filter((r) => r.stopReason);
      if (stopped.length) this.message = stopped.map((r) => `${r.kind}: ${r.stopReason}`).join('; ');
    }
    this.finishedAt = new Date().toISOString();
    return true;
  }

  cancel(reason = 'cancelled by request'): void {
    if (!this.running) return;
    this.state = 'cancelled';
    this.message = reason;
    this.finishedAt = new Date().toISOString();
    for (const run of this.runs.values()) {
      run.done = true;
      run.pending.clear();
    }
  }

  /** The explorer of a target (null before its seeds are measured); read-only use (metrics). */
  explorerOf(kind: TargetKind): Explorer | null { return this.runs.get(kind)?.explorer ?? null; }

  /** Pending candidates of a target (issued, result not yet applied). */
  pendingCount(kind: TargetKind): number { return this.runs.get(kind)?.pending.size ?? 0; }

  snapshot(counts: (kind: TargetKind) => { queued: number; inFlight: number }): CampaignSnapshot {
    return {
      id: this.id, state: this.state, op: this.spec.op, shape: this.spec.shape, workload: this.def.key,
      explorer: this.spec.explorer, seed: this.spec.seed, createdAt: this.createdAt,
      ...(this.finishedAt ? { finishedAt: this.finishedAt } : {}), ...(this.message ? { message: this.message } : {}),
      targets: [...this.runs.values()].map((run) => ({
        target: run.kind, state: this.state === 'running' ? (run.done ? 'done' : 'running') : this.state,
        budget: this.spec.trials, measured: run.measured, valid: run.valid, best: run.best,
        ...(this.running ? counts(run.kind) : { queued: 0, inFlight: 0 }),
        ...(run.stopReason ? { stopReason: run.stopReason } : {}),
        ...(run.phase ? { remeasure: run.phase.progress() } : {}),
      })),
    };
  }

  persisted(): PersistedCampaign {
    const idsReserved: Partial<Record<TargetKind, number>> = {};
    const stopReasons: Partial<Record<TargetKind, string>> = {};
    const remeasureFrom: Partial<Record<TargetKind, number>> = {};
    for (const run of this.runs.values()) {
      idsReserved[run.kind] = run.idsReserved;
      if (run.stopReason) stopReasons[run.kind] = run.stopReason;
      if (run.remeasureFrom !== null) remeasureFrom[run.kind] = run.remeasureFrom;
    }
    return {
      id: this.id, spec: this.spec, state: this.state, createdAt: this.createdAt,
      ...(this.finishedAt ? { finishedAt: this.finishedAt } : {}), ...(this.message ? { message: this.message } : {}),
      idsReserved, ...(Object.keys(stopReasons).length ? { stopReasons } : {}),
      ...(Object.keys(remeasureFrom).length ? { remeasureFrom } : {}),
    };
  }

  /** Budget: what is left to spend; history: results outside the campaign, then its own. */
  private createExplorer(run: TargetRun): Explorer {
    const template = this.templateOf(run.kind)!;
    return createExplorer(this.spec.explorer, {
      space: templateSpace(template, this.def, this.extras.limits?.[run.kind]), seed: this.spec.seed,
      budget: Math.max(1, this.spec.trials - run.measured), history: [...run.outsideHistory, ...run.results],
      prior: this.extras.prior?.[run.kind],
    });
  }

  private templateOf(kind: TargetKind): Template | undefined {
    return this.extras.templates?.[kind] ?? templateFor(kind);
  }

  /** The run of the target a candidate id names. */
  private runOf(candidateId: string): TargetRun | undefined {
    const target = decodeCandidateId(candidateId)?.target;
    return target === undefined ? undefined : this.runs.get(target as TargetKind);
  }

  /** The best becomes the config with the best re-measured figure. */
  private adoptWinner(run: TargetRun, phase: RemeasurePhase): void {
    const chosen = phase.winner(this.remeasurePool(run));
    if (!chosen) return;
    const { record, seconds, remeasured } = chosen;
    run.best = {
      config: record.config, seconds, gflops: this.def.flops / seconds / 1e9, candidateId: record.candidateId,
      agent: run.agents.get(record.candidateId) ?? '', device: record.device,
      ...(remeasured ? { remeasured: { searchSeconds: remeasured.searchSeconds, runs: remeasured.runs } } : {}),
    };
  }

  private count(run: TargetRun, r: MeasureResult, agent: string): void {
    this.applied.add(r.candidateId);
    run.measured++;
    if (r.error || r.median === null || !Number.isFinite(r.median)) return;
    run.valid++;
    if (agent) run.agents.set(r.candidateId, agent);
    if (!run.best || r.median < run.best.seconds) {
      run.best = { config: r.config, seconds: r.median, gflops: this.def.flops / r.median / 1e9, candidateId: r.candidateId, agent, device: r.device };
    }
  }
}
