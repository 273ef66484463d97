// A queue per device class; each agent is kept at its capacity; every dispatched candidate has a
// deadline. Work of a lost agent, of a failed Measure call or past its deadline goes back to the
// front of its queue. A candidate leaves the dispatcher when its result is applied (complete).
// Work pinned to a device (a re-measurement) goes only to an agent of that device, and is dropped
// when no agent of it is up.
import { asAgentCallError, dropsWork } from '../../contracts/agent-call-error.ts';
import { decodeCandidateId } from '../../contracts/candidate-id.ts';
import type { RequeueReason } from '../../contracts/requeue-reason.ts';
import type { Candidate, TargetKind, TimingProtocol } from '../../contracts/result.ts';
import { deviceKey } from '../keys.ts';
import type { AgentEntry, AgentRegistry } from './registry.ts';

export interface Work {
  candidate: Candidate;
  protocol: TimingProtocol;
  /** Times it was sent to an agent. */
  attempts: number;
  /** Only an agent of this device (deviceKey) may measure it. */
  device?: string;
}

interface InFlight {
  /** Null for work reclaimed from an agent's heartbeat after a coordinator restart (config unknown here). */
  work: Work | null;
  candidateId: string;
  kind: TargetKind;
  agent: string;
  deadlineMs: number;
}

/** What the dispatcher knows of a candidate it holds: what was issued (null for work reclaimed from
 *  an agent after a coordinator restart) and every agent it was sent to. */
export interface Dispatched {
  candidate: Candidate | null;
  agents: ReadonlySet<string>;
}

/** Hooks for the farm and for metrics; called synchronously. */
export interface DispatcherObserver {
  /** Work sent back to the queue (lost agent, failed call, deadline). */
  requeued?(work: Work, reason: RequeueReason): void;
  /** Work that cannot be measured by any agent (refused as invalid); the campaign replaces it. */
  dropped?(candidate: Candidate, reason: string): void;
  /** Reclaimed work whose agent was lost: its config is unknown, the campaign must forget it. */
  forgotten?(candidateId: string, reason: RequeueReason): void;
  /** `works`: the candidates sent (metrics time each one until its result is applied). */
  dispatched?(agent: AgentEntry, count: number, works?: readonly Work[]): void;
}

export interface DispatcherOptions {
  /** Time a dispatched candidate may take before it is sent elsewhere, per device class. */
  inflightTimeoutMs: (kind: TargetKind) => number;
  /** Pause before sending more work to an agent whose Measure call failed. */
  backoffMs?: number;
  log?: (line: string) => void;
  observer?: DispatcherObserver;
}

export class Dispatcher {
  private readonly queues = new Map<TargetKind, Work[]>();
  private readonly inflight = new Map<string, InFlight>();
  private readonly byAgent = new Map<string, Set<string>>();
  /** Every candidate held (queued or in flight), until complete, dropped or forgotten. */
  private readonly issued = new Map<string, { candidate: Candidate | null; agents: Set<string> }>();
  private pumpScheduled = false;

  constructor(private readonly registry: AgentRegistry, private readonly options: DispatcherOptions) {
    registry.listen({
      up: () => this.schedulePump(),
      lost: (agent, reason) => this.agentLost(agent.name, reason),
    });
  }

  enqueue(works: Work[]): void {
    for (const w of works) {
      this.queue(w.candidate.target).push(w);
      if (!this.issued.has(w.candidate.id)) this.issued.set(w.candidate.id, { candidate: w.candidate, agents: new Set() });
    }
    if (works.length) this.schedulePump();
  }

  /** The candidate as issued and the agents it was sent to; undefined when the dispatcher does not hold it. */
  dispatched(candidateId: string): Dispatched | undefined {
    return this.issued.get(candidateId);
  }

  /** The candidate's result was applied (or is no longer wanted): forget it everywhere. */
  complete(candidateId: string): void {
    this.issued.delete(candidateId);
    const f = this.inflight.get(candidateId);
    if (f) {
      this.inflight.delete(candidateId);
      this.byAgent.get(f.agent)?.delete(candidateId);
      this.schedulePump();
      return;
    }
    // Requeued after a deadline, then its late result arrived: take it out of the queue.
    for (const q of this.queues.values()) {
      const i = q.findIndex((w) => w.candidate.id === candidateId);
      if (i >= 0) { q.splice(i, 1); return; }
    }
  }

  /** An agent says it holds a candidate the dispatcher did not send it (coordinator restart). */
  claim(agent: AgentEntry, candidateId: string): void {
    if (this.inflight.has(candidateId)) return;
    this.issued.set(candidateId, { candidate: null, agents: new Set([agent.name]) });
    this.track({ work: null, candidateId, kind: agent.kind, agent: agent.name, deadlineMs: Date.now() + this.options.inflightTimeoutMs(agent.kind) });
  }

  /** Drops a campaign's queued work and tells agents to drop theirs; returns the candidate ids removed. */
  cancelCampaign(campaign: string): string[] {
    const removed: string[] = [];
    for (const [kind, q] of this.queues) {
      const keep = q.filter((w) => w.candidate.campaign !== campaign);
      q.filter((w) => w.candidate.campaign === campaign).forEach((w) => { removed.push(w.candidate.id); this.issued.delete(w.candidate.id); });
      this.queues.set(kind, keep);
    }
    const agents = new Set<string>();
    for (const f of [...this.inflight.values()]) {
      if (campaignOf(f) !== campaign) continue;
      agents.add(f.agent);
      this.complete(f.candidateId);
      removed.push(f.candidateId);
    }
    for (const name of agents) {
      this.registry.get(name)?.client.cancel({ campaign }).catch(() => { /* it will publish; results are ignored */ });
    }
    return removed;
  }

  queued(kind: TargetKind): number { return this.queues.get(kind)?.length ?? 0; }

  inFlight(kind?: TargetKind): number {
    if (!kind) return this.inflight.size;
    let n = 0;
    for (const f of this.inflight.values()) if (f.kind === kind) n++;
    return n;
  }

  inFlightOn(agent: string): number { return this.byAgent.get(agent)?.size ?? 0; }

  /** Per campaign and target: queued and in flight (for progress). */
  counts(campaign: string, kind: TargetKind): { queued: number; inFlight: number } {
    const queued = (this.queues.get(kind) ?? []).filter((w) => w.candidate.campaign === campaign).length;
    let inFlight = 0;
    for (const f of this.inflight.values()) if (f.kind === kind && campaignOf(f) === campaign) inFlight++;
    return { queued, inFlight };
  }

  /** Deadlines: work past its deadline goes back to the queue; the agent is asked to drop it. */
  checkDeadlines(nowMs = Date.now()): void {
    for (const f of [...this.inflight.values()]) {
      if (f.deadlineMs > nowMs) continue;
      this.untrack(f);
      const agent = this.registry.get(f.agent);
      agent?.client.cancel({ ids: [f.candidateId] }).catch(() => {});
      this.giveBack(f, { cause: 'deadline', agent: f.agent });
    }
    this.schedulePump();
  }

  schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const now = Date.now();
    for (const [kind, q] of this.queues) {
      if (!q.length) continue;
      // The emptiest agents first, so work spreads evenly.
      // An agent that still has work gets more only once half its capacity is free: one Measure
      // call then carries several candidates instead of one call per finished candidate.
      const agents = this.registry.up(kind).filter((a) => a.backoffUntilMs <= now)
        .map((a) => ({ a, busy: this.inFlightOn(a.name), free: a.capacity - this.inFlightOn(a.name) }))
        .filter((x) => x.free > 0 && (x.busy === 0 || x.free >= Math.ceil(x.a.capacity / 2)))
        .sort((x, y) => y.free - x.free);
      const { plain, waiting } = this.sendPinned(kind, q, agents, now);
      // Spread the queue evenly: with less work than room, every agent gets a share, not the first few all of it.
      const open = agents.filter((x) => x.free > 0);
      for (let i = 0; i < open.length && plain.length; i++) {
        const { a, free } = open[i];
        const share = Math.ceil(plain.length / (open.length - i));
        const batch = plain.splice(0, Math.min(free, share, a.maxBatch || free));
        this.send(a, batch, now);
      }
      this.queues.set(kind, [...waiting, ...plain]);
    }
  }

  /** Sends pinned work to free agents of its device (taking from their `free`), drops what no agent
   *  up can measure, and returns the unpinned work and the pinned work that waits for room. */
  private sendPinned(kind: TargetKind, q: Work[], agents: { a: AgentEntry; free: number }[], now: number): { plain: Work[]; waiting: Work[] } {
    const plain: Work[] = [], waiting: Work[] = [];
    const batches = new Map<AgentEntry, Work[]>();
    const up = new Set(this.registry.up(kind).map((a) => deviceKey({ target: kind, device: a.device })));
    for (const w of q) {
      if (!w.device) { plain.push(w); continue; }
      if (!up.has(w.device)) {
        this.issued.delete(w.candidate.id);
        this.options.observer?.dropped?.(w.candidate, `no agent of its device (${w.device}) is up`);
        continue;
      }
      const slot = agents.find((x) => x.free > 0 && (batches.get(x.a)?.length ?? 0) < (x.a.maxBatch || Infinity)
        && deviceKey({ target: kind, device: x.a.device }) === w.device);
      if (!slot) { waiting.push(w); continue; }
      slot.free--;
      const batch = batches.get(slot.a);
      if (batch) batch.push(w); else batches.set(slot.a, [w]);
    }
    for (const [agent, batch] of batches) this.send(agent, batch, now);
    return { plain, waiting };
  }

  private send(agent: AgentEntry, batch: Work[], now: number): void {
    const deadlineMs = now + this.options.inflightTimeoutMs(agent.kind);
    for (const w of batch) {
      w.attempts++;
      this.issued.get(w.candidate.id)?.agents.add(agent.name);
      this.track({ work: w, candidateId: w.candidate.id, kind: agent.kind, agent: agent.name, deadlineMs });
    }
    this.options.observer?.dispatched?.(agent, batch.length, batch);
    // One protocol per call: a batch mixes protocols only across campaigns, so group by it.
    for (const group of groupByProtocol(batch)) {
      agent.client.measure(group.map((w) => w.candidate), group[0].protocol).catch((err: unknown) => this.sendFailed(agent, group, err));
    }
  }

  private sendFailed(agent: AgentEntry, group: Work[], err: unknown): void {
    // The same decision for a gRPC status and an in-process refusal: both arrive as AgentCallError.
    const failure = asAgentCallError(err);
    const message = failure.message;
    const refused = dropsWork(failure.code);
    this.options.log?.(`Measure on ${agent.name} failed (${message}); ${refused ? 'dropping' : 'requeueing'} ${group.length} candidates`);
    if (!refused) agent.backoffUntilMs = Date.now() + (this.options.backoffMs ?? 1_000);
    for (const w of group) {
      const f = this.inflight.get(w.candidate.id);
      if (!f || f.agent !== agent.name) continue; // already completed or moved
      this.untrack(f);
      if (refused) {
        this.issued.delete(w.candidate.id);
        this.options.observer?.dropped?.(w.candidate, message);
      }
      else this.giveBack(f, { cause: 'call_failed', agent: agent.name });
    }
    this.schedulePump();
  }

  private agentLost(name: string, reason: string): void {
    const ids = [...(this.byAgent.get(name) ?? [])];
    for (const id of ids) {
      const f = this.inflight.get(id);
      if (f) { this.untrack(f); this.giveBack(f, { cause: 'agent_lost', agent: name, detail: reason }); }
    }
    if (ids.length) this.options.log?.(`re-dispatching ${ids.length} candidates of agent ${name}`);
    this.schedulePump();
  }

  private giveBack(f: InFlight, reason: RequeueReason): void {
    if (!f.work) {
      this.issued.delete(f.candidateId);
      this.options.observer?.forgotten?.(f.candidateId, reason);
      return;
    }
    this.queue(f.kind).unshift(f.work);
    this.options.observer?.requeued?.(f.work, reason);
  }

  private track(f: InFlight): void {
    this.inflight.set(f.candidateId, f);
    let set = this.byAgent.get(f.agent);
    if (!set) this.byAgent.set(f.agent, (set = new Set()));
    set.add(f.candidateId);
  }

  private untrack(f: InFlight): void {
    this.inflight.delete(f.candidateId);
    this.byAgent.get(f.agent)?.delete(f.candidateId);
  }

  private queue(kind: TargetKind): Work[] {
    let q = this.queues.get(kind);
    if (!q) this.queues.set(kind, (q = []));
    return q;
  }
}

function campaignOf(f: InFlight): string | undefined {
  return f.work ? f.work.candidate.campaign : decodeCandidateId(f.candidateId)?.campaign;
}

function groupByProtocol(batch: Work[]): Work[][] {
  const groups = new Map<string, Work[]>();
  for (const w of batch) {
    const key = JSON.stringify(w.protocol);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(w);
  }
  return [...groups.values()];
}
