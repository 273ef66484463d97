// `flexfarm coordinator`: the farm's coordinator service. Flags may come from the environment.
import { resolve } from 'node:path';
import { NatsBus } from '../../contracts/bus-nats.ts';
import { COORDINATOR_INBOX_PREFIX } from '../../contracts/subjects.ts';
import { clientChannel } from '../../contracts/security/client-channel.ts';
import { describeSecurity } from '../../contracts/security/grpc-security.ts';
import { InsecureListenError, listenDecision } from '../../contracts/security/listen-policy.ts';
import { TARGET_KINDS, TARGETS } from '../../contracts/targets.ts';
import { statePathFor } from '../../coordinator/campaign-store.ts';
import { Farm } from '../../coordinator/farm/farm.ts';
import { CoordinatorHttpServer } from '../../coordinator/http-server.ts';
import { CoordinatorServer } from '../../coordinator/server.ts';
import { Observability } from '../../coordinator/web/observability.ts';
import { parseFlags, parseInteger, UsageError } from '../args.ts';
import { NATS_FLAGS, NATS_SECRET_FLAG_NOTES, natsUsage, readNatsConnection } from '../nats-flags.ts';
import { readSecurity, SECRET_FLAG_NOTES, SERVER_SECURITY_FLAGS, securityUsage } from '../security-flags.ts';
import { logLine, quietGrpcLog, waitForSignal } from '../service.ts';

/** The usage text; each kind's in-flight timeout is the registry's, live. */
const usage = () => `usage: flexfarm coordinator --listen HOST:PORT --nats URL --records FILE [flags]

  --listen HOST:PORT   gRPC address to bind; port 0 picks one (FLEXFARM_LISTEN, default 127.0.0.1:7000)
${natsUsage().join('\n')}
  --records FILE       tuning log, JSONL (FLEXFARM_RECORDS, required)
  --state FILE         campaign state (FLEXFARM_STATE, default next to the records: NAME.campaigns.json)
  --http HOST:PORT     HTTP: the live page at /, Prometheus /metrics, /healthz, /api/campaigns,
                       /api/agents, /api/events (server-sent events) (FLEXFARM_HTTP; off unless
                       given; the usual port is 7080, as in flexfarm farm up)
  --agent HOST:PORT    an agent to poll over gRPC, besides heartbeats; repeatable
                       (FLEXFARM_AGENTS, comma-separated)
  --lost-after-ms N    an agent silent this long is lost and its work re-dispatched (default 3000)
  --inflight-timeout-ms N  a dispatched candidate may take this long (default: ${TARGETS.map((t) => `${t.kind} ${t.inflightTimeoutMs}`).join(', ')})
  --settle-ms N        after start, wait this long for agents to report held work (default 1500)
  --consumer NAME      durable JetStream consumer (FLEXFARM_CONSUMER, default flexfarm-coordinator)
${securityUsage('server').join('\n')}

Beyond loopback it needs TLS and client authentication (--mtls or a token), or --insecure; agents
are dialled with the same CA, certificate and token (README "Security").

Prints one line "flexfarm coordinator listening on HOST:PORT" when ready; logs go to stderr.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    listen: { type: 'string' }, ...NATS_FLAGS, records: { type: 'string' }, state: { type: 'string' },
    http: { type: 'string' }, agent: { type: 'string', multiple: true }, 'lost-after-ms': { type: 'string' },
    'inflight-timeout-ms': { type: 'string' }, 'settle-ms': { type: 'string' }, consumer: { type: 'string' },
    ...SERVER_SECURITY_FLAGS, help: { type: 'boolean' },
  }, false, { ...SECRET_FLAG_NOTES, ...NATS_SECRET_FLAG_NOTES });
  if (values.help) { process.stdout.write(`${usage()}\n`); return 0; }
  const env = process.env;
  quietGrpcLog(env);
  const listen = values.listen ?? env.FLEXFARM_LISTEN ?? '127.0.0.1:7000';
  const httpListen = values.http ?? env.FLEXFARM_HTTP;
  for (const [flag, address] of [['--listen', listen], ['--http', httpListen]] as const) {
    if (address !== undefined && !/^.+:\d+$/.test(address)) throw new UsageError(`${flag}: expected HOST:PORT, got '${address}'`);
  }
  const recordsText = values.records ?? env.FLEXFARM_RECORDS;
  if (!recordsText) throw new UsageError('--records FILE is required (the tuning log every result is appended to)');
  const recordsPath = resolve(recordsText);
  const statePath = resolve(values.state ?? env.FLEXFARM_STATE ?? statePathFor(recordsPath));
  const staticAgents = values.agent ?? (env.FLEXFARM_AGENTS ? env.FLEXFARM_AGENTS.split(',').map((s) => s.trim()).filter(Boolean) : []);
  for (const a of staticAgents) if (!/^.+:\d+$/.test(a)) throw new UsageError(`--agent: expected HOST:PORT, got '${a}'`);
  const inflight = values['inflight-timeout-ms'] ? parseInteger('--inflight-timeout-ms', values['inflight-timeout-ms'], 0, 100) : undefined;
  const security = readSecurity(values, env, 'server');
  const nats = readNatsConnection(values, env);
  const insecure = Boolean(values.insecure);
  // Refused before anything connects; CoordinatorServer.start decides the same way.
  const refused = listenDecision(listen, security, insecure).refused;
  if (refused) throw new InsecureListenError(refused);

  const log = (line: string) => logLine('coordinator', line);
  const bus = await NatsBus.connect({
    servers: nats.url, name: 'flexfarm-coordinator', security: nats.security, inboxPrefix: COORDINATOR_INBOX_PREFIX,
    consumer: values.consumer ?? env.FLEXFARM_CONSUMER, log,
  });
  const observability = httpListen ? new Observability() : undefined;
  const farm = new Farm({
    bus, recordsPath, statePath, staticAgents, log, warn: log, observer: observability?.observer, agentChannel: clientChannel(security),
    lostAfterMs: parseInteger('--lost-after-ms', values['lost-after-ms'], 3_000, 100),
    settleMs: parseInteger('--settle-ms', values['settle-ms'], 1_500, 0),
    ...(inflight ? { inflightTimeoutMs: Object.fromEntries(TARGET_KINDS.map((kind) => [kind, inflight])) } : {}),
  });
  let server: CoordinatorServer | undefined;
  let http: CoordinatorHttpServer | undefined;
  try {
    server = await CoordinatorServer.start({ farm, listen, security, insecure, authRefused: observability?.metrics.authRefused, log });
    if (httpListen) {
      http = await CoordinatorHttpServer.start({ farm, listen: httpListen });
      observability!.attach(farm);
      observability!.serve(http);
    }
  } catch (err) {
    observability?.close();
    await http?.stop();
    await server?.stop();
    await farm.close();
    await bus.close();
    throw err;
  }
  farm.start();
  process.stdout.write(`flexfarm coordinator listening on ${server.address}${http ? ` (http ${http.address})` : ''}\n`);
  log(`records ${recordsPath}; campaign state ${statePath}; gRPC: ${describeSecurity(security)}; NATS: ${nats.security.description}`);
  const signal = await waitForSignal();
  log(`${signal}: stopping`);
  await server.stop();
  observability?.close();
  await http?.stop();
  await farm.close();
  await bus.close();
  return 0;
}
