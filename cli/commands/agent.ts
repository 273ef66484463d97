// `flexfarm agent`: serve one device to the farm. Every flag can come from an environment variable
// (flags win), so a systemd unit can keep its settings in an environment file.
import os from 'node:os';
import { createBackend } from '../../agent/backends/index.ts';
import { AgentMetrics, MetricsHttpServer } from '../../agent/metrics.ts';
import { AgentServer } from '../../agent/server.ts';
import { NatsBus } from '../../contracts/bus-nats.ts';
import { agentInboxPrefix, isSubjectAgentName } from '../../contracts/subjects.ts';
import { DEFAULT_PROTOCOL } from '../../contracts/result.ts';
import { describeSecurity } from '../../contracts/security/grpc-security.ts';
import { InsecureListenError, listenDecision } from '../../contracts/security/listen-policy.ts';
import { TARGET_KINDS, TARGETS } from '../../contracts/targets.ts';
import { kindFlagOptions, kindFlagUsage, readKindFlags } from '../agent-flags.ts';
import { oneOf, parseFlags, parseInteger, UsageError } from '../args.ts';
import { cacheDir } from '../cache-dir.ts';
import { hostCpuLibrary } from '../library-timing.ts';
import { NATS_FLAGS, NATS_SECRET_FLAG_NOTES, natsUsage, readNatsConnection } from '../nats-flags.ts';
import { readSecurity, SECRET_FLAG_NOTES, SERVER_SECURITY_FLAGS, securityUsage } from '../security-flags.ts';
import { logLine, quietGrpcLog, waitForSignal } from '../service.ts';

/** The usage text; the device kinds and their own flags come from the registries, live. */
function usage(): string {
  const capacities = TARGETS.map((t) => `${t.kind} ${t.defaultCapacity.capacity}`).join(', ');
  return [
    `usage: flexfarm agent --device ${TARGET_KINDS.join('|')} --listen HOST:PORT --nats URL [flags]`,
    '',
    '  --device KIND        device class served (FLEXFARM_DEVICE)',
    '  --listen HOST:PORT   gRPC address to bind; port 0 picks one (FLEXFARM_LISTEN, default 127.0.0.1:7070)',
    '  --name NAME          agent name, unique in the farm, in its NATS subjects and permissions',
    '                       (FLEXFARM_NAME, default HOST-KIND-PORT)',
    '  --advertise H:P      address the coordinator dials (FLEXFARM_ADVERTISE, default the bound address)',
    `  --capacity N         candidates kept in flight here (FLEXFARM_CAPACITY; ${capacities})`,
    '  --concurrency N      candidates measured at once; timing stays exclusive (FLEXFARM_CONCURRENCY)',
    '  --heartbeat-ms N     heartbeat interval (FLEXFARM_HEARTBEAT_MS, default 1000)',
    ...kindFlagUsage(),
    '  --cache DIR          compiled kernels (FLEXFARM_CACHE, default ~/.cache/flexfarm)',
    '  --metrics HOST:PORT  serve Prometheus metrics at /metrics; port 0 picks one (FLEXFARM_METRICS)',
    ...securityUsage('server'),
    ...natsUsage(),
    '                       (an agent\'s NATS user is its --name unless --nats-user says otherwise)',
    '',
    'Beyond loopback it needs TLS and client authentication (--mtls or a token), or --insecure',
    '(README "Security").',
    'Prints one line "flexfarm agent NAME (KIND) listening on HOST:PORT [(metrics HOST:PORT)]" when ready;',
    'logs go to stderr.',
    'SIGTERM or SIGINT: finish what is being measured, publish it, say goodbye, exit.',
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    device: { type: 'string' }, listen: { type: 'string' }, ...NATS_FLAGS, name: { type: 'string' },
    advertise: { type: 'string' }, capacity: { type: 'string' }, concurrency: { type: 'string' },
    'heartbeat-ms': { type: 'string' }, ...kindFlagOptions(),
    cache: { type: 'string' }, metrics: { type: 'string' }, ...SERVER_SECURITY_FLAGS, help: { type: 'boolean' },
  }, false, { ...SECRET_FLAG_NOTES, ...NATS_SECRET_FLAG_NOTES });
  if (values.help) { process.stdout.write(`${usage()}\n`); return 0; }
  const env = process.env;
  quietGrpcLog(env);
  const deviceText = values.device ?? env.FLEXFARM_DEVICE;
  if (!deviceText) throw new UsageError(`--device is required (one of ${TARGET_KINDS.join(', ')})`);
  const device = oneOf('--device', deviceText, TARGET_KINDS, 'cpu');
  const listen = values.listen ?? env.FLEXFARM_LISTEN ?? '127.0.0.1:7070';
  if (!/^.+:\d+$/.test(listen)) throw new UsageError(`--listen: expected HOST:PORT, got '${listen}'`);
  const port = listen.slice(listen.lastIndexOf(':') + 1);
  const name = values.name ?? env.FLEXFARM_NAME ?? `${os.hostname()}-${device}-${port === '0' ? process.pid : port}`;
  if (!isSubjectAgentName(name)) {
    throw new UsageError(`--name '${name.slice(0, 128)}': an agent name is letters, digits and . _ : @ + - (at most 128, no empty part between dots): it is part of the agent's NATS subjects`);
  }
  // Its NATS user is its name unless one is given (deploy/nats-server.conf: a user per agent).
  const nats = readNatsConnection(values, env, name);
  const int = (flag: string, envName: string, min = 0) => {
    const text = values[flag as keyof typeof values] as string | undefined ?? env[envName];
    return text === undefined ? undefined : parseInteger(`--${flag}`, text, 0, min);
  };
  const capacity = int('capacity', 'FLEXFARM_CAPACITY', 1);
  const concurrency = int('concurrency', 'FLEXFARM_CONCURRENCY', 1);
  const heartbeatMs = int('heartbeat-ms', 'FLEXFARM_HEARTBEAT_MS', 50) ?? 1_000;
  const kindFlags = readKindFlags(values, env);
  const metricsListen = values.metrics ?? env.FLEXFARM_METRICS;
  if (metricsListen !== undefined && !/^.+:\d+$/.test(metricsListen)) throw new UsageError(`--metrics: expected HOST:PORT, got '${metricsListen}'`);
  const security = readSecurity(values, env, 'server');
  const insecure = Boolean(values.insecure);
  // Refused before anything connects; AgentServer.start decides the same way.
  const refused = listenDecision(listen, security, insecure).refused;
  if (refused) throw new InsecureListenError(refused);

  // Refuse at once, clearly, when the device's toolchain is missing (e.g. no gcc on a cpu agent).
  const cache = values.cache ?? cacheDir();
  const backend = createBackend(device, { cacheDir: cache, hostCpuLibrary: hostCpuLibrary(cache, kindFlags) }, kindFlags);
  const log = (line: string) => logLine('agent', line);
  // The FP32 peak microbenchmark (where the backend has one) before anything is served.
  await backend.start?.(log);
  const bus = await NatsBus.connect({
    servers: nats.url, name: `flexfarm-agent-${name}`, security: nats.security, inboxPrefix: agentInboxPrefix(name), log,
  });
  let server: AgentServer;
  const metrics = metricsListen !== undefined ? new AgentMetrics({ agent: name, deviceClass: device }) : undefined;
  let metricsServer: MetricsHttpServer | undefined;
  try {
    server = await AgentServer.start({
      name, backend, bus, listen, advertise: values.advertise ?? env.FLEXFARM_ADVERTISE,
      capacity, concurrency, heartbeatMs, protocol: DEFAULT_PROTOCOL, observer: metrics?.observer, log,
      security, insecure, authRefused: metrics?.authRefused,
    });
    if (metrics) {
      metrics.attach(server.agent);
      try {
        metricsServer = await MetricsHttpServer.start(metricsListen!, metrics);
      } catch (err) {
        await server.stop(0);
        throw err;
      }
    }
  } catch (err) {
    metrics?.close();
    await bus.close();
    throw err;
  }
  const d = backend.describe();
  process.stdout.write(`flexfarm agent ${server.agent.name} (${device}) listening on ${server.address}${metricsServer ? ` (metrics ${metricsServer.address})` : ''}\n`);
  log(`${d.model}; ${d.peakGflops ? `FP32 peak ${d.peakGflops} GFLOP/s (${d.peakSource ?? 'reported by the backend'}); ` : ''}${d.toolchain}; capacity ${server.agent.capacity}; results to ${nats.url} (${nats.security.description}); gRPC: ${describeSecurity(security)}`);
  const signal = await waitForSignal();
  log(`${signal}: finishing measurements in progress`);
  await server.stop();
  await metricsServer?.stop();
  metrics?.close();
  await bus.close();
  return 0;
}
