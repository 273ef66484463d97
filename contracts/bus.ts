// The bus between agents and the coordinator: results (durable, acknowledged) and heartbeats
// (fire and forget). Two implementations behind one contract: NATS JetStream for a farm
// (bus-nats.ts) and an in-process one for embedded `flexfarm tune` (bus-memory.ts).
import { FlexfarmError } from './errors.ts';
import type { MessageDrop } from './messages/message-error.ts';
import type { DeviceInfo, MeasureResult } from './result.ts';

export interface AgentLoad {
  queued: number;
  measuring: number;
  /** Measured, waiting for the bus to acknowledge the result. */
  unpublished: number;
}

/** What an agent announces about itself, every heartbeat interval. */
export interface AgentHeartbeat {
  name: string;
  /** host:port of its gRPC AgentService; empty for an in-process agent. */
  address: string;
  device: DeviceInfo;
  capacity: number;
  maxBatch: number;
  load: AgentLoad;
  /** Candidate ids it holds (queued, measuring, unpublished): lets a restarted coordinator reclaim them. */
  held: string[];
  startedAt: string;
  /** Heartbeat interval, so the coordinator can tell how late one is. */
  intervalMs: number;
  /** Sent once when the agent shuts down cleanly: its queued work is not coming back. */
  leaving?: boolean;
  /** Set while the agent cannot publish its results (why): it is not to be sent work. */
  stalled?: string;
}

/** One result taken from the bus; ack once it is applied (or known to be a duplicate). */
export interface ResultDelivery {
  result: MeasureResult;
  /** Name of the agent that published it: the one its subject names where it has one (nats-server's
   *  permissions let an agent publish only on its own subjects), else the one its envelope names. */
  agent: string;
  /** Whether `agent` comes from the subject (its envelope was checked to name the same agent). */
  agentFromSubject?: boolean;
  /** The subject it came on (NATS); absent in process. */
  subject?: string;
  ack(): void;
  /** Deliver again later (the coordinator could not apply it now). */
  nak(delayMs?: number): void;
}

/** The agent's side. */
export interface AgentBus {
  /** Resolves once the result is durable (JetStream acknowledged); retries until then. */
  publishResult(result: MeasureResult, agent: string): Promise<void>;
  publishHeartbeat(heartbeat: AgentHeartbeat): void;
  /** Called when a coordinator asks every agent to announce itself now. */
  onDiscover(handler: () => void): void;
}

/** The coordinator's side. */
export interface CoordinatorBus {
  /** Deliveries arrive in batches; the handler acks each one. Results wait on the bus until a handler exists. */
  consumeResults(handler: (batch: ResultDelivery[]) => Promise<void>): void;
  onHeartbeat(handler: (heartbeat: AgentHeartbeat) => void): void;
  requestDiscover(): void;
  /** Connection changes (NATS only): while down, silent agents are not lost, the coordinator is cut off. */
  onConnection?(handler: (connected: boolean) => void): void;
  /** Resolves once the results that waited on the bus when consuming began have been handed over. */
  caughtUp?(): Promise<void>;
  /** Messages that failed validation (contracts/messages/) and were dropped, never handed over. */
  onDropped?(handler: (drop: MessageDrop) => void): void;
}

export interface Bus extends AgentBus, CoordinatorBus {
  close(): Promise<void>;
}

/** The envelope a result travels in on NATS (JSON). */
export interface ResultEnvelope {
  v: 1;
  agent: string;
  result: MeasureResult;
}

/** The bus refused a result for good (too large, a subject it may not use): retrying cannot help. */
export class PublishRefusedError extends FlexfarmError {
  override name = 'PublishRefusedError';
  readonly code = 'PUBLISH_REFUSED';
}

export class BusClosedError extends FlexfarmError {
  override name = 'BusClosedError';
  readonly code = 'BUS_CLOSED';
  constructor() { super('the bus is closed'); }
}
