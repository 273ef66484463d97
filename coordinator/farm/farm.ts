// The coordinator's engine: campaigns, the agent registry, the dispatcher and the result consumer,
// wired together. Transport-free: the gRPC server (coordinator/server.ts) and embedded `tune` use it.
//
// Flow: refill asks each running campaign's explorers for candidates (up to the agents' capacity
// per device class, plus one more round queued) → dispatcher → agents → bus → handleResults:
// append to the tuning log, apply to the campaign (once per candidate id), ack, refill.
import { randomBytes } from 'node:crypto';
import type { CoordinatorBus, ResultDelivery } from '../../contracts/bus.ts';
import { decodeCandidateId } from '../../contracts/candidate-id.ts';
import type { LocalAgent } from '../../contracts/local-agent.ts';
import type { MessageDrop } from '../../contracts/messages/message-error.ts';
import type { ClientChannel } from '../../contracts/security/client-channel.ts';
import type { MeasureResult, TargetKind } from '../../contracts/result.ts';
import { targetSpec } from '../../contracts/targets.ts';
import { Campaign, type CampaignExtras, type CampaignSnapshot, type PersistedCampaign } from '../campaign.ts';
import { validateSpec, type CampaignSpecInput } from '../campaign-spec.ts';
import { CampaignStore } from '../campaign-store.ts';
import { deviceKey } from '../keys.ts';
import { RecordLog } from '../records.ts';
import { markYardsticks } from '../target-yardstick.ts';
import { YardstickBook } from '../yardstick-book.ts';
import { GrpcAgentClient, LocalAgentClient, type AgentClient } from './agent-client.ts';
import { Dispatcher, type DispatcherObserver } from './dispatcher.ts';
import { CampaignEndedError, NoAgentError, TooManyCampaignsError, UnknownCampaignError } from './errors.ts';
import { AgentRegistry, type AgentEntry } from './registry.ts';
import { restoreCampaigns } from './restore-campaigns.ts';
import { admitResult } from './result-admission.ts';
import { markWaiting, WaitingTracker } from './stalls.ts';
import { StaticAgents } from './static-agents.ts';

export interface CampaignEvent {
  campaign: CampaignSnapshot;
  /** The result just applied; absent on the first event and on state changes. */
  result?: MeasureResult;
  /** The agent that measured `result`. */
  agent?: string;
  /** `result` re-measures a config of the search's top (coordinator/remeasure/). */
  remeasure?: true;
}

/** Hooks for metrics (issue 5) and logs; called synchronously, must not throw. */
export interface FarmObserver extends DispatcherObserver {
  /** A search result applied to its campaign. */
  applied?(campaign: Campaign, result: MeasureResult, agent: string): void;
  /** A re-measurement of a top config after the search (never a search result). */
  remeasured?(campaign: Campaign, result: MeasureResult, agent: string): void;
  duplicate?(result: MeasureResult, agent: string): void;
  /** A message from the bus dropped: malformed (contracts/messages/) or not admitted (result-admission.ts). */
  messageDropped?(drop: MessageDrop): void;
  campaignChanged?(campaign: Campaign): void;
}

export interface AgentStatus {
  name: string;
  address: string;
  kind: TargetKind;
  model: string;
  capacity: number;
  inFlight: number;
  state: 'up' | 'lost';
  lastSeenSecondsAgo: number;
  measured: number;
  load: AgentEntry['load'];
  device: AgentEntry['device'];
  source: AgentEntry['source'];
  /** It serves an analytical landscape, not a device (contracts/targets.ts). */
  simulated?: true;
}

export interface FarmOptions {
  bus: CoordinatorBus;
  recordsPath: string;
  /** Campaign state file (the CLI puts it next to the records); none: campaigns live in memory only (embedded). */
  statePath?: string;
  /** host:port of agents to poll over gRPC instead of (or besides) heartbeats. */
  staticAgents?: string[];
  /** An agent is lost after this long without a heartbeat. */
  lostAfterMs?: number;
  /** Time a dispatched candidate may take, per device class. */
  inflightTimeoutMs?: Partial<Record<TargetKind, number>>;
  /** After start, wait this long for agents to say what they hold before issuing new work. */
  settleMs?: number;
  /** Outstanding work per device class = capacity of its agents x this (the extra is queued, ready). */
  windowFactor?: number;
  pollIntervalMs?: number;
  clientFor?: (address: string) => AgentClient;
  /** How agents are dialled by the default clientFor: TLS and the token; default plaintext. */
  agentChannel?: ClientChannel;
  log?: (line: string) => void;
  warn?: (line: string) => void;
  observer?: FarmObserver;
}

const TICK_MS = 250;
/** Campaigns running at once; a submit beyond it is refused until one ends. */
export const MAX_RUNNING_CAMPAIGNS = 64;
/** Longest wait for the bus's backlog before issuing new work anyway. */
const MAX_CATCH_UP_MS = 30_000;

export class Farm {
  readonly registry: AgentRegistry;
  readonly dispatcher: Dispatcher;
  readonly records: RecordLog;
  private readonly store: CampaignStore | null;
  private readonly campaigns = new Map<string, Campaign>();
  private readonly watchers = new Map<string, Set<(event: CampaignEvent) => void>>();
  private readonly log: (line: string) => void;
  private readonly timers: NodeJS.Timeout[] = [];
  private issuing = false;
  private refillScheduled = false;
  private closed = false;
  /** Results for campaigns this coordinator does not know, counted once per campaign in the log. */
  private readonly foreign = new Set<string>();
  /** Persisted campaigns that could not be rebuilt (e.g. an operator this version lacks): kept on disk. */
  private readonly unreadable: PersistedCampaign[] = [];
  private readonly staticAgents: StaticAgents | null;
  /** Which targets were waiting for an agent of their kind when last checked (stalls.ts). */
  private readonly waiting = new WaitingTracker();
  /** Reference and library timings per workload and device, from the log and agents' results. */
  readonly yardsticks: YardstickBook;

  constructor(private readonly options: FarmOptions) {
    this.log = options.log ?? (() => {});
    this.records = RecordLog.open(options.recordsPath, { warn: options.warn });
    this.records.assertAppendable();
    this.yardsticks = YardstickBook.fromLog(this.records.references(), this.records.libraries());
    this.store = options.statePath ? new CampaignStore(options.statePath) : null;
    this.registry = new AgentRegistry({
      lostAfterMs: options.lostAfterMs ?? 3_000,
      clientFor: options.clientFor ?? ((address) => new GrpcAgentClient(address, undefined, options.agentChannel)),
      log: this.log,
      refused: (h, detail) => this.dropMessage({ subjectKind: 'heartbeat', reason: 'address_conflict', detail }),
    });
    const observer = options.observer;
    this.dispatcher = new Dispatcher(this.registry, {
      inflightTimeoutMs: (kind) => options.inflightTimeoutMs?.[kind] ?? targetSpec(kind)!.inflightTimeoutMs,
      log: this.log,
      observer: {
        ...observer,
        dropped: (candidate, reason) => {
          this.campaigns.get(candidate.campaign ?? '')?.forget(candidate.id);
          observer?.dropped?.(candidate, reason);
          this.scheduleRefill();
        },
        forgotten: (id, reason) => {
          this.campaignOf(id)?.forget(id);
          observer?.forgotten?.(id, reason);
          this.scheduleRefill();
        },
      },
    });
    this.registry.listen({
      up: () => this.scheduleRefill(),
      heartbeat: (agent) => this.reclaim(agent),
    });
    this.staticAgents = options.staticAgents?.length
      ? new StaticAgents({ addresses: options.staticAgents, clientFor: options.clientFor ?? ((a) => new GrpcAgentClient(a, undefined, options.agentChannel)), registry: this.registry, closed: () => this.closed })
      : null;
    this.restore();
  }

  /** Subscribes to the bus and starts the timers; new work is issued after the settle period. */
  start(): void {
    const bus = this.options.bus;
    bus.onHeartbeat((h) => {
      if (this.closed) return;
      try {
        this.registry.heartbeat(h, 'heartbeat');
      } catch (err) {
        this.log(`heartbeat of ${h.name} not applied: ${(err as Error)?.message ?? String(err)}`);
      }
    });
    bus.onDropped?.((drop) => this.options.observer?.messageDropped?.(drop));
    bus.onConnection?.((connected) => this.registry.pause(!connected));
    bus.consumeResults((batch) => this.handleResults(batch));
    bus.requestDiscover();
    // Swept after this turn's I/O (setImmediate): when the loop was busy past an agent's limit,
    // the heartbeats that waited in the socket meanwhile count before the silence does, and a
    // busy coordinator does not mark live agents lost (nor their targets waiting).
    this.timers.push(setInterval(() => setImmediate(() => {
      if (this.closed) return;
      this.registry.sweep();
      this.dispatcher.checkDeadlines();
      this.checkWaiting();
    }), TICK_MS));
    const staticAgents = this.staticAgents;
    if (staticAgents) {
      staticAgents.pollAll();
      this.timers.push(setInterval(() => staticAgents.pollAll(), this.options.pollIntervalMs ?? 1_000));
    }
    // Issue new work only once agents had time to report what they hold and the results that
    // waited on the bus are applied: both would otherwise count as free room in the budget.
    const settled = new Promise<void>((resolve) => this.timers.push(setTimeout(resolve, this.options.settleMs ?? 1_500)));
    const caughtUp = bus.caughtUp?.() ?? Promise.resolve();
    const cap = new Promise<void>((resolve) => this.timers.push(setTimeout(resolve, MAX_CATCH_UP_MS)));
    void Promise.all([settled, Promise.race([caughtUp, cap])]).then(() => {
      this.issuing = true;
      this.scheduleRefill();
    });
    for (const t of this.timers) t.unref();
  }

  /** An agent in this process (embedded mode). */
  addLocalAgent(agent: LocalAgent): void {
    const client = new LocalAgentClient(agent);
    this.registry.heartbeat(agent.heartbeat(), 'local', client);
  }

  /** `extras` (seed configs, outside history) are for in-process callers: the wire has no such fields. */
  submit(input: CampaignSpecInput, extras?: CampaignExtras): CampaignSnapshot {
    const { spec, def } = validateSpec(input);
    const running = [...this.campaigns.values()].filter((c) => c.running).length;
    if (running >= MAX_RUNNING_CAMPAIGNS) {
      throw new TooManyCampaignsError(`${running} campaigns are running, the most this coordinator takes at once (${MAX_RUNNING_CAMPAIGNS}); wait for one to end or cancel one`);
    }
    for (const kind of spec.targets) {
      if (!this.registry.up(kind).length) {
        const up = this.registry.up().map((a) => `${a.name} (${a.kind})`);
        throw new NoAgentError(`no agent serves target '${kind}' (agents up: ${up.length ? up.join(', ') : 'none'})`);
      }
    }
    const id = newCampaignId();
    // The explorer filters by the device's limits: those of an agent up now for each target.
    const limits = extras?.limits ?? Object.fromEntries(spec.targets.map((kind) => [kind, this.registry.up(kind)[0].device.limits ?? {}]));
    const campaign = new Campaign(id, spec, def, undefined, [], { ...extras, limits });
    this.campaigns.set(id, campaign);
    this.save();
    this.log(`campaign ${id}: ${def.key} on ${spec.targets.join(', ')}, ${spec.trials} trials each, explorer ${spec.explorer}, seed ${spec.seed}`);
    this.options.observer?.campaignChanged?.(campaign);
    this.scheduleRefill();
    return this.snapshot(campaign);
  }

  get(id: string): CampaignSnapshot {
    return this.snapshot(this.campaign(id));
  }

  list(): CampaignSnapshot[] {
    return [...this.campaigns.values()].map((c) => this.snapshot(c));
  }

  cancel(id: string): CampaignSnapshot {
    const campaign = this.campaign(id);
    if (!campaign.running) throw new CampaignEndedError(`campaign '${id}' has already ended (${campaign.state})`);
    campaign.cancel();
    this.dispatcher.cancelCampaign(id);
    this.save();
    this.log(`campaign ${id} cancelled`);
    this.changed(campaign);
    return this.snapshot(campaign);
  }

  /** Calls `listener` with the campaign now, then on every applied result and state change. */
  watch(id: string, listener: (event: CampaignEvent) => void): () => void {
    const campaign = this.campaign(id);
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(listener);
    listener({ campaign: this.snapshot(campaign) });
    return () => { set!.delete(listener); };
  }

  agents(): AgentStatus[] {
    const now = Date.now();
    return this.registry.list().map((a) => ({
      name: a.name, address: a.address, kind: a.kind, model: a.device.model, capacity: a.capacity,
      inFlight: this.dispatcher.inFlightOn(a.name), state: a.state, lastSeenSecondsAgo: (now - a.lastSeenMs) / 1000,
      measured: a.measured, load: a.load, device: a.device, source: a.source,
      ...(targetSpec(a.kind)?.simulated ? { simulated: true as const } : {}),
    }));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.save();
    this.registry.close();
    this.staticAgents?.close();
  }

  /** The bus's batch: admit, log, apply once, ack; then issue more work. A result that is not
   *  admitted (result-admission.ts) is dropped, counted and acked, and changes nothing. */
  async handleResults(batch: ResultDelivery[]): Promise<void> {
    const byCampaign = new Map<Campaign, ResultDelivery[]>();
    for (const d of batch) {
      const admission = admitResult(d, { campaign: (id) => this.campaigns.get(id), dispatched: (id) => this.dispatcher.dispatched(id) });
      if (admission.verdict === 'drop') {
        this.dropMessage({ subjectKind: 'results', reason: admission.reason, detail: admission.detail, ...(d.subject ? { subject: d.subject } : {}) }, d.result.campaign);
        d.ack();
        continue;
      }
      const { campaign } = admission;
      const id = d.result.candidateId;
      this.dispatcher.complete(id);
      if (admission.verdict === 'duplicate') {
        this.options.observer?.duplicate?.(d.result, d.agent);
        d.ack();
        continue;
      }
      let list = byCampaign.get(campaign);
      if (!list) byCampaign.set(campaign, (list = []));
      list.push(d);
    }
    for (const [campaign, deliveries] of byCampaign) {
      const seen = new Set<string>();
      const fresh: ResultDelivery[] = [];
      for (const d of deliveries) {
        if (seen.has(d.result.candidateId)) { d.ack(); continue; }
        seen.add(d.result.candidateId);
        fresh.push(d);
      }
      const remeasured = new Set<string>();
      try {
        for (const d of fresh) {
          const line = campaign.lineOf(d.result);
          if (line.type !== 'measurement') remeasured.add(d.result.candidateId);
          this.noteYardstick(d.result);
          if (line.type === 'measurement') this.records.append(withoutYardstick(d.result), { explorer: line.explorer });
          else if (line.type === 'remeasure') this.records.appendRemeasure(withoutYardstick(d.result), { round: line.round, of: line.of });
          else this.log(`campaign ${campaign.id}: re-measurement ${d.result.candidateId} has no slot left in the plan (measured again since a restart); not logged`);
        }
      } catch (err) {
        this.log(`cannot append to ${this.options.recordsPath} (${(err as Error).message}); results stay on the bus`);
        for (const d of fresh) d.nak(2_000);
        continue;
      }
      const applied = campaign.apply(fresh);
      for (const d of fresh) {
        const agent = this.registry.get(d.agent);
        if (agent) agent.measured++;
        d.ack();
      }
      const watchers = this.watchers.get(campaign.id);
      for (const d of fresh) {
        if (remeasured.has(d.result.candidateId)) this.options.observer?.remeasured?.(campaign, d.result, d.agent);
        else this.options.observer?.applied?.(campaign, d.result, d.agent);
        if (watchers?.size) {
          const event: CampaignEvent = { campaign: this.snapshot(campaign), result: d.result, agent: d.agent, ...(remeasured.has(d.result.candidateId) ? { remeasure: true as const } : {}) };
          for (const w of watchers) w(event);
        }
      }
      if (applied.length && campaign.settle()) this.finished(campaign);
    }
    this.scheduleRefill();
  }

  /** Logs and counts a dropped message; results of campaigns another coordinator runs are logged once per campaign. */
  private dropMessage(drop: MessageDrop, campaign?: string): void {
    if (drop.reason !== 'unknown_campaign' || !this.foreign.has(campaign ?? '')) {
      if (drop.reason === 'unknown_campaign') this.foreign.add(campaign ?? '');
      this.log(`dropped a ${drop.subjectKind} message (${drop.reason}): ${drop.detail}`);
    }
    this.options.observer?.messageDropped?.(drop);
  }

  private scheduleRefill(): void {
    if (this.refillScheduled || this.closed) return;
    this.refillScheduled = true;
    setImmediate(() => {
      this.refillScheduled = false;
      this.refill();
    });
  }

  /** Tops each device class up to its window, sharing it among running campaigns. */
  private refill(): void {
    if (!this.issuing || this.closed) return;
    const running = [...this.campaigns.values()].filter((c) => c.running);
    const kinds = new Set(running.flatMap((c) => c.targetKinds()));
    let reserved = false;
    const works = [];
    for (const kind of kinds) {
      const capacity = this.registry.up(kind).reduce((n, a) => n + a.capacity, 0);
      const window = Math.ceil(capacity * (this.options.windowFactor ?? 2));
      let free = window - this.dispatcher.queued(kind) - this.dispatcher.inFlight(kind);
      const wanting = running.filter((c) => c.targetKinds().includes(kind));
      for (let i = 0; i < wanting.length && free > 0; i++) {
        const share = Math.ceil(free / (wanting.length - i));
        const { proposals, reserved: r } = wanting[i].propose(kind, share);
        reserved ||= r;
        free -= proposals.length;
        for (const p of proposals) works.push({ candidate: p.candidate, protocol: p.protocol, attempts: 0, ...(p.device ? { device: p.device } : {}) });
      }
    }
    // Ids must be on disk before they leave the process, so none is reused after a restart.
    if (reserved) this.save();
    this.dispatcher.enqueue(works);
    for (const c of running) if (c.settle()) this.finished(c);
  }

  private finished(campaign: Campaign): void {
    this.dispatcher.cancelCampaign(campaign.id);
    this.save();
    const best = this.snapshot(campaign).targets.map((t) => `${t.target} ${t.valid}/${t.measured} valid${t.best ? `, best ${t.best.seconds.toExponential(3)} s` : ''}`);
    this.log(`campaign ${campaign.id} ${campaign.state}: ${best.join('; ')}${campaign.message ? ` (${campaign.message})` : ''}`);
    this.changed(campaign);
  }

  /** Says when a running target starts or stops waiting for an agent of its kind (log, observers,
   *  watchers), and refreshes the watchers of a waiting campaign so its message stays current. */
  private checkWaiting(): void {
    // Not before the settle period is over: after a restart the agents answer within it, and a
    // campaign would otherwise be told waiting, then running, for every restart.
    if (!this.issuing) return;
    const now = Date.now();
    for (const campaign of this.campaigns.values()) {
      if (!campaign.running) { this.waiting.forget(campaign.id); continue; }
      // Cheap test first: the snapshot is only needed where a kind has no agent up, or had none.
      if (!this.waiting.tracks(campaign.id) && campaign.targetKinds().every((k) => this.registry.anyUp(k))) continue;
      const snapshot = this.snapshot(campaign, now);
      const change = this.waiting.check(snapshot, now);
      if (change?.kind === 'changed') {
        for (const t of change.started) this.log(`campaign ${campaign.id}: ${t.message}`);
        for (const kind of change.cleared) {
          const up = this.registry.up(kind).map((a) => a.name);
          this.log(`campaign ${campaign.id}: ${kind} running again${up.length ? ` (${up.join(', ')} up)` : ''}`);
        }
        this.changed(campaign);
      } else if (change?.kind === 'refresh') {
        const event = { campaign: snapshot };
        for (const w of this.watchers.get(campaign.id) ?? []) w(event);
      }
    }
  }

  private changed(campaign: Campaign): void {
    this.options.observer?.campaignChanged?.(campaign);
    const watchers = this.watchers.get(campaign.id);
    if (!watchers?.size) return;
    const event = { campaign: this.snapshot(campaign) };
    for (const w of watchers) w(event);
  }

  /** The campaign that issued a candidate id, if it is one of ours. */
  private campaignOf(candidateId: string): Campaign | undefined {
    const campaign = decodeCandidateId(candidateId)?.campaign;
    return campaign === undefined ? undefined : this.campaigns.get(campaign);
  }

  /** Work an agent holds that this coordinator does not track (it restarted): track it again. */
  private reclaim(agent: AgentEntry): void {
    for (const id of agent.held) {
      const campaign = this.campaignOf(id);
      if (campaign?.reclaim(id)) this.dispatcher.claim(agent, id);
    }
  }

  private restore(): void {
    const persisted = this.store?.load() ?? [];
    if (!persisted.length) return;
    const { campaigns, unreadable } = restoreCampaigns(persisted, [...this.records.all(), ...this.records.remeasures()], this.log);
    for (const c of campaigns) this.campaigns.set(c.id, c);
    this.unreadable.push(...unreadable);
    const running = campaigns.filter((c) => c.running).length;
    this.log(`restored ${persisted.length} campaigns from ${this.options.statePath} (${running} running)`);
  }

  private save(): void {
    this.store?.save([...this.unreadable, ...[...this.campaigns.values()].map((c) => c.persisted())]);
  }

  private campaign(id: string): Campaign {
    const campaign = this.campaigns.get(id);
    if (!campaign) throw new UnknownCampaignError(id);
    return campaign;
  }

  /** The campaign now, its targets without an agent of their kind marked waiting, each best
   *  against its device's yardstick. */
  private snapshot(campaign: Campaign, nowMs = Date.now()): CampaignSnapshot {
    const snapshot = markWaiting(campaign.snapshot((kind) => this.dispatcher.counts(campaign.id, kind)), this.registry, nowMs);
    return markYardsticks(snapshot, this.yardsticks, campaign.def.flops);
  }

  /** A result's yardstick: what is new for its workload and device goes into the log once. */
  private noteYardstick(result: MeasureResult): void {
    if (!result.yardstick) return;
    const fresh = this.yardsticks.note(result.workload, deviceKey(result), result.yardstick);
    const common = {
      workload: result.workload, target: result.target, device: result.device,
      ...(targetSpec(result.target)?.simulated ? { simulated: true } : {}),
    };
    if (fresh.referenceSeconds !== undefined) this.records.appendReference({ ...common, toolchain: result.toolchain, median: fresh.referenceSeconds });
    if (fresh.library) this.records.appendLibrary({ ...common, library: fresh.library.name, median: fresh.library.seconds });
    if (fresh.libraryMissing) this.log(`no library figure for ${result.workload} on ${result.device.name}: ${fresh.libraryMissing}`);
  }
}

/** A result as the log keeps it: its yardstick goes into `reference` and `library` lines, once. */
function withoutYardstick(result: MeasureResult): MeasureResult {
  if (!result.yardstick) return result;
  const { yardstick: _, ...rest } = result;
  return rest;
}

/** Subject-safe and sortable by creation time: `c` + base-36 time + random. */
function newCampaignId(): string {
  return `c${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}
