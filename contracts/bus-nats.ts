// The farm's bus on NATS: results on a JetStream stream (a subject per campaign) read by a durable
// pull consumer, heartbeats and discovery on core NATS. Survives nats-server restarts: the
// connection reconnects forever, publishes retry until acknowledged (deduplicated by message id),
// and the consumer is re-attached (re-created if the server lost it).
import {
  AckPolicy, connect, ConsumerEvents, DeliverPolicy, DiscardPolicy, ErrorCode, Events, nanos, RetentionPolicy, StorageType,
  type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg, type NatsConnection,
} from 'nats';
import type { MeasureResult } from './result.ts';
import {
  BusClosedError, PublishRefusedError, type AgentHeartbeat, type Bus, type ResultDelivery, type ResultEnvelope,
} from './bus.ts';
import { FlexfarmError } from './errors.ts';
import { decodeHeartbeat } from './messages/heartbeat.ts';
import { MessageError, type MessageDrop } from './messages/message-error.ts';
import { decodeResultEnvelope } from './messages/result.ts';
import { isAuthRefused, isPermissionRefused, isPublishRefused, isStreamMissing, isStreamNameInUse } from './nats-errors.ts';
import type { NatsSecurity } from './security/nats-security.ts';
import {
  agentOfHeartbeatSubject, DEFAULT_CONSUMER, heartbeatSubject, parseResultSubject, RESULTS_STREAM, resultSubject, SUBJECTS,
} from './subjects.ts';

export interface NatsBusOptions {
  /** nats://host:port (comma-separated for a cluster). */
  servers: string;
  /** Connection name shown by the server's monitoring. */
  name?: string;
  /** Credentials and TLS to the server (contracts/security/nats-security.ts); none by default. */
  security?: NatsSecurity;
  /** Reply subjects of this side's requests (subjects.ts: agentInboxPrefix, COORDINATOR_INBOX_PREFIX),
   *  so that the server's permissions can give each role only its own inbox. */
  inboxPrefix?: string;
  /** Durable consumer name (one per coordinator). */
  consumer?: string;
  connectTimeoutMs?: number;
  /** One publish attempt waits this long for JetStream's ack before retrying. */
  publishTimeoutMs?: number;
  /** How long results stay in the stream. */
  streamMaxAgeMs?: number;
  /** Unacknowledged deliveries before the server pauses the consumer. */
  maxAckPending?: number;
  log?: (line: string) => void;
}

export class NatsUnavailableError extends FlexfarmError {
  override name = 'NatsUnavailableError';
  readonly code = 'NATS_UNAVAILABLE';
}

const DEFAULTS = {
  connectTimeoutMs: 5_000, publishTimeoutMs: 5_000, streamMaxAgeMs: 7 * 24 * 3600_000, maxAckPending: 20_000,
};
const MAX_RETRY_DELAY_MS = 2_000;
const PERMISSION_LOG_EVERY_MS = 10_000;
/** A delivery not acked this long (its coordinator died mid-batch) is delivered again. */
const ACK_WAIT_MS = 10_000;
const encoder = new TextEncoder();

export class NatsBus implements Bus {
  private closed = false;
  private messages?: ConsumerMessages;
  private consumerLoop?: Promise<void>;
  private streamReady?: Promise<void>;
  private readonly log: (line: string) => void;
  private readonly connectionHandlers: ((connected: boolean) => void)[] = [];
  private readonly dropHandlers: ((drop: MessageDrop) => void)[] = [];
  private backlogDone!: () => void;
  private readonly backlog = new Promise<void>((resolve) => { this.backlogDone = resolve; });
  private readonly options: NatsBusOptions & typeof DEFAULTS;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    options: NatsBusOptions,
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.log = options.log ?? (() => {});
    void this.watchConnection();
  }

  /** Connects and makes sure the results stream exists; a clear error when NATS or JetStream is missing. */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    let nc: NatsConnection;
    const sec = options.security;
    try {
      nc = await connect({
        servers: options.servers.split(',').map((s) => s.trim()),
        name: options.name, timeout: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
        maxReconnectAttempts: -1, reconnectTimeWait: 250, reconnectJitter: 100, pingInterval: 10_000,
        ...(options.inboxPrefix ? { inboxPrefix: options.inboxPrefix } : {}),
        ...(sec?.connect ?? {}),
      });
    } catch (err) {
      if (isAuthRefused(err)) {
        throw new NatsUnavailableError(`NATS at ${options.servers} refused ${sec?.description ?? 'a connection without credentials'}: ${(err as Error).message} (check the credentials against the server's authorization block; README "Security")`, { cause: err });
      }
      throw new NatsUnavailableError(`cannot reach NATS at ${options.servers}${sec?.tls ? ' over TLS' : ''}: ${(err as Error).message}${tlsHint(err, sec)}`, { cause: err });
    }
    let jsm: JetStreamManager;
    try {
      jsm = await nc.jetstreamManager({ timeout: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs });
    } catch (err) {
      await nc.close();
      throw new NatsUnavailableError(`NATS at ${options.servers} has no JetStream (start nats-server with -js): ${(err as Error).message}`, { cause: err });
    }
    const bus = new NatsBus(nc, nc.jetstream(), jsm, options);
    await bus.ensureStream();
    return bus;
  }

  /** The server's address as connected, e.g. 127.0.0.1:4222. */
  get server(): string { return this.nc.getServer(); }

  async publishResult(result: MeasureResult, agent: string): Promise<void> {
    const envelope: ResultEnvelope = { v: 1, agent, result };
    const data = encoder.encode(JSON.stringify(envelope));
    let subject: string;
    try {
      subject = resultSubject(result.campaign, agent);
    } catch (err) {
      throw new PublishRefusedError((err as Error).message, { cause: err });
    }
    // A retry of the same publish is dropped by the server within its duplicate window.
    const msgID = `${result.campaign ?? '_'}/${result.candidateId}/${agent}`;
    let delayMs = 100;
    for (;;) {
      if (this.closed) throw new BusClosedError();
      try {
        await this.js.publish(subject, data, { msgID, timeout: this.options.publishTimeoutMs });
        return;
      } catch (err) {
        if (this.closed) throw new BusClosedError();
        if (isPublishRefused(err)) throw new PublishRefusedError(`NATS refused the result of ${result.candidateId} (${data.length} bytes): ${(err as Error).message}`, { cause: err });
        this.log(`publish of ${result.candidateId} not acknowledged (${(err as Error).message}); retrying in ${delayMs} ms`);
        if (isStreamMissing(err)) this.streamReady = undefined;
        await sleep(delayMs);
        delayMs = Math.min(delayMs * 2, MAX_RETRY_DELAY_MS);
        await this.ensureStream().catch(() => {});
      }
    }
  }

  publishHeartbeat(heartbeat: AgentHeartbeat): void {
    if (this.closed || this.nc.isClosed()) return;
    let subject: string;
    try {
      subject = heartbeatSubject(heartbeat.name);
    } catch (err) {
      this.log(`heartbeat not sent: ${(err as Error).message}`);
      return;
    }
    this.nc.publish(subject, encoder.encode(JSON.stringify(heartbeat)));
  }

  onDiscover(handler: () => void): void {
    this.nc.subscribe(SUBJECTS.discover, { callback: () => this.guard('discovery handler', handler) });
  }

  /** Heartbeats are validated here (contracts/messages/heartbeat.ts); a bad one is dropped and
   *  counted, and nothing a handler throws reaches nats.js (it would close the connection). */
  onHeartbeat(handler: (heartbeat: AgentHeartbeat) => void): void {
    const callback = (err: unknown, msg: { data: Uint8Array; subject: string }) => {
      if (err) return;
      let heartbeat: AgentHeartbeat;
      try {
        heartbeat = decodeHeartbeat(msg.data);
        const agent = agentOfHeartbeatSubject(msg.subject);
        if (agent && agent !== heartbeat.name) {
          throw new MessageError('heartbeat.name', `${JSON.stringify(heartbeat.name)} is not the agent of its subject (${JSON.stringify(agent)})`, 'agent_mismatch');
        }
      } catch (error) {
        this.drop(dropOf(error, 'heartbeat', msg.subject));
        return;
      }
      this.guard('heartbeat handler', () => handler(heartbeat));
    };
    // The agent's own subject, and the bare one of agents from before names were in subjects.
    this.nc.subscribe(`${SUBJECTS.heartbeat}.>`, { callback });
    this.nc.subscribe(SUBJECTS.heartbeat, { callback });
  }

  onDropped(handler: (drop: MessageDrop) => void): void {
    this.dropHandlers.push(handler);
  }

  private drop(drop: MessageDrop): void {
    this.log(`dropped a message on ${drop.subject ?? drop.subjectKind}: ${drop.reason}: ${drop.detail}`);
    for (const h of this.dropHandlers) this.guard('drop handler', () => h(drop));
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log(`${what} failed: ${(err as Error)?.stack ?? String(err)}`);
    }
  }

  onConnection(handler: (connected: boolean) => void): void {
    this.connectionHandlers.push(handler);
  }

  caughtUp(): Promise<void> {
    return this.backlog;
  }

  requestDiscover(): void {
    if (!this.closed) this.nc.publish(SUBJECTS.discover);
  }

  consumeResults(handler: (batch: ResultDelivery[]) => Promise<void>): void {
    if (this.consumerLoop) throw new Error('consumeResults may be called once');
    this.consumerLoop = this.runConsumer(handler);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.messages?.close().catch(() => {});
    await Promise.race([this.nc.drain().catch(() => {}), sleep(2_000)]);
    if (!this.nc.isClosed()) await this.nc.close().catch(() => {});
    await this.consumerLoop?.catch(() => {});
  }

  /** Idempotent: creates the stream when it is missing (the first agent or coordinator to start). */
  ensureStream(): Promise<void> {
    this.streamReady ??= this.createStream().catch((err) => { this.streamReady = undefined; throw err; });
    return this.streamReady;
  }

  private async createStream(): Promise<void> {
    try {
      await this.jsm.streams.info(RESULTS_STREAM);
      return;
    } catch { /* missing: create it */ }
    try {
      await this.jsm.streams.add({
        name: RESULTS_STREAM, subjects: [`${SUBJECTS.resultsPrefix}.>`], storage: StorageType.File,
        retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old,
        max_age: nanos(this.options.streamMaxAgeMs), duplicate_window: nanos(120_000),
      });
      this.log(`created JetStream stream ${RESULTS_STREAM}`);
    } catch (err) {
      // An agent under the shipped permissions may not create it: the coordinator does, and
      // publishes wait for it (no stream: retried).
      if (isPermissionRefused(err)) {
        this.log(`JetStream stream ${RESULTS_STREAM} is missing and this connection may not create it; waiting for the coordinator to create it`);
        return;
      }
      if (!isStreamNameInUse(err)) throw err; // another process created it first
    }
  }

  private async ensureConsumer(durable: string, firstAttach: boolean): Promise<void> {
    let info;
    try {
      info = await this.jsm.consumers.info(RESULTS_STREAM, durable);
    } catch { /* missing: create it */ }
    if (info && firstAttach && info.num_ack_pending > 0) {
      // Deliveries a previous coordinator took but never acknowledged (it was killed) would only
      // come back after ack_wait: restart the durable just past its ack floor so they come now.
      // Any among them that were applied after all are recognised by candidate id.
      const startSeq = info.ack_floor.stream_seq + 1;
      this.log(`${info.num_ack_pending} results were taken by a previous coordinator but not acknowledged; replaying from stream sequence ${startSeq}`);
      await this.jsm.consumers.delete(RESULTS_STREAM, durable);
      await this.addConsumer(durable, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq });
      return;
    }
    if (!info) {
      await this.addConsumer(durable, { deliver_policy: DeliverPolicy.All });
      this.log(`created durable consumer ${durable}`);
    }
  }

  private async addConsumer(durable: string, start: { deliver_policy: DeliverPolicy; opt_start_seq?: number }): Promise<void> {
    await this.jsm.consumers.add(RESULTS_STREAM, {
      durable_name: durable, ack_policy: AckPolicy.Explicit, ...start,
      filter_subject: `${SUBJECTS.resultsPrefix}.>`, ack_wait: nanos(ACK_WAIT_MS), max_ack_pending: this.options.maxAckPending,
    });
  }

  /** Consume until closed; when the iterator ends or the consumer vanishes, attach again. */
  private async runConsumer(handler: (batch: ResultDelivery[]) => Promise<void>): Promise<void> {
    const durable = this.options.consumer ?? DEFAULT_CONSUMER;
    const batcher = new DeliveryBatcher(handler, this.log, (drop) => this.drop(drop));
    let firstAttach = true;
    while (!this.closed) {
      try {
        await this.ensureStream();
        await this.ensureConsumer(durable, firstAttach);
        firstAttach = false;
        const consumer = await this.js.consumers.get(RESULTS_STREAM, durable);
        batcher.expect((await consumer.info()).num_pending, () => this.backlogDone());
        const messages = await consumer.consume({ max_messages: 1_000 });
        this.messages = messages;
        void this.watchConsumer(messages);
        for await (const m of messages) batcher.push(m);
      } catch (err) {
        if (!this.closed) this.log(`results consumer stopped (${(err as Error).message}); attaching again`);
      }
      if (!this.closed) await sleep(500);
    }
  }

  /** A consumer or stream lost by the server (e.g. a restart without its store) is re-created. */
  private async watchConsumer(messages: ConsumerMessages): Promise<void> {
    for await (const s of await messages.status()) {
      if (s.type === ConsumerEvents.ConsumerNotFound || s.type === ConsumerEvents.StreamNotFound || s.type === ConsumerEvents.ConsumerDeleted) {
        this.log(`results consumer: ${s.type}; re-creating it`);
        this.streamReady = undefined;
        messages.stop();
        return;
      }
    }
  }

  private async watchConnection(): Promise<void> {
    let refusalLoggedAt = -Infinity;
    let refusalsSince = 0;
    for await (const s of this.nc.status()) {
      if (s.type === Events.Error && String(s.data) === ErrorCode.PermissionsViolation) {
        // A user whose permissions do not fit what it does (an agent's NATS user not its name):
        // said once per 10 s, not per heartbeat.
        refusalsSince++;
        if (Date.now() - refusalLoggedAt < PERMISSION_LOG_EVERY_MS) continue;
        this.log(`NATS refused ${refusalsSince > 1 ? `${refusalsSince} publishes or subscriptions` : 'a publish or subscription'} of this connection (permissions violation): its user may not use that subject (README "Security", deploy/nats-server.conf)`);
        refusalLoggedAt = Date.now();
        refusalsSince = 0;
      } else if (s.type === Events.Disconnect) {
        this.log(`disconnected from NATS ${String(s.data)}`);
        this.connectionHandlers.forEach((h) => h(false));
      } else if (s.type === Events.Reconnect) {
        this.log(`reconnected to NATS ${String(s.data)}`);
        this.streamReady = undefined;
        this.connectionHandlers.forEach((h) => h(true));
      }
    }
  }
}

/** Collects messages that arrive together and hands them to the handler as one batch. */
class DeliveryBatcher {
  private buffer: JsMsg[] = [];
  private running = false;
  private waitingFor = 0;
  private onCaughtUp?: () => void;

  constructor(
    private readonly handler: (batch: ResultDelivery[]) => Promise<void>,
    private readonly log: (line: string) => void,
    private readonly drop: (drop: MessageDrop) => void,
  ) {}

  /** Calls `done` once `count` more messages have been handled (at once when count is 0). */
  expect(count: number, done: () => void): void {
    this.waitingFor = count;
    this.onCaughtUp = done;
    if (count <= 0) this.caughtUp();
  }

  push(m: JsMsg): void {
    this.buffer.push(m);
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.drain());
    }
  }

  private async drain(): Promise<void> {
    while (this.buffer.length) {
      const batch = this.buffer;
      this.buffer = [];
      const deliveries: ResultDelivery[] = [];
      for (const m of batch) {
        let envelope: ReturnType<typeof parseEnvelope>;
        try {
          envelope = parseEnvelope(m);
        } catch (err) {
          this.drop(dropOf(err, 'results', m.subject));
          m.term();
          continue;
        }
        deliveries.push({ ...envelope, subject: m.subject, ack: () => m.ack(), nak: (delayMs) => m.nak(delayMs) });
      }
      try {
        if (deliveries.length) await this.handler(deliveries);
      } catch (err) {
        this.log(`result handler failed (${(err as Error).message}); results will be redelivered`);
        for (const d of deliveries) d.nak(1_000);
      }
      if (this.onCaughtUp && (this.waitingFor -= batch.length) <= 0) this.caughtUp();
    }
    this.running = false;
  }

  private caughtUp(): void {
    const done = this.onCaughtUp;
    this.onCaughtUp = undefined;
    done?.();
  }
}

/** A validated envelope whose result names the campaign of the subject it came on and whose agent
 *  is the one of the subject (when the subject names one: then the publisher's identity, as
 *  nats-server's permissions let an agent publish only on its own subject). */
function parseEnvelope(m: JsMsg): Pick<ResultDelivery, 'result' | 'agent' | 'agentFromSubject'> {
  const envelope = decodeResultEnvelope(m.data);
  const subject = parseResultSubject(m.subject) ?? {};
  if (envelope.result.campaign !== subject.campaign) {
    throw new MessageError('result.campaign', `${JSON.stringify(envelope.result.campaign ?? null)} is not the campaign of its subject`, 'subject_mismatch');
  }
  if (subject.agent === undefined) return { result: envelope.result, agent: envelope.agent };
  if (envelope.agent !== subject.agent) {
    throw new MessageError('envelope.agent', `${JSON.stringify(envelope.agent)} is not the agent of its subject (${JSON.stringify(subject.agent)})`, 'agent_mismatch');
  }
  return { result: envelope.result, agent: subject.agent, agentFromSubject: true };
}

function dropOf(err: unknown, subjectKind: MessageDrop['subjectKind'], subject: string): MessageDrop {
  if (err instanceof MessageError) return { subjectKind, reason: err.reason, detail: err.message, subject };
  return { subjectKind, reason: 'malformed', detail: (err as Error)?.message ?? String(err), subject };
}

/** What to do about a TLS failure at connect, in words. */
function tlsHint(err: unknown, sec: NatsSecurity | undefined): string {
  const text = `${(err as NodeJS.ErrnoException)?.code ?? ''} ${(err as Error)?.message ?? ''}`;
  if (/certificate|CERT_|self.signed/i.test(text)) {
    return sec?.tls
      ? ' (the server\'s certificate is not signed by the CA given in --nats-tls-ca, or is not for this address)'
      : ' (the server speaks TLS: give the lab CA with --nats-tls-ca FILE)';
  }
  if (/TLS/.test(text) && sec?.tls) return ' (--nats-tls-ca is given: does that server speak TLS?)';
  return '';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
