// The bus between agents and the coordinator: results (durable, acknowledged) and heartbeats
// (fire and forget). Two implementations behind one contract: NATS JetStream for a farm
// (bus-nats.ts) and an in-process one for embedded `flexfarm tune` (bus-memory.ts).
import { FlexfarmError } from './errors.ts';
import { isSafeCampaignId, quote } from './messages/limits.ts';
import type { MessageDrop } from './messages/message-error.ts';
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

/** Campaign ids are NATS subject tokens: letters, digits, `-` and `_` only (at most 64); any other
 *  id never reaches a subject. */
export function resultSubject(campaign: string | undefined): string {
  if (campaign && !isSafeCampaignId(campaign)) throw new BadCampaignIdError(campaign);
  return `${SUBJECTS.resultsPrefix}.${campaign || '_'}`;
}

/** The campaign a results subject names; undefined for `_` (no campaign) or another subject. */
export function campaignOfSubject(subject: string): string | undefined {
  const prefix = `${SUBJECTS.resultsPrefix}.`;
  if (!subject.startsWith(prefix)) return undefined;
  const token = subject.slice(prefix.length);
  return token === '_' ? undefined : token;
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
  /** Set while the agent cannot publish its results (why): it is not to be sent work. */
  stalled?: string;
}

/** One result taken from the bus; ack once it is applied (or known to be a duplicate). */
export interface ResultDelivery {
  result: MeasureResult;
  /** Name of the agent that measured it. */
  agent: string;
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

export class BadCampaignIdError extends FlexfarmError {
  override name = 'BadCampaignIdError';
  readonly code = 'BAD_CAMPAIGN_ID';
  constructor(id: string) { super(`campaign id ${quote(id)} is not a subject token (letters, digits, - and _, at most 64)`); }
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
