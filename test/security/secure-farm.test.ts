// End to end with credentials on (issue 15, item 1): a real nats-server, a coordinator and a sim
// agent as processes under TLS, mTLS and a token (the agent takes them from the environment, the
// coordinator from flags), and the CLI with the same credentials; a campaign runs to the end. The
// CLI without the token is refused and the coordinator's /metrics counts it. A non-loopback listen
// without credentials refuses in one line with status 1; --insecure allows it. `farm up` passes
// its credentials to its children.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { makeLabPki, type LabPki } from '../helpers/lab-ca.ts';
import { cli, REPO, startAgent, startCoordinator, stopAll, waitFor, type ServiceProcess } from '../farm/farm-processes.ts';

let pki: LabPki;
let nats: NatsServer;
let dir: string;
let coordinator: ServiceProcess;
let agent: ServiceProcess;

const serverFlags = () => ['--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--tls-ca', pki.ca, '--mtls', '--token-file', pki.tokenFile];
const clientFlags = () => ['--tls-ca', pki.ca, '--tls-cert', pki.clientCert, '--tls-key', pki.clientKey];
const tokenEnv = () => ({ FLEXFARM_TOKEN_FILE: pki.tokenFile });

beforeAll(async () => {
  pki = makeLabPki();
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-secure-'));
  coordinator = await startCoordinator({ nats: nats.url, records: join(dir, 'records.jsonl'), extra: ['--http', '127.0.0.1:0', '--settle-ms', '100', ...serverFlags()] });
  // The agent's credentials come from its environment, as a systemd unit's EnvironmentFile gives them.
  agent = await startAgent({ device: 'sim', nats: nats.url, name: 'sim-secure', extra: ['--heartbeat-ms', '200'] }, {
    FLEXFARM_TLS_CERT: pki.serverCert, FLEXFARM_TLS_KEY: pki.serverKey, FLEXFARM_TLS_CA: pki.ca, FLEXFARM_MTLS: '1', FLEXFARM_TOKEN: pki.token,
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([agent, coordinator].filter(Boolean).map((p) => p.stop()));
  await stopAll();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
  pki?.dispose();
});

test('a campaign runs through a coordinator and an agent under TLS, mTLS and a token', async () => {
  expect(coordinator.log()).toContain('gRPC: TLS, client certificates signed by the lab CA, a bearer token on every call');
  await waitFor('the agent up', async () => {
    const r = await cli(['agents', '--coordinator', coordinator.address, '--json', ...clientFlags()], { env: tokenEnv() });
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { name: string; state: string }[]).some((a) => a.name === 'sim-secure' && a.state === 'up') ? true : undefined;
  });
  const submitted = await cli(['campaign', 'submit', 'gemm', '--shape', 'M=16,N=16,K=16', '--targets', 'sim', '--trials', '12', '--remeasure', '1',
    '--coordinator', coordinator.address, '--json', ...clientFlags()], { env: tokenEnv() });
  expect(submitted.code, submitted.stderr).toBe(0);
  const { id } = JSON.parse(submitted.stdout) as { id: string };
  const watched = await cli(['campaign', 'watch', id, '--coordinator', coordinator.address, '--json', ...clientFlags()], { env: { FLEXFARM_TOKEN: pki.token }, timeoutMs: 90_000 });
  expect(watched.code, watched.stderr).toBe(0);
  const final = JSON.parse(watched.stdout) as { state: string; targets: { measured: number; best: unknown }[] };
  expect(final.state).toBe('done');
  expect(final.targets[0].measured).toBe(12);
  expect(final.targets[0].best).not.toBeNull();
}, 120_000);

test('the CLI without the token, or without a client certificate, is refused with the reason; the coordinator counts it', async () => {
  const noToken = await cli(['agents', '--coordinator', coordinator.address, ...clientFlags()]);
  expect(noToken.code).toBe(1);
  expect(noToken.stderr).toBe(`flexfarm agents: the coordinator at ${coordinator.address} refused the call: no bearer token: this server needs the lab token in the call metadata (--token-file FILE or FLEXFARM_TOKEN)\n`);
  const noCert = await cli(['campaign', 'list', '--coordinator', coordinator.address, '--tls-ca', pki.ca], { env: tokenEnv() });
  expect(noCert.code).toBe(1);
  expect(noCert.stderr).toContain('no client certificate signed by the lab CA was presented');
  const plaintext = await cli(['campaign', 'list', '--coordinator', coordinator.address], { env: tokenEnv() });
  expect(plaintext.code).toBe(1);
  expect(plaintext.stderr).toContain('that port speaks TLS');
  const metrics = await (await fetch(`http://${coordinator.http}/metrics`)).text();
  expect(metrics).toMatch(/^flexfarm_grpc_auth_refused_total\{reason="missing_token"\} [1-9]\d*$/m);
  expect(metrics).toMatch(/^flexfarm_grpc_auth_refused_total\{reason="no_client_certificate"\} [1-9]\d*$/m);
  expect(metrics).toMatch(/^flexfarm_grpc_auth_refused_total\{reason="wrong_token"\} 0$/m);
}, 60_000);

test('a token is never taken on the command line', async () => {
  const r = await cli(['campaign', 'list', '--token', pki.token]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('a token is never taken on the command line, where ps shows it: --token-file FILE or FLEXFARM_TOKEN');
});

test('a bad credential file stops a server at start, naming it', async () => {
  const r = await cli(['agent', '--device', 'sim', '--nats', nats.url, '--tls-cert', pki.serverCert, '--tls-key', pki.clientKey]);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(`flexfarm agent: --tls-key ${pki.clientKey}: this key does not belong to the certificate of --tls-cert\n`);
});

test('beyond loopback without credentials: agent and coordinator refuse in one line with status 1', async () => {
  const a = await cli(['agent', '--device', 'sim', '--listen', '0.0.0.0:0', '--nats', nats.url]);
  expect(a.code).toBe(1);
  expect(a.stderr).toMatch(/^flexfarm agent: refusing to listen on 0\.0\.0\.0:0: no TLS and no client authentication: anyone who can reach the port can call it; .*--insecure to accept the risk\n$/);
  const c = await cli(['coordinator', '--listen', '0.0.0.0:0', '--nats', nats.url, '--records', join(dir, 'other.jsonl'), '--tls-cert', pki.serverCert, '--tls-key', pki.serverKey]);
  expect(c.code).toBe(1);
  expect(c.stderr).toMatch(/^flexfarm coordinator: refusing to listen on 0\.0\.0\.0:0: TLS alone authenticates no client: .*\n$/);
});

test('beyond loopback with --insecure: the agent listens, and logs what that exposes', async () => {
  const open = await startAgent({ device: 'sim', nats: nats.url, name: 'sim-open', extra: ['--listen', '0.0.0.0:0', '--insecure'] });
  try {
    expect(open.log()).toContain('warning: listening on 0.0.0.0:0 with no TLS and no client authentication: anyone who can reach the port can call it (--insecure)');
  } finally {
    await open.stop();
  }
}, 60_000);

test('farm up passes its credentials to the coordinator and the agents; a campaign runs with the same on the CLI', async () => {
  const store = join(dir, 'farm');
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'cli', 'flexfarm.ts'), 'farm', 'up', '--http', '127.0.0.1:0', '--listen', '127.0.0.1:0',
    '--nats-listen', '127.0.0.1:0', '--store', store, '--devices', 'sim', ...serverFlags()], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor('the farm up', () => (out.includes('Ctrl-C stops the farm') ? true : undefined), 90_000)
      .catch((e: Error) => { throw new Error(`${e.message}\n${out}\n${err}`); });
    expect(out).toContain('(with the same --tls-ca, --tls-cert/--tls-key and token)');
    const address = /^coordinator (\S+) /m.exec(out)![1];
    await waitFor('the sim agent up', async () => {
      const r = await cli(['agents', '--coordinator', address, '--json', ...clientFlags()], { env: tokenEnv() });
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { kind: string; state: string }[]).some((a) => a.kind === 'sim' && a.state === 'up') ? true : undefined;
    }, 30_000, 500);
    const submitted = await cli(['campaign', 'submit', 'gemm', '--shape', 'M=8,N=8,K=8', '--targets', 'sim', '--trials', '6', '--remeasure', '0',
      '--coordinator', address, '--json', ...clientFlags()], { env: tokenEnv() });
    expect(submitted.code, submitted.stderr).toBe(0);
    const { id } = JSON.parse(submitted.stdout) as { id: string };
    const watched = await cli(['campaign', 'watch', id, '--coordinator', address, '--json', ...clientFlags()], { env: tokenEnv(), timeoutMs: 90_000 });
    expect(watched.code, watched.stderr).toBe(0);
    expect((JSON.parse(watched.stdout) as { state: string }).state).toBe('done');
    const refused = await cli(['agents', '--coordinator', address, ...clientFlags()]);
    expect(refused.stderr).toContain('no bearer token');
  } finally {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
}, 240_000);
