// The agent's work queue: candidates wait here, are measured `concurrency` at a time (the backend
// itself keeps timing exclusive while compiles overlap), and each result is handed to the
// publisher and held until the bus acknowledges it.
import { AgentCallError } from '../contracts/agent-call-error.ts';
import type { Backend } from '../contracts/backend.ts';
import type { Candidate, MeasureResult, TimingProtocol } from '../contracts/result.ts';
import { YardstickTimer } from './yardstick-timer.ts';

export interface QueuedCandidate {
  candidate: Candidate;
  protocol: TimingProtocol;
}

interface Entry extends QueuedCandidate {
  /** Order of arrival, for in-order publishing. */
  seq: number;
}

/** Hooks for observers (metrics); called synchronously, must not throw. */
export interface MeasureQueueObserver {
  measured?(result: MeasureResult, elapsedMs: number): void;
  published?(result: MeasureResult, elapsedMs: number): void;
}

export interface MeasureQueueOptions {
  /** Candidates measured at once (compiles overlap; the backend serialises timing). */
  concurrency: number;
  /** Most candidates held at once (queued + measuring + unpublished). */
  maxHeld: number;
  /** Publish results in the order the candidates arrived (embedded mode: the explorer then sees the
   *  same sequence of results on every run, whatever finished first). */
  inOrder?: boolean;
  observer?: MeasureQueueObserver;
  /** false: results carry no yardstick (default true: contracts/yardstick.ts). */
  yardstick?: boolean;
  log?: (line: string) => void;
}

export class QueueFullError extends AgentCallError {
  override name = 'QueueFullError';
  constructor(message: string) { super('BUSY', message); }
}

export class MeasureQueue {
  private readonly queue: Entry[] = [];
  private nextSeq = 0;
  /** In-order publishing: finished results (null: cancelled) waiting for earlier ones. */
  private readonly finished = new Map<number, MeasureResult | null>();
  private nextToPublish = 0;
  private readonly measuring = new Set<string>();
  /** Measured, not yet acknowledged by the bus: id → when measuring ended (Date.now()). */
  private readonly unpublished = new Map<string, number>();
  private readonly idle: (() => void)[] = [];
  private closed = false;
  private readonly yardsticks: YardstickTimer | null;

  constructor(
    private readonly backend: Backend,
    private readonly publish: (result: MeasureResult) => Promise<void>,
    private readonly options: MeasureQueueOptions,
  ) {
    this.yardsticks = options.yardstick === false ? null : new YardstickTimer(backend, options.log);
  }

  /** Queues the candidates it does not hold yet; returns how many were new. */
  enqueue(items: QueuedCandidate[]): number {
    const held = new Set(this.heldIds());
    const fresh = items.filter((item) => {
      if (held.has(item.candidate.id)) return false;
      held.add(item.candidate.id);
      return true;
    });
    if (this.heldCount() + fresh.length > this.options.maxHeld) {
      throw new QueueFullError(`queue full: holding ${this.heldCount()} candidates, ${fresh.length} more would exceed ${this.options.maxHeld}`);
    }
    this.queue.push(...fresh.map((f) => ({ ...f, seq: this.nextSeq++ })));
    this.pump();
    return fresh.length;
  }

  /** Drops queued candidates of a campaign and/or with the given ids; returns how many. */
  cancel(filter: { campaign?: string; ids?: string[] }): number {
    const ids = new Set(filter.ids ?? []);
    let removed = 0;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const c = this.queue[i].candidate;
      if ((filter.campaign && c.campaign === filter.campaign) || ids.has(c.id)) {
        const [entry] = this.queue.splice(i, 1);
        this.skip(entry);
        removed++;
      }
    }
    return removed;
  }

  load(): { queued: number; measuring: number; unpublished: number } {
    return { queued: this.queue.length, measuring: this.measuring.size, unpublished: this.unpublished.size };
  }

  heldIds(): string[] {
    return [...this.queue.map((q) => q.candidate.id), ...this.measuring, ...this.unpublished.keys()];
  }

  heldCount(): number {
    return this.queue.length + this.measuring.size + this.unpublished.size;
  }

  /** How long the oldest measured result has waited for the bus (0 when none waits). */
  oldestUnpublishedMs(nowMs = Date.now()): number {
    let oldest = nowMs;
    for (const since of this.unpublished.values()) oldest = Math.min(oldest, since);
    return nowMs - oldest;
  }

  /** Stops taking queued work; resolves once what is being measured is measured and published, or after timeoutMs. */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    for (const entry of this.queue.splice(0)) this.skip(entry);
    if (this.measuring.size + this.unpublished.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.idle.push(resolve)),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); }),
    ]);
    clearTimeout(timer);
  }

  /** In-order publishing must not wait for a candidate that will never be measured. */
  private skip(entry: Entry): void {
    if (!this.options.inOrder) return;
    this.finished.set(entry.seq, null);
    void this.flushInOrder();
  }

  private pump(): void {
    while (!this.closed && this.measuring.size < this.options.concurrency && this.queue.length) {
      const item = this.queue.shift()!;
      this.measuring.add(item.candidate.id);
      void this.measureOne(item);
    }
  }

  private async measureOne({ candidate, protocol, seq }: Entry): Promise<void> {
    const started = performance.now();
    const measured = await this.backend.measure(candidate, protocol).catch((err: unknown) => failure(candidate, this.backend, err));
    const yardstick = await this.yardsticks?.of(candidate.workload, protocol);
    const result = yardstick && Object.keys(yardstick).length ? { ...measured, yardstick } : measured;
    this.measuring.delete(candidate.id);
    this.unpublished.set(candidate.id, Date.now());
    this.options.observer?.measured?.(result, performance.now() - started);
    this.pump();
    if (!this.options.inOrder) {
      await this.publishOne(result);
      return;
    }
    this.finished.set(seq, result);
    await this.flushInOrder();
  }

  /** Publishes every result whose predecessors are all published or skipped. */
  private async flushInOrder(): Promise<void> {
    const ready: MeasureResult[] = [];
    while (this.finished.has(this.nextToPublish)) {
      const r = this.finished.get(this.nextToPublish);
      this.finished.delete(this.nextToPublish++);
      if (r) ready.push(r);
    }
    await Promise.all(ready.map((r) => this.publishOne(r)));
  }

  private async publishOne(result: MeasureResult): Promise<void> {
    const publishStarted = performance.now();
    try {
      await this.publish(result);
      this.options.observer?.published?.(result, performance.now() - publishStarted);
    } catch {
      // A closed bus (the agent is shutting down: the coordinator re-dispatches) or a result the
      // bus refused even as an error result: either way, never retried.
    }
    this.unpublished.delete(result.candidateId);
    if (this.measuring.size + this.unpublished.size === 0) this.idle.splice(0).forEach((f) => f());
  }
}

/** Backends never throw for a bad candidate; if one does anyway, the candidate still gets a result. */
function failure(candidate: Candidate, backend: Backend, err: unknown): MeasureResult {
  const device = backend.describe();
  return {
    candidateId: candidate.id, ...(candidate.campaign ? { campaign: candidate.campaign } : {}),
    workload: candidate.workload, target: candidate.target, config: candidate.config,
    seconds: [], median: null, error: { code: 'UNKNOWN', message: `backend threw: ${(err as Error)?.message ?? String(err)}` },
    device, toolchain: device.toolchain, at: new Date().toISOString(),
  };
}
