// A hostile peer on the farm's NATS: publishes whatever it likes on the results stream and the
// heartbeat subjects, as anyone who can reach nats-server without credentials can (or, given an
// agent's credentials, whatever nats-server lets that agent publish).
import { connect, type ConnectionOptions, type NatsConnection } from 'nats';
import { SUBJECTS } from '../../contracts/subjects.ts';

export interface Forger {
  /** JetStream publish of a raw payload (an object is sent as JSON) on a results subject. */
  result(subject: string, payload: unknown): Promise<void>;
  /** Core publish on a heartbeat subject (the bare one, of agents before names were in subjects, by default). */
  heartbeat(payload: unknown, subject?: string): void;
  /** The next heartbeats of the agents, as published (parsed). */
  heartbeats(count: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

const encode = (payload: unknown) => new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload));

/** `options`: credentials, TLS, an inbox prefix (connect() options of nats.js). */
export async function forger(natsUrl: string, options: Partial<ConnectionOptions> = {}): Promise<Forger> {
  const nc: NatsConnection = await connect({ servers: natsUrl, ...options });
  const js = nc.jetstream();
  return {
    result: async (subject, payload) => { await js.publish(subject, encode(payload)); },
    heartbeat: (payload, subject = SUBJECTS.heartbeat) => nc.publish(subject, encode(payload)),
    heartbeats: (count, timeoutMs = 10_000) => new Promise((resolve, reject) => {
      const out: Record<string, unknown>[] = [];
      const sub = nc.subscribe(`${SUBJECTS.heartbeat}.>`, { max: count });
      const timer = setTimeout(() => { sub.unsubscribe(); reject(new Error(`fewer than ${count} heartbeats in ${timeoutMs} ms`)); }, timeoutMs);
      void (async () => {
        for await (const m of sub) out.push(JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>);
        clearTimeout(timer);
        resolve(out);
      })();
    }),
    close: async () => { await nc.drain(); },
  };
}

/** The value of a Prometheus counter with exactly these labels in an exposition text (0 when absent). */
export function counterValue(metrics: string, name: string, labels: Record<string, string>): number {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.indexOf('}'));
    const found = Object.fromEntries(body.split(',').map((kv) => { const i = kv.indexOf('='); return [kv.slice(0, i), JSON.parse(kv.slice(i + 1))]; }));
    if (Object.entries(labels).every(([k, v]) => found[k] === v) && Object.keys(found).length === Object.keys(labels).length) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}
