// The in-process bus of embedded mode: the same contract as NATS JetStream, held in memory.
// Results wait until a consumer exists, are delivered in batches, and stay until acked.
import { BusClosedError, type AgentHeartbeat, type Bus, type ResultDelivery } from './bus.ts';
import type { MeasureResult } from './result.ts';

interface Pending { result: MeasureResult; agent: string }

export class MemoryBus implements Bus {
  private readonly waiting: Pending[] = [];
  private resultHandler?: (batch: ResultDelivery[]) => Promise<void>;
  private readonly heartbeatHandlers: ((h: AgentHeartbeat) => void)[] = [];
  private readonly discoverHandlers: (() => void)[] = [];
  private scheduled = false;
  private delivering = false;
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  async publishResult(result: MeasureResult, agent: string): Promise<void> {
    if (this.closed) throw new BusClosedError();
    this.waiting.push({ result, agent });
    this.schedule();
  }

  publishHeartbeat(heartbeat: AgentHeartbeat): void {
    if (this.closed) return;
    for (const handler of this.heartbeatHandlers) handler(heartbeat);
  }

  onDiscover(handler: () => void): void { this.discoverHandlers.push(handler); }

  consumeResults(handler: (batch: ResultDelivery[]) => Promise<void>): void {
    this.resultHandler = handler;
    this.schedule();
  }

  onHeartbeat(handler: (heartbeat: AgentHeartbeat) => void): void { this.heartbeatHandlers.push(handler); }

  requestDiscover(): void {
    for (const handler of this.discoverHandlers) handler();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** One delivery pass at a time; results published meanwhile go into the next batch. */
  private schedule(): void {
    if (this.scheduled || this.delivering || !this.resultHandler || !this.waiting.length || this.closed) return;
    this.scheduled = true;
    setImmediate(() => { this.scheduled = false; void this.deliver(); });
  }

  private async deliver(): Promise<void> {
    const handler = this.resultHandler;
    if (!handler || this.closed) return;
    this.delivering = true;
    const batch = this.waiting.splice(0, this.waiting.length).map((p) => this.delivery(p));
    try {
      await handler(batch);
    } finally {
      this.delivering = false;
      this.schedule();
    }
  }

  private delivery(p: Pending): ResultDelivery {
    let settled = false;
    return {
      result: p.result, agent: p.agent,
      ack: () => { settled = true; },
      nak: (delayMs = 0) => {
        if (settled) return;
        settled = true;
        const timer = setTimeout(() => { this.timers.delete(timer); this.waiting.push(p); this.schedule(); }, delayMs);
        this.timers.add(timer);
      },
    };
  }
}
