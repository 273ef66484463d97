// The coordinator's Prometheus metrics (served at /metrics of --http). Counters and histograms
// are fed by the farm's observer hooks; gauges are read from the farm at scrape time, so they are
// never stale. Labels stay bounded: device class, agent name, error code, campaign id (only for
// running campaigns and the most recently finished ones), never a config or candidate id.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { decodeCandidateId } from '../contracts/candidate-id.ts';
import { MEASUREMENT_STATUSES } from '../contracts/measurement-status.ts';
import { DROP_REASONS } from '../contracts/messages/message-error.ts';
import { registerProcessMetrics } from '../contracts/process-metrics.ts';
import { REQUEUE_CAUSES } from '../contracts/requeue-reason.ts';
import type { MeasureResult, TargetKind } from '../contracts/result.ts';
import { authRefusalCounter, type AuthRefusal } from '../contracts/security/auth-refusals.ts';
import { TARGET_KINDS } from '../contracts/targets.ts';
import type { Campaign, CampaignSnapshot, CampaignState } from './campaign.ts';
import { CAMPAIGN_STATES } from './campaign.ts';
import type { Farm, FarmObserver } from './farm/farm.ts';
import { explorerFigures } from './metrics/explorer-figures.ts';

/** Finished campaigns whose per-campaign series stay exported (running ones always are). */
export const FINISHED_CAMPAIGNS_EXPORTED = 20;

/** Candidates timed at once for the round trip; the oldest are forgotten beyond this. */
const MAX_TIMED_CANDIDATES = 100_000;

/** Dispatch → result applied: from milliseconds (sim) to an hour (FPGA synthesis). */
const ROUND_TRIP_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600];

/** `status` label of a measurement: 'ok' or its error code. */
export function measurementStatus(result: MeasureResult): string {
  return result.error ? result.error.code : 'ok';
}

export interface CoordinatorMetricsOptions {
  /** Node.js process metrics (flexfarm_process_*, flexfarm_nodejs_*); default true. */
  processMetrics?: boolean;
}

export class CoordinatorMetrics {
  readonly registry = new Registry();
  private farm: Farm | null = null;
  /** Campaign objects seen by the hooks: their explorers give epsilon and loss. */
  private readonly campaigns = new Map<string, Campaign>();
  /** Candidate id → when it was sent to an agent (performance.now() ms). */
  private readonly dispatchedAt = new Map<string, number>();

  private readonly measurements: Counter<'device_class' | 'agent' | 'status'>;
  private readonly remeasurements: Counter<'device_class' | 'status'>;
  private readonly duplicates: Counter<'device_class'>;
  private readonly dispatched: Counter<'device_class' | 'agent'>;
  private readonly redispatches: Counter<'device_class' | 'reason'>;
  private readonly dropped: Counter<'device_class'>;
  private readonly forgotten: Counter<'device_class'>;
  private readonly messagesDropped: Counter<'subject_kind' | 'reason'>;
  private readonly roundTrip: Histogram<'device_class' | 'status'>;
  /** Counts a gRPC call refused for its credentials (CoordinatorServerOptions.authRefused). */
  readonly authRefused: (refusal: AuthRefusal) => void;

  constructor(options: CoordinatorMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.processMetrics !== false) registerProcessMetrics(this.registry);
    this.measurements = new Counter({
      name: 'flexfarm_measurements_total', help: 'Search results applied to campaigns, by device class, agent and status (ok or error code).',
      labelNames: ['device_class', 'agent', 'status'], registers,
    });
    this.remeasurements = new Counter({
      name: 'flexfarm_remeasurements_total', help: 'Re-measurements of the top configs after a search (fresh processes, not search results), by device class and status.',
      labelNames: ['device_class', 'status'], registers,
    });
    this.duplicates = new Counter({
      name: 'flexfarm_duplicate_results_total', help: 'Results delivered again for a candidate already applied (ignored).',
      labelNames: ['device_class'], registers,
    });
    this.dispatched = new Counter({
      name: 'flexfarm_dispatched_total', help: 'Candidates sent to agents (re-dispatches included).',
      labelNames: ['device_class', 'agent'], registers,
    });
    this.redispatches = new Counter({
      name: 'flexfarm_redispatches_total', help: `Candidates put back in their queue, by reason (${REQUEUE_CAUSES.join(', ')}).`,
      labelNames: ['device_class', 'reason'], registers,
    });
    this.dropped = new Counter({
      name: 'flexfarm_dropped_total', help: 'Candidates refused by every agent as invalid requests (the campaign replaces them).',
      labelNames: ['device_class'], registers,
    });
    this.forgotten = new Counter({
      name: 'flexfarm_forgotten_total', help: 'Reclaimed candidates (after a coordinator restart) whose agent was lost before publishing.',
      labelNames: ['device_class'], registers,
    });
    this.messagesDropped = new Counter({
      name: 'flexfarm_messages_dropped_total', help: `Messages read from NATS and dropped, never applied, by subject kind (results, heartbeat) and reason (${DROP_REASONS.join(', ')}).`,
      labelNames: ['subject_kind', 'reason'], registers,
    });
    this.roundTrip = new Histogram({
      name: 'flexfarm_measure_round_trip_seconds', help: 'End to end on the coordinator: candidate sent to an agent until its result is applied.',
      labelNames: ['device_class', 'status'], buckets: ROUND_TRIP_BUCKETS_SECONDS, registers,
    });
    this.authRefused = authRefusalCounter(this.registry, 'flexfarm_grpc_auth_refused_total');
    this.defineFarmGauges();
    this.zeroCounters();
  }

  /** Counters read 0 before anything happened (a Grafana stat panel shows 0, not "No data"): every
   *  combination of bounded labels (device class, status, reason) from the start, and an agent's
   *  series as soon as the coordinator knows the agent. Called at each scrape; inc(0) keeps counts. */
  private zeroCounters(): void {
    for (const kind of TARGET_KINDS) {
      const device_class = kind;
      for (const status of MEASUREMENT_STATUSES) this.remeasurements.inc({ device_class, status }, 0);
      for (const reason of REQUEUE_CAUSES) this.redispatches.inc({ device_class, reason }, 0);
      for (const counter of [this.duplicates, this.dropped, this.forgotten]) counter.inc({ device_class }, 0);
    }
    for (const a of this.farm?.agents() ?? []) {
      const labels = { device_class: a.kind, agent: a.name };
      for (const status of MEASUREMENT_STATUSES) this.measurements.inc({ ...labels, status }, 0);
      this.dispatched.inc(labels, 0);
    }
  }

  /** Hooks for the Farm's `observer` option. */
  readonly observer: FarmObserver = {
    applied: (campaign, result, agent) => {
      this.campaigns.set(campaign.id, campaign);
      const status = measurementStatus(result);
      this.measurements.inc({ device_class: result.target, agent: agent || 'unknown', status });
      const sentAt = this.dispatchedAt.get(result.candidateId);
      if (sentAt !== undefined) {
        this.dispatchedAt.delete(result.candidateId);
        this.roundTrip.observe({ device_class: result.target, status }, (performance.now() - sentAt) / 1000);
      }
    },
    remeasured: (campaign, result) => {
      this.campaigns.set(campaign.id, campaign);
      this.remeasurements.inc({ device_class: result.target, status: measurementStatus(result) });
      this.dispatchedAt.delete(result.candidateId);
    },
    duplicate: (result) => {
      this.duplicates.inc({ device_class: result.target });
      this.dispatchedAt.delete(result.candidateId);
    },
    campaignChanged: (campaign) => {
      this.campaigns.set(campaign.id, campaign);
      if (campaign.running) return;
      // Cancelled or ended: its outstanding candidates will not be timed.
      const prefix = `${campaign.id}/`;
      for (const id of this.dispatchedAt.keys()) if (id.startsWith(prefix)) this.dispatchedAt.delete(id);
    },
    dispatched: (agent, count, works) => {
      this.dispatched.inc({ device_class: agent.kind, agent: agent.name }, count);
      const now = performance.now();
      for (const w of works ?? []) this.dispatchedAt.set(w.candidate.id, now);
      // Results that never come (ignored campaigns, lost agents' late work) must not pile up.
      if (this.dispatchedAt.size > MAX_TIMED_CANDIDATES) {
        for (const id of [...this.dispatchedAt.keys()].slice(0, this.dispatchedAt.size - MAX_TIMED_CANDIDATES)) this.dispatchedAt.delete(id);
      }
    },
    requeued: (work, reason) => {
      this.redispatches.inc({ device_class: work.candidate.target, reason: reason.cause });
    },
    dropped: (candidate) => {
      this.dropped.inc({ device_class: candidate.target });
      this.dispatchedAt.delete(candidate.id);
    },
    messageDropped: (drop) => {
      this.messagesDropped.inc({ subject_kind: drop.subjectKind, reason: drop.reason });
    },
    forgotten: (candidateId) => {
      this.forgotten.inc({ device_class: decodeCandidateId(candidateId)?.target ?? 'unknown' });
      this.dispatchedAt.delete(candidateId);
    },
  };

  /** The farm whose queues, agents and campaigns the gauges read at scrape time. */
  attach(farm: Farm): void {
    this.farm = farm;
  }

  get contentType(): string { return this.registry.contentType; }

  /** The exposition text (Prometheus text format 0.0.4). */
  scrape(): Promise<string> {
    this.zeroCounters();
    return this.registry.metrics();
  }

  /** Names of every metric this registry exports (docs and the dashboard test use them). */
  names(): string[] {
    return this.registry.getMetricsAsArray().map((m) => m.name).sort();
  }

  private defineFarmGauges(): void {
    const registers = [this.registry];
    const self = this;
    new Gauge({
      name: 'flexfarm_queue_depth', help: 'Candidates waiting in the dispatcher queue, per device class.',
      labelNames: ['device_class'], registers,
      collect() {
        this.reset();
        if (!self.farm) return;
        for (const kind of TARGET_KINDS) this.set({ device_class: kind }, self.farm.dispatcher.queued(kind));
      },
    });
    new Gauge({
      name: 'flexfarm_in_flight', help: 'Candidates sent to agents whose results are not applied yet, per device class.',
      labelNames: ['device_class'], registers,
      collect() {
        this.reset();
        if (!self.farm) return;
        for (const kind of TARGET_KINDS) this.set({ device_class: kind }, self.farm.dispatcher.inFlight(kind));
      },
    });
    new Gauge({
      name: 'flexfarm_agents', help: 'Agents by device class and state: busy (up, work in flight), idle (up, none), lost.',
      labelNames: ['device_class', 'state'], registers,
      collect() {
        this.reset();
        if (!self.farm) return;
        for (const kind of TARGET_KINDS) for (const state of ['busy', 'idle', 'lost']) this.set({ device_class: kind, state }, 0);
        for (const a of self.farm.agents()) {
          const state = a.state === 'lost' ? 'lost' : a.inFlight > 0 ? 'busy' : 'idle';
          this.inc({ device_class: a.kind, state });
        }
      },
    });
    const perAgent = (name: string, help: string, value: (a: ReturnType<Farm['agents']>[number]) => number) => new Gauge({
      name, help, labelNames: ['device_class', 'agent'], registers,
      collect() {
        this.reset();
        for (const a of self.farm?.agents() ?? []) this.set({ device_class: a.kind, agent: a.name }, value(a));
      },
    });
    perAgent('flexfarm_agent_up', 'Whether the coordinator hears from the agent (1) or has lost it (0).', (a) => (a.state === 'up' ? 1 : 0));
    perAgent('flexfarm_agent_in_flight', 'Candidates the coordinator has sent to the agent and not yet seen back.', (a) => a.inFlight);
    perAgent('flexfarm_agent_capacity', 'Candidates the agent asks to be kept in flight.', (a) => a.capacity);
    perAgent('flexfarm_agent_heartbeat_age_seconds', 'Seconds since the agent was last heard from.', (a) => a.lastSeenSecondsAgo);
    new Gauge({
      name: 'flexfarm_campaigns', help: 'Campaigns known to the coordinator, by state.',
      labelNames: ['state'], registers,
      collect() {
        this.reset();
        const counts = new Map<CampaignState, number>(CAMPAIGN_STATES.map((s) => [s, 0]));
        for (const c of self.farm?.list() ?? []) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'flexfarm_campaign_targets_waiting', help: 'Targets of running campaigns waiting for an agent: work left and no agent of their device class up.',
      labelNames: ['device_class'], registers,
      collect() {
        this.reset();
        // Every class at 0 from the start: an alert on > 0 has a series to read before any stall.
        const counts = new Map<string, number>(TARGET_KINDS.map((k) => [k, 0]));
        for (const c of self.farm?.list() ?? []) {
          for (const t of c.targets) if (t.state === 'waiting') counts.set(t.target, (counts.get(t.target) ?? 0) + 1);
        }
        for (const [device_class, n] of counts) this.set({ device_class }, n);
      },
    });
    this.defineCampaignGauges();
  }

  /** Per campaign and target: best so far, progress, explorer figures. */
  private defineCampaignGauges(): void {
    const registers = [this.registry];
    const self = this;
    type Row = { c: CampaignSnapshot; t: CampaignSnapshot['targets'][number] };
    const perTarget = (name: string, help: string, labelNames: string[], value: (row: Row) => number | null, extra?: (row: Row) => Record<string, string>) =>
      new Gauge({
        name, help, labelNames, registers,
        collect() {
          this.reset();
          for (const row of self.exportedTargets()) {
            const v = value(row);
            if (v === null || !Number.isFinite(v)) continue;
            this.set({ campaign: row.c.id, device_class: row.t.target, ...extra?.(row) }, v);
          }
        },
      });
    const workload = (row: Row) => ({ workload: row.c.workload });
    perTarget('flexfarm_best_gflops', 'Best GFLOP/s so far per campaign, workload and device class.',
      ['campaign', 'workload', 'device_class'], (r) => r.t.best?.gflops ?? null, workload);
    perTarget('flexfarm_best_seconds', 'Median seconds of the best schedule so far per campaign, workload and device class.',
      ['campaign', 'workload', 'device_class'], (r) => r.t.best?.seconds ?? null, workload);
    // The best against its device's yardstick (target-yardstick.ts); absent while unknown.
    perTarget('flexfarm_best_speedup', 'Best schedule\'s speedup over the unscheduled reference on its device, per campaign and device class.',
      ['campaign', 'workload', 'device_class'], (r) => r.t.yardstick?.speedup ?? null, workload);
    perTarget('flexfarm_best_of_library', 'Best schedule\'s GFLOP/s divided by the vendor library\'s at that shape on its device (library named), per campaign and device class.',
      ['campaign', 'workload', 'device_class', 'library'], (r) => r.t.yardstick?.ofLibrary ?? null, (r) => ({ ...workload(r), library: r.t.yardstick?.library?.name ?? '' }));
    perTarget('flexfarm_best_of_peak', 'Best schedule\'s GFLOP/s as a fraction of its device\'s FP32 peak (0..1), per campaign and device class.',
      ['campaign', 'workload', 'device_class'], (r) => r.t.yardstick?.ofPeak ?? null, workload);
    perTarget('flexfarm_campaign_budget', 'Measurements a campaign may spend per device class.',
      ['campaign', 'device_class'], (r) => r.t.budget);
    const explorer = (row: Row) => ({ explorer: row.c.explorer });
    perTarget('flexfarm_explorer_trials', 'Measurements applied per campaign and device class (the explorer\'s trials).',
      ['campaign', 'device_class', 'explorer'], (r) => r.t.measured, explorer);
    perTarget('flexfarm_explorer_valid_ratio', 'Share of valid measurements per campaign and device class (0..1).',
      ['campaign', 'device_class', 'explorer'], (r) => (r.t.measured ? r.t.valid / r.t.measured : null), explorer);
    perTarget('flexfarm_explorer_epsilon', 'Exploration rate ε of the q explorer at its latest trial.',
      ['campaign', 'device_class', 'explorer'], (r) => self.figures(r).epsilon, explorer);
    perTarget('flexfarm_explorer_loss', 'Mean training loss of the q explorer\'s walkers at their latest training.',
      ['campaign', 'device_class', 'explorer'], (r) => self.figures(r).loss, explorer);
  }

  private figures(row: { c: CampaignSnapshot; t: { target: TargetKind } }) {
    return explorerFigures(this.campaigns.get(row.c.id)?.explorerOf(row.t.target) ?? null);
  }

  /** Running campaigns and the most recently finished ones: the cardinality stays bounded. */
  private exportedTargets(): { c: CampaignSnapshot; t: CampaignSnapshot['targets'][number] }[] {
    const all = this.farm?.list() ?? [];
    const finished = all.filter((c) => c.state !== 'running')
      .sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? ''))
      .slice(0, FINISHED_CAMPAIGNS_EXPORTED);
    const kept = [...all.filter((c) => c.state === 'running'), ...finished];
    const keptIds = new Set(kept.map((c) => c.id));
    for (const id of this.campaigns.keys()) if (!keptIds.has(id)) this.campaigns.delete(id);
    return kept.flatMap((c) => c.targets.map((t) => ({ c, t })));
  }
}
