// One device agent without its transport: a backend, a measure queue, heartbeats on the bus.
// The gRPC server (server.ts) and the embedded mode's in-process client both drive this class.
import { AgentCallError } from '../contracts/agent-call-error.ts';
import type { Backend } from '../contracts/backend.ts';
import { PublishRefusedError, type AgentBus, type AgentHeartbeat } from '../contracts/bus.ts';
import { fitForBus, unpublishable } from '../contracts/messages/fit-result.ts';
import type { LocalAgent } from '../contracts/local-agent.ts';
import { DEFAULT_PROTOCOL, type Candidate, type DeviceInfo, type MeasureResult, type TimingProtocol } from '../contracts/result.ts';
import { targetSpec } from '../contracts/targets.ts';
import { MeasureQueue, type MeasureQueueObserver } from './measure-queue.ts';

export interface AgentOptions {
  name: string;
  backend: Backend;
  bus: AgentBus;
  /** host:port where its AgentService listens; empty in-process. */
  address?: string;
  /** Candidates the coordinator should keep in flight here. */
  capacity?: number;
  /** Candidates measured at once (compiles overlap; timing stays exclusive in the backend). */
  concurrency?: number;
  maxBatch?: number;
  /** Most candidates held at once; a batch beyond it is refused. */
  maxHeld?: number;
  heartbeatMs?: number;
  /** A result unpublished this long marks the agent stalled in its heartbeats (no work is sent to it). */
  publishStallMs?: number;
  log?: (line: string) => void;
  /** Used when a Measure request carries no protocol. */
  protocol?: TimingProtocol;
  /** Publish results in arrival order of their candidates (embedded mode's reproducibility). */
  publishInOrder?: boolean;
  /** False when the caller keeps using the backend after the agent stops (embedded mode). */
  ownsBackend?: boolean;
  observer?: MeasureQueueObserver;
}

/** Defaults per device kind (contracts/targets.ts): a CPU compiles one candidate while it times another. */
export function defaultCapacity(kind: Candidate['target']): { capacity: number; concurrency: number } {
  return targetSpec(kind)!.defaultCapacity;
}

// The agent's refusals are AgentCallErrors, so an in-process caller sees the codes a gRPC caller
// reads from the status the server maps them to.
export class BatchTooLargeError extends AgentCallError {
  override name = 'BatchTooLargeError';
  constructor(message: string) { super('INVALID', message); }
}
export class WrongDeviceError extends AgentCallError {
  override name = 'WrongDeviceError';
  constructor(message: string) { super('REFUSED', message); }
}
export class AgentStoppingError extends AgentCallError {
  override name = 'AgentStoppingError';
  constructor(message: string) { super('UNAVAILABLE', message); }
}

const MAX_HELD_IDS_IN_HEARTBEAT = 2_000;
const DEFAULT_PUBLISH_STALL_MS = 30_000;

export class Agent implements LocalAgent {
  readonly name: string;
  readonly capacity: number;
  readonly maxBatch: number;
  readonly heartbeatMs: number;
  readonly startedAt = new Date().toISOString();
  readonly defaultProtocol: TimingProtocol;
  address: string;
  private readonly queue: MeasureQueue;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly options: AgentOptions) {
    const defaults = defaultCapacity(options.backend.kind);
    this.name = options.name;
    this.address = options.address ?? '';
    this.capacity = options.capacity ?? defaults.capacity;
    this.maxBatch = options.maxBatch ?? 256;
    this.heartbeatMs = options.heartbeatMs ?? 1_000;
    this.defaultProtocol = options.protocol ?? DEFAULT_PROTOCOL;
    this.queue = new MeasureQueue(options.backend, (result) => this.publish(result), {
      concurrency: options.concurrency ?? defaults.concurrency,
      maxHeld: options.maxHeld ?? Math.max(this.capacity * 4, this.maxBatch),
      inOrder: options.publishInOrder,
      observer: options.observer,
      log: options.log,
    });
  }

  get kind(): Candidate['target'] { return this.options.backend.kind; }
  get device(): DeviceInfo { return this.options.backend.describe(); }

  /** Starts heartbeats (and answers discovery requests at once). */
  start(): void {
    this.options.bus.onDiscover(() => this.beat());
    this.beat();
    this.timer = setInterval(() => this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  heartbeat(): AgentHeartbeat {
    const waitingMs = this.queue.oldestUnpublishedMs();
    const stalled = waitingMs > (this.options.publishStallMs ?? DEFAULT_PUBLISH_STALL_MS);
    return {
      name: this.name, address: this.address, device: this.device, capacity: this.capacity, maxBatch: this.maxBatch,
      load: this.queue.load(), held: this.queue.heldIds().slice(0, MAX_HELD_IDS_IN_HEARTBEAT),
      startedAt: this.startedAt, intervalMs: this.heartbeatMs,
      ...(stalled ? { stalled: `a result has waited ${Math.round(waitingMs / 1000)} s for the bus` } : {}),
    };
  }

  /** Publishes what the bus takes (fit-result.ts); one the bus refuses for good goes out once
   *  more as an error result, never retried forever. */
  private async publish(result: MeasureResult): Promise<void> {
    try {
      await this.options.bus.publishResult(fitForBus(result, this.name), this.name);
    } catch (err) {
      if (!(err instanceof PublishRefusedError)) throw err;
      this.options.log?.(`result of ${result.candidateId} refused by the bus (${err.message}); publishing an error result instead`);
      await this.options.bus.publishResult(unpublishable(result, err.message), this.name);
    }
  }

  /** Queues a batch; candidates already held are skipped. Throws for a batch it cannot take. */
  measure(candidates: Candidate[], protocol: TimingProtocol = this.defaultProtocol): { accepted: number; queued: number } {
    if (this.stopped) throw new AgentStoppingError(`agent ${this.name} is shutting down`);
    if (candidates.length > this.maxBatch) {
      throw new BatchTooLargeError(`batch of ${candidates.length} candidates exceeds max_batch ${this.maxBatch}`);
    }
    candidates.forEach((c, i) => {
      if (c.target !== this.kind) throw new WrongDeviceError(`candidates[${i}] targets '${c.target}' but agent ${this.name} measures '${this.kind}'`);
    });
    const accepted = this.queue.enqueue(candidates.map((candidate) => ({ candidate, protocol })));
    return { accepted, queued: this.queue.load().queued };
  }

  cancel(filter: { campaign?: string; ids?: string[] }): number {
    return this.queue.cancel(filter);
  }

  load() { return this.queue.load(); }
  heldIds(): string[] { return this.queue.heldIds(); }

  /** Says goodbye on the bus, drops queued work, waits for measuring and publishing up to timeoutMs. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.queue.close(timeoutMs);
    this.options.bus.publishHeartbeat({ ...this.heartbeat(), leaving: true });
    if (this.options.ownsBackend !== false) await this.options.backend.close?.();
  }

  private beat(): void {
    if (!this.stopped) this.options.bus.publishHeartbeat(this.heartbeat());
  }
}
