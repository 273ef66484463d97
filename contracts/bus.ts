// The bus between agents and the coordinator: results (durable, acknowledged) and heartbeats
// (fire and forget). Two implementations behind one contract: NATS JetStream for a farm
// (bus-nats.ts) and an in-process one for embedded `flexfarm tune` (bus-memory.ts).
import { FlexfarmError } from './errors.ts';
import type { DeviceInfo, MeasureResult } from './result.ts';

/** Subjects and names on NATS, in one place. */
export const SUBJECTS = {
  /** Results of campaign C go to `flexfarm.results.C`; results of no campaign to `flexfarm.results._`. */
  resultsPrefix: 'flexfarm.results',
  heartbeat: 'flexfarm.agents.heartbeat',
  /** The coordinator publishes here at start; every agent answers with a heartbeat at once. */
  discover: 'flexfarm.agents.discover',
} as const;

export const RESULTS_STREAM = 'FLEXFARM_RESULTS';
export const DEFAULT_CONSUMER = 'flexfarm-coordinator';

/** Campaign ids are NATS subject tokens: letters, digits, `-` and `_` only. */
export function resultSubject(campaign: string | undefined): string {
  return `${SUBJECTS.resultsPrefix}.${campaign || '_'}`;
}

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
}

/** One result taken from the bus; ack once it is applied (or known to be a duplicate). */
export interface ResultDelivery {
  result: MeasureResult;
  /** Name of the agent that measured it. */
  agent: string;
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

export class BusClosedError extends FlexfarmError {
  override name = 'BusClosedError';
  readonly code = 'BUS_CLOSED';
  constructor() { super('the bus is closed'); }
}
