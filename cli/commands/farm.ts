// `flexfarm farm up`: a whole farm on this machine — nats-server with JetStream, a coordinator with
// its live page, an agent per device found here — until Ctrl-C or SIGTERM stops them all.
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localDevices } from '../../agent/backends/index.ts';
import { InsecureListenError, listenDecision } from '../../contracts/security/listen-policy.ts';
import { loadGrpcSecurity } from '../../contracts/security/grpc-security.ts';
import { TARGET_KINDS } from '../../contracts/targets.ts';
import { parseFlags, UsageError } from '../args.ts';
import { DEFAULT_COORDINATOR } from '../coordinator-client.ts';
import { ChildService } from '../farm/child-service.ts';
import { startNatsServer } from '../farm/nats-process.ts';
import { readSecuritySettings, SECRET_FLAG_NOTES, securityEnv, SERVER_SECURITY_FLAGS, securityUsage } from '../security-flags.ts';

export const DEFAULT_HTTP = '127.0.0.1:7080';
const DEFAULT_STORE = join('out', 'farm');
/** How long an agent may take to finish and publish what it measures before it is killed. */
const AGENT_STOP_GRACE_MS = 30_000;
const SERVICE_STOP_GRACE_MS = 10_000;

const usage = () => `usage: flexfarm farm up [--http HOST:PORT] [--store DIR] [--devices KINDS] [--listen HOST:PORT] [--nats-listen HOST:PORT]

Starts a farm on this machine: nats-server with JetStream, a coordinator with its live page, and
an agent per device found here (${TARGET_KINDS.join(', ')}: what each kind looks for is printed);
prints the page's address; Ctrl-C or SIGTERM stops them all (agents first, so that what they
measure is published), a second one at once.

  --http HOST:PORT     the coordinator's live page and /metrics (default ${DEFAULT_HTTP})
  --store DIR          the farm's folder, created if missing: JetStream store (nats/), tuning log
                       (records.jsonl), campaign state, logs/ (default ${DEFAULT_STORE}); a farm
                       started again on it resumes its campaigns
  --devices KINDS      the agents to start, comma-separated (default: every device found here;
                       sim is never found, name it to add a simulated device)
  --listen HOST:PORT   the coordinator's gRPC address, for flexfarm campaign (default ${DEFAULT_COORDINATOR})
  --nats-listen HOST:PORT  nats-server's address (default 127.0.0.1:0, a free port)
${securityUsage('server').join('\n')}

The coordinator and the agents get the same credentials (the agents listen on 127.0.0.1); a
--listen beyond loopback needs TLS and client authentication, or --insecure (README "Security").
Everything binds to the addresses given (127.0.0.1 by default: this machine only).`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') { process.stdout.write(`${usage()}\n`); return sub ? 0 : 2; }
  if (sub !== 'up') throw new UsageError(`unknown farm command '${sub}' (up)`);
  const { values } = parseFlags(rest, {
    http: { type: 'string' }, store: { type: 'string' }, devices: { type: 'string' }, listen: { type: 'string' },
    'nats-listen': { type: 'string' }, ...SERVER_SECURITY_FLAGS, help: { type: 'boolean' },
  }, false, SECRET_FLAG_NOTES);
  if (values.help) { process.stdout.write(`${usage()}\n`); return 0; }
  const http = values.http ?? DEFAULT_HTTP;
  const listen = values.listen ?? DEFAULT_COORDINATOR;
  const natsListen = values['nats-listen'] ?? '127.0.0.1:0';
  for (const [flag, address] of [['--http', http], ['--listen', listen], ['--nats-listen', natsListen]] as const) {
    if (!/^[^/\s]+:\d+$/.test(address)) throw new UsageError(`${flag}: expected HOST:PORT, got '${address}'`);
  }
  // Checked here, so that a bad file or a refused --listen stops the farm before it starts.
  const settings = readSecuritySettings(values, process.env, 'server');
  const security = loadGrpcSecurity(settings);
  if (settings.tlsCa && !settings.tlsCert) throw new UsageError(`${settings.tlsCa.from} without --tls-cert and --tls-key: the coordinator would dial its agents in TLS, and they would have none`);
  const refused = listenDecision(listen, security, Boolean(values.insecure)).refused;
  if (refused) throw new InsecureListenError(refused);
  const childEnv = securityEnv(settings);
  const secured = Boolean(security.identity || security.token);
  const devices = chooseDevices(values.devices);
  const store = resolve(values.store ?? DEFAULT_STORE);
  const logs = join(store, 'logs');
  mkdirSync(join(store, 'nats'), { recursive: true });
  mkdirSync(logs, { recursive: true });

  const farm = new LocalFarm();
  const stopping = stopOnSignals(farm);
  try {
    const nats = await farm.add(startNatsServer({ listen: natsListen, storeDir: join(store, 'nats'), logPath: join(logs, 'nats-server.log') }));
    const natsUrl = `nats://${nats.readyValue}`;
    say(`nats-server ${natsUrl} (JetStream store ${join(store, 'nats')}; pid ${nats.pid})`);
    const records = join(store, 'records.jsonl');
    const [coordinator, ...agents] = await Promise.all([
      farm.add(startFlexfarm('coordinator', [
        'coordinator', '--listen', listen, '--http', http, '--nats', natsUrl, '--records', records, ...(values.insecure ? ['--insecure'] : []),
      ], join(logs, 'coordinator.log'), childEnv)),
      ...devices.map(({ kind }) => farm.add(startFlexfarm(`agent ${kind}`, [
        'agent', '--device', kind, '--listen', '127.0.0.1:0', '--nats', natsUrl, '--name', `${os.hostname()}-${kind}`,
      ], join(logs, `agent-${kind}.log`), childEnv))),
    ]);
    say(`coordinator ${coordinator.readyValue} (records ${records}; pid ${coordinator.pid})`);
    agents.forEach((a, i) => say(`agent ${devices[i].kind} ${a.readyValue} (${devices[i].detail}; pid ${a.pid})`));
    say(`logs in ${logs}`);
    const page = /\(http (\S+)\)/.exec(coordinator.readyLine)?.[1] ?? http;
    say(`flexfarm farm up: the page is at http://${page}/ ; submit with: flexfarm campaign submit gemm --shape M=256,N=256,K=256 --targets ${devices[0]?.kind ?? 'cpu'} --trials 50${listen === DEFAULT_COORDINATOR ? '' : ` --coordinator ${coordinator.readyValue}`}${secured ? ' (with the same --tls-ca, --tls-cert/--tls-key and token)' : ''}`);
    say('Ctrl-C stops the farm.');
  } catch (err) {
    await farm.stop();
    throw err;
  }
  const ended = await Promise.race([stopping, farm.firstExit()]);
  if (ended.kind === 'signal') {
    process.stderr.write(`flexfarm farm: ${ended.signal}: stopping the agents, the coordinator, then nats-server\n`);
    await farm.stop();
    return 0;
  }
  process.stderr.write(`flexfarm farm: ${ended.service.options.name} exited (${ended.how}); stopping the farm. Its log ends:\n${ended.service.logTail()}\n`);
  await farm.stop();
  return 1;
}

/** --devices, else every kind whose device this host has. */
function chooseDevices(text: string | undefined): { kind: string; detail: string }[] {
  const found = localDevices();
  if (text === undefined) {
    const up = found.filter((d) => d.device.found);
    for (const d of found.filter((x) => !x.device.found)) say(`no ${d.kind} agent: ${d.device.detail}`);
    if (!up.length) throw new UsageError('no device found on this machine to start an agent for (--devices sim starts a simulated one)');
    return up.map((d) => ({ kind: d.kind, detail: d.device.detail }));
  }
  const kinds = text.split(',').map((k) => k.trim()).filter(Boolean);
  if (!kinds.length) throw new UsageError(`--devices: name at least one of ${TARGET_KINDS.join(', ')}`);
  return kinds.map((kind) => {
    const d = found.find((x) => x.kind === kind);
    if (!d) throw new UsageError(`--devices: '${kind}' is not one of ${TARGET_KINDS.join(', ')}`);
    if (kinds.indexOf(kind) !== kinds.lastIndexOf(kind)) throw new UsageError(`--devices: '${kind}' is listed twice`);
    return { kind, detail: d.device.found ? d.device.detail : 'as asked' };
  });
}

/** The farm's children, stopped in reverse order of start: agents, coordinator, nats-server. */
class LocalFarm {
  private readonly services: ChildService[] = [];
  private readonly pending: Promise<ChildService | undefined>[] = [];

  add(starting: Promise<ChildService>): Promise<ChildService> {
    const tracked = starting.then((s) => { this.services.push(s); return s; });
    this.pending.push(tracked.catch(() => undefined));
    return tracked;
  }

  firstExit(): Promise<{ kind: 'exit'; service: ChildService; how: string }> {
    return Promise.race(this.services.map((service) => service.exited.then(({ code, signal }) => ({
      kind: 'exit' as const, service, how: signal ? `killed by ${signal}` : `exit code ${code}`,
    }))));
  }

  /** Agents first (they finish and publish), then the coordinator, then nats-server. */
  async stop(): Promise<void> {
    await Promise.all(this.pending);
    const agents = this.services.filter((s) => s.options.name.startsWith('agent '));
    const others = this.services.filter((s) => !agents.includes(s));
    await Promise.all(agents.map((s) => s.stop(AGENT_STOP_GRACE_MS)));
    for (const s of others.reverse()) await s.stop(SERVICE_STOP_GRACE_MS);
  }

  /** Every child, started or still starting. */
  kill(): void {
    for (const s of ChildService.running) s.kill('SIGKILL');
  }
}

/** The first SIGINT or SIGTERM resolves; a second one kills every child and exits at once. */
function stopOnSignals(farm: LocalFarm): Promise<{ kind: 'signal'; signal: NodeJS.Signals }> {
  return new Promise((resolve) => {
    let seen = false;
    const handler = (signal: NodeJS.Signals) => {
      if (seen) {
        farm.kill();
        process.exit(130);
      }
      seen = true;
      resolve({ kind: 'signal', signal });
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

const ENTRY = fileURLToPath(new URL('../flexfarm.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** `flexfarm <args>` as a child, ready at its "listening on ADDR" line; `env` adds variables (credentials). */
/** The farm's nats-server is its own (loopback, no authorization): NATS credentials in this
 *  environment are for another server and are not handed down. */
function startFlexfarm(name: string, args: string[], logPath: string, env: Record<string, string>): Promise<ChildService> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLEXFARM_NATS_')));
  return ChildService.start({
    name, command: process.execPath, args: ['--import', TSX, ENTRY, ...args], logPath,
    env: { ...inherited, ...env, FLEXFARM_STOP_ON_STDIN_END: '1' },
    ready: /listening on (\S+)[^\n]*\n/, readyTimeoutMs: 60_000,
  });
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
