// gRPC security over real sockets on 127.0.0.1 with a throwaway lab CA made by openssl: an agent
// server under mTLS and a token, a coordinator server under TLS and a token, and clients with
// every wrong credential. Refused calls are UNAUTHENTICATED (or fail the TLS handshake on the
// client's side), name why, are counted by the servers' metrics, and the servers keep serving.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AgentMetrics } from '../../agent/metrics.ts';
import { SimBackend } from '../../agent/backends/sim/sim-backend.ts';
import { AgentServer } from '../../agent/server.ts';
import { CoordinatorClient, type CoordinatorCallError } from '../../cli/coordinator-client.ts';
import { MemoryBus } from '../../contracts/bus-memory.ts';
import { clientChannel } from '../../contracts/security/client-channel.ts';
import { loadGrpcSecurity, type GrpcSecurity, type SecuritySettings } from '../../contracts/security/grpc-security.ts';
import { InsecureListenError } from '../../contracts/security/listen-policy.ts';
import { GrpcAgentClient } from '../../coordinator/farm/agent-client.ts';
import { Farm } from '../../coordinator/farm/farm.ts';
import { CoordinatorMetrics } from '../../coordinator/metrics.ts';
import { CoordinatorServer } from '../../coordinator/server.ts';
import { HealthClient } from '../../proto/grpc/health/v1/health.ts';
import { makeLabPki, type LabPki } from '../helpers/lab-ca.ts';

let pki: LabPki;
let dir: string;
let agent: AgentServer;
let agentMetrics: AgentMetrics;
let coordinator: CoordinatorServer;
let coordinatorMetrics: CoordinatorMetrics;
let farm: Farm;
const logged: string[] = [];
const closers: (() => void)[] = [];

const at = (value: string) => ({ value, from: 'test' });
const load = (s: SecuritySettings) => loadGrpcSecurity(s);
/** The lab's client: CA, client certificate, token. */
const lab = () => load({ tlsCa: at(pki.ca), tlsCert: at(pki.clientCert), tlsKey: at(pki.clientKey), token: at(pki.token) });

beforeAll(async () => {
  pki = makeLabPki();
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-auth-'));
  const server = { tlsCert: at(pki.serverCert), tlsKey: at(pki.serverKey), tlsCa: at(pki.ca), tokenFile: at(pki.tokenFile) };
  agentMetrics = new AgentMetrics({ agent: 'sim-secure', deviceClass: 'sim', processMetrics: false });
  agent = await AgentServer.start({
    name: 'sim-secure', listen: '127.0.0.1:0', backend: new SimBackend({ seed: 1 }), bus: new MemoryBus(),
    security: load({ ...server, mtls: { from: '--mtls' } }), authRefused: agentMetrics.authRefused, log: (l) => logged.push(l),
  });
  coordinatorMetrics = new CoordinatorMetrics({ processMetrics: false });
  farm = new Farm({ bus: new MemoryBus(), recordsPath: join(dir, 'records.jsonl'), settleMs: 0 });
  coordinator = await CoordinatorServer.start({ farm, listen: '127.0.0.1:0', security: load(server), authRefused: coordinatorMetrics.authRefused });
});

afterAll(async () => {
  for (const close of closers) close();
  await agent?.stop(0);
  await coordinator?.stop();
  await farm?.close();
  agentMetrics?.close();
  rmSync(dir, { recursive: true, force: true });
  pki?.dispose();
});

function agentClient(sec: GrpcSecurity): GrpcAgentClient {
  const c = new GrpcAgentClient(agent.address, 5_000, clientChannel(sec));
  closers.push(() => c.close());
  return c;
}

function coordinatorClient(sec: GrpcSecurity): CoordinatorClient {
  const c = new CoordinatorClient(coordinator.address, 5_000, clientChannel(sec));
  closers.push(() => c.close());
  return c;
}

async function counted(metrics: { scrape(): Promise<string> }, name: string, reason: string): Promise<number> {
  const line = (await metrics.scrape()).split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`reason="${reason}"`));
  return line ? Number(line.split(' ').pop()) : NaN;
}

const agentRefusals = (reason: string) => counted(agentMetrics, 'flexfarm_agent_grpc_auth_refused_total', reason);
const coordinatorRefusals = (reason: string) => counted(coordinatorMetrics, 'flexfarm_grpc_auth_refused_total', reason);

async function rejection(p: Promise<unknown>): Promise<Error & { code?: unknown; cause?: unknown }> {
  return p.then(() => { throw new Error('the call was accepted'); }, (err: Error) => err);
}

describe('metrics from the start', () => {
  test('both servers export the refusal counter at 0 for every reason before any refusal', async () => {
    const fresh = new CoordinatorMetrics({ processMetrics: false });
    for (const reason of ['no_client_certificate', 'missing_token', 'wrong_token']) {
      expect(await counted(fresh, 'flexfarm_grpc_auth_refused_total', reason)).toBe(0);
    }
    const freshAgent = new AgentMetrics({ agent: 'a', deviceClass: 'sim', processMetrics: false });
    expect(await counted(freshAgent, 'flexfarm_agent_grpc_auth_refused_total', 'wrong_token')).toBe(0);
    freshAgent.close();
  });
});

describe('agent under mTLS and a token', () => {
  test('the lab client (CA, client certificate, token) is served', async () => {
    const h = await agentClient(lab()).describe();
    expect(h.name).toBe('sim-secure');
  });

  test('a client certificate signed by another CA is refused, named and counted', async () => {
    const before = await agentRefusals('no_client_certificate');
    const stranger = load({ tlsCa: at(pki.ca), tlsCert: at(pki.otherClientCert), tlsKey: at(pki.otherClientKey), token: at(pki.token) });
    const err = await rejection(agentClient(stranger).describe());
    expect((err.cause as ServiceError).code).toBe(status.UNAUTHENTICATED);
    expect(err.message).toContain('no client certificate signed by the lab CA was presented');
    expect(await agentRefusals('no_client_certificate')).toBe(before + 1);
    expect(logged.some((l) => l.includes('refused /flexfarm.v1.AgentService/Describe') && l.includes('(no_client_certificate)'))).toBe(true);
  });

  test('no client certificate at all is refused the same way, even with the right token', async () => {
    const before = await agentRefusals('no_client_certificate');
    const err = await rejection(agentClient(load({ tlsCa: at(pki.ca), token: at(pki.token) })).describe());
    expect((err.cause as ServiceError).code).toBe(status.UNAUTHENTICATED);
    expect(await agentRefusals('no_client_certificate')).toBe(before + 1);
  });

  test('the right certificate with a wrong token, or none, is refused', async () => {
    const [wrong0, missing0] = [await agentRefusals('wrong_token'), await agentRefusals('missing_token')];
    const cert = { tlsCa: at(pki.ca), tlsCert: at(pki.clientCert), tlsKey: at(pki.clientKey) };
    const wrong = await rejection(agentClient(load({ ...cert, token: at('not-the-lab-token-at-all') })).measure([], {} as never));
    expect((wrong.cause as ServiceError).code).toBe(status.UNAUTHENTICATED);
    expect(wrong.message).toContain("the bearer token is not this server's");
    const missing = await rejection(agentClient(load(cert)).cancel({ campaign: 'c1' }));
    expect(missing.message).toContain('no bearer token');
    expect(await agentRefusals('wrong_token')).toBe(wrong0 + 1);
    expect(await agentRefusals('missing_token')).toBe(missing0 + 1);
  });

  test('every service is covered: the health check too', async () => {
    const health = new HealthClient(agent.address, clientChannel(load({ tlsCa: at(pki.ca), tlsCert: at(pki.clientCert), tlsKey: at(pki.clientKey) })).credentials);
    closers.push(() => health.close());
    const err = await new Promise<ServiceError | null>((resolve) => health.check({ service: '' }, new Metadata(), { deadline: Date.now() + 5_000 }, (e) => resolve(e)));
    expect(err?.code).toBe(status.UNAUTHENTICATED);
  });

  test('a client that lacks the lab CA fails the handshake: it does not trust the server', async () => {
    const err = await rejection(agentClient(load({ tlsCa: at(pki.otherCa), tlsCert: at(pki.clientCert), tlsKey: at(pki.clientKey), token: at(pki.token) })).describe());
    expect((err.cause as ServiceError).code).toBe(status.UNAVAILABLE);
    expect(err.message).toMatch(/self[- ]signed certificate|unable to verify/);
  });

  test('plaintext to the TLS port is refused', async () => {
    const err = await rejection(agentClient(load({ token: at(pki.token) })).describe());
    expect((err.cause as ServiceError).code).toBe(status.UNAVAILABLE);
  });

  test('after all these refusals the agent still serves the lab client', async () => {
    expect((await agentClient(lab()).describe()).name).toBe('sim-secure');
  });
});

describe('coordinator under TLS and a token', () => {
  test('the right token passes (no client certificate needed without --mtls)', async () => {
    const r = await coordinatorClient(load({ tlsCa: at(pki.ca), token: at(pki.token) })).call('listCampaigns', {});
    expect(r).toEqual({ campaigns: [] });
  });

  test('a wrong or missing token is UNAUTHENTICATED, explained, and counted', async () => {
    const [wrong0, missing0] = [await coordinatorRefusals('wrong_token'), await coordinatorRefusals('missing_token')];
    const wrong = await rejection(coordinatorClient(load({ tlsCa: at(pki.ca), token: at('x'.repeat(32)) })).call('listAgents', {})) as CoordinatorCallError;
    expect(wrong.code).toBe(status.UNAUTHENTICATED);
    expect(wrong.message).toBe(`the coordinator at ${coordinator.address} refused the call: the bearer token is not this server's`);
    const missing = await rejection(coordinatorClient(load({ tlsCa: at(pki.ca) })).call('listCampaigns', {})) as CoordinatorCallError;
    expect(missing.code).toBe(status.UNAUTHENTICATED);
    expect(missing.message).toContain('no bearer token: this server needs the lab token');
    expect(await coordinatorRefusals('wrong_token')).toBe(wrong0 + 1);
    expect(await coordinatorRefusals('missing_token')).toBe(missing0 + 1);
  });

  test('a streaming call (WatchCampaign) is refused the same way', async () => {
    const err = await rejection(coordinatorClient(load({ tlsCa: at(pki.ca) })).watch('c1', () => {})) as CoordinatorCallError;
    expect(err.code).toBe(status.UNAUTHENTICATED);
  });

  test('a client without the lab CA is told the certificate is not signed by its --tls-ca', async () => {
    const err = await rejection(coordinatorClient(load({ tlsCa: at(pki.otherCa), token: at(pki.token) })).call('listCampaigns', {}));
    expect(err.message).toMatch(/^cannot reach the coordinator at .*: TLS: its certificate is not signed by the CA given in --tls-ca/);
  });

  test('a plaintext client is told that the port speaks TLS', async () => {
    const err = await rejection(coordinatorClient(load({ token: at(pki.token) })).call('listCampaigns', {}));
    expect(err.message).toContain('that port speaks TLS: give the lab CA with --tls-ca FILE');
  });

  test('a TLS client at a plaintext port is told it does not speak TLS', async () => {
    const plain = await CoordinatorServer.start({ farm, listen: '127.0.0.1:0' });
    try {
      const c = new CoordinatorClient(plain.address, 5_000, clientChannel(load({ tlsCa: at(pki.ca) })));
      closers.push(() => c.close());
      const err = await rejection(c.call('listCampaigns', {}));
      expect(err.message).toContain('it does not speak TLS there');
    } finally {
      await plain.stop();
    }
  });
});

describe('listening beyond loopback', () => {
  test('a server without credentials refuses 0.0.0.0, and binds it with insecure', async () => {
    await expect(CoordinatorServer.start({ farm, listen: '0.0.0.0:0' })).rejects.toThrow(InsecureListenError);
    const lines: string[] = [];
    const open = await CoordinatorServer.start({ farm, listen: '0.0.0.0:0', insecure: true, log: (l) => lines.push(l) });
    try {
      expect(open.address).toMatch(/^0\.0\.0\.0:\d+$/);
      expect(lines).toEqual([expect.stringContaining('warning: listening on 0.0.0.0:0 with no TLS and no client authentication')]);
      const c = new CoordinatorClient(`127.0.0.1:${open.address.split(':')[1]}`, 5_000, { credentials: credentials.createInsecure(), options: {}, tls: false });
      closers.push(() => c.close());
      expect(await c.call('listCampaigns', {})).toEqual({ campaigns: [] });
    } finally {
      await open.stop();
    }
  });
});
