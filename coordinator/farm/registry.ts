// The agents the coordinator knows: from heartbeats, a static list, or in-process. An agent whose
// heartbeats stop is lost; one that comes back with a new start time has restarted (its queue is
// gone). Listeners hear both, so the dispatcher can put the agent's work back in the queue.
import type { AgentHeartbeat, AgentLoad } from '../../contracts/bus.ts';
import type { DeviceInfo, TargetKind } from '../../contracts/result.ts';
import type { AgentClient } from './agent-client.ts';

export type AgentSource = 'heartbeat' | 'static' | 'local';

export interface AgentEntry {
  name: string;
  address: string;
  kind: TargetKind;
  device: DeviceInfo;
  capacity: number;
  maxBatch: number;
  load: AgentLoad;
  /** Candidate ids the agent said it holds, as of its last heartbeat. */
  held: string[];
  startedAt: string;
  source: AgentSource;
  state: 'up' | 'lost';
  /** Date.now() of the last heartbeat or successful poll. */
  lastSeenMs: number;
  /** Date.now() when it was last marked lost (a waiting target names how long ago). */
  lostAtMs?: number;
  intervalMs: number;
  /** Results from it applied by this coordinator. */
  measured: number;
  client: AgentClient;
  /** Do not send it work before this time (after a failed Measure call). */
  backoffUntilMs: number;
}

export interface RegistryListener {
  /** A new agent, or a lost one back (`restarted`: its earlier work is gone). */
  up?(agent: AgentEntry, restarted: boolean): void;
  lost?(agent: AgentEntry, reason: string): void;
  heartbeat?(agent: AgentEntry): void;
}

export interface RegistryOptions {
  /** Lost after this long without a heartbeat (at least 3 heartbeat intervals). */
  lostAfterMs: number;
  clientFor: (address: string) => AgentClient;
  log?: (line: string) => void;
  /** A heartbeat not applied (it would take over an agent that is up elsewhere). */
  refused?: (heartbeat: AgentHeartbeat, detail: string) => void;
}

export class AgentRegistry {
  private readonly agents = new Map<string, AgentEntry>();
  private readonly listeners: RegistryListener[] = [];
  private paused = false;

  constructor(private readonly options: RegistryOptions) {}

  listen(listener: RegistryListener): void { this.listeners.push(listener); }

  get(name: string): AgentEntry | undefined { return this.agents.get(name); }

  list(): AgentEntry[] { return [...this.agents.values()].sort((a, b) => a.name.localeCompare(b.name)); }

  /** Agents that are up and serve `kind`. */
  up(kind?: TargetKind): AgentEntry[] {
    return this.list().filter((a) => a.state === 'up' && (!kind || a.kind === kind));
  }

  /** True when an agent of `kind` is up (no list built: called for every snapshot). */
  anyUp(kind: TargetKind): boolean {
    for (const a of this.agents.values()) if (a.state === 'up' && a.kind === kind) return true;
    return false;
  }

  /** Record a heartbeat (or a poll's answer); an in-process agent passes its own client. Undefined
   *  when refused: a heartbeat from another address for an agent that is up is never applied (not
   *  even `leaving`), so a peer cannot take over or retire an agent by its name. */
  heartbeat(h: AgentHeartbeat, source: AgentSource, client?: AgentClient): AgentEntry | undefined {
    const now = Date.now();
    let entry = this.agents.get(h.name);
    if (entry && source === 'heartbeat' && entry.source === 'heartbeat' && entry.state === 'up' && h.address !== entry.address) {
      const detail = `heartbeat for agent ${h.name} from ${JSON.stringify(h.address.slice(0, 64))} ignored: it is up at ${entry.address || 'in-process'}`;
      this.options.log?.(detail);
      this.options.refused?.(h, detail);
      return undefined;
    }
    if (h.stalled && entry?.state === 'up') {
      this.markLost(entry, `it cannot publish results (${h.stalled})`);
      Object.assign(entry, { lastSeenMs: now, load: h.load, held: h.held });
      return entry;
    }
    if (h.leaving) {
      if (entry && entry.state === 'up') this.markLost(entry, 'shut down');
      return entry ?? this.create(h, source, client, now, 'lost');
    }
    if (h.stalled) return entry ?? this.create(h, source, client, now, 'lost');
    if (!entry) {
      entry = this.create(h, source, client, now, 'up');
      this.options.log?.(`agent ${h.name} (${h.device.kind}) up at ${h.address || 'in-process'}, capacity ${h.capacity}`);
      this.listeners.forEach((l) => l.up?.(entry!, false));
      this.listeners.forEach((l) => l.heartbeat?.(entry!));
      return entry;
    }
    const restarted = entry.startedAt !== h.startedAt;
    const wasLost = entry.state === 'lost';
    // An agent known from a static list or in-process keeps the address and client it was
    // given; its NATS heartbeats only refresh its load and liveness.
    if (source === 'static' && entry.source === 'heartbeat') {
      // Listed with --agent: the list's address wins over the one it advertises.
      entry.source = 'static';
      if (client && client !== entry.client) {
        entry.client.close();
        entry.client = client;
        entry.address = h.address;
      }
    }
    const address = source === entry.source ? h.address : entry.address;
    if (address !== entry.address && source === 'heartbeat') {
      entry.client.close();
      entry.client = client ?? this.options.clientFor(address);
    }
    Object.assign(entry, {
      address, kind: h.device.kind, device: h.device, capacity: h.capacity, maxBatch: h.maxBatch,
      load: h.load, held: h.held, startedAt: h.startedAt, lastSeenMs: now, intervalMs: h.intervalMs, state: 'up',
    });
    if (restarted && !wasLost) this.listeners.forEach((l) => l.lost?.(entry!, 'restarted'));
    if (restarted || wasLost) {
      this.options.log?.(`agent ${h.name} ${restarted ? 'restarted' : 'back'} at ${h.address || 'in-process'}`);
      this.listeners.forEach((l) => l.up?.(entry!, restarted));
    }
    this.listeners.forEach((l) => l.heartbeat?.(entry!));
    return entry;
  }

  /** Marks agents lost whose heartbeats stopped. Skipped while paused (the coordinator itself is cut off). */
  sweep(nowMs = Date.now()): void {
    if (this.paused) return;
    for (const entry of this.agents.values()) {
      if (entry.state !== 'up' || entry.source === 'local') continue;
      const limit = Math.max(this.options.lostAfterMs, 3 * entry.intervalMs);
      if (nowMs - entry.lastSeenMs > limit) this.markLost(entry, `no heartbeat for ${nowMs - entry.lastSeenMs} ms`);
    }
  }

  /** While the coordinator is disconnected from the bus, silence says nothing about the agents. */
  pause(paused: boolean): void {
    if (this.paused && !paused) {
      const now = Date.now();
      for (const entry of this.agents.values()) entry.lastSeenMs = Math.max(entry.lastSeenMs, now);
    }
    this.paused = paused;
  }

  markLost(entry: AgentEntry, reason: string): void {
    if (entry.state === 'lost') return;
    entry.state = 'lost';
    entry.lostAtMs = Date.now();
    this.options.log?.(`agent ${entry.name} lost: ${reason}`);
    this.listeners.forEach((l) => l.lost?.(entry, reason));
  }

  close(): void {
    for (const entry of this.agents.values()) entry.client.close();
  }

  private create(h: AgentHeartbeat, source: AgentSource, client: AgentClient | undefined, now: number, state: 'up' | 'lost'): AgentEntry {
    const entry: AgentEntry = {
      name: h.name, address: h.address, kind: h.device.kind, device: h.device, capacity: h.capacity, maxBatch: h.maxBatch,
      load: h.load, held: h.held, startedAt: h.startedAt, source, state, lastSeenMs: now, intervalMs: h.intervalMs,
      measured: 0, client: client ?? this.options.clientFor(h.address), backoffUntilMs: 0,
      ...(state === 'lost' ? { lostAtMs: now } : {}),
    };
    this.agents.set(h.name, entry);
    return entry;
  }
}
