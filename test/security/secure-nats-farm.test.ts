// Acceptance (issue 15, item 2): a whole campaign on nats-server run with the shipped
// configuration (deploy/nats-server.conf: TLS, a user per role, per-role permissions), coordinator
// and agent as real processes given their credentials as the deploy/ environment files give them.
// Meanwhile another agent's credential forges results: on the honest agent's subject the server
// refuses them; on its own subject, for candidates sent to the honest agent, the coordinator
// drops them (wrong_agent, the agent of the subject named) and counts them; none is applied.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { defineWorkload } from '../../tensor/ops/registry.ts';
import { agentInboxPrefix } from '../../contracts/subjects.ts';
import { loadNatsSecurity } from '../../contracts/security/nats-security.ts';
import { counterValue, forger, type Forger } from '../helpers/forge.ts';
import { makeLabPki, type LabPki } from '../helpers/lab-ca.ts';
import { SHIPPED_AGENTS, startShippedNats, type ShippedNats } from '../helpers/shipped-nats.ts';
import { cli, readRecords, startAgent, startCoordinator, stopAll, waitFor, type ServiceProcess } from '../farm/farm-processes.ts';

const [HONEST, INTRUDER] = SHIPPED_AGENTS;
const TRIALS = 6;
const SHAPE = 'M=64,N=48,K=32';
const WORKLOAD = defineWorkload('gemm', { M: 64, N: 48, K: 32 }).key;
let pki: LabPki;
let nats: ShippedNats;
let dir: string;
let records: string;
let coordinator: ServiceProcess;
let agent: ServiceProcess;
let forge: Forger;

/** What /etc/flexfarm/*.env gives a side (deploy/*.env.example); an agent's user is its name. */
const natsEnv = (user: string, role: 'coordinator' | 'agent'): NodeJS.ProcessEnv => ({
  ...(role === 'coordinator' ? { FLEXFARM_NATS_USER: user } : {}), FLEXFARM_NATS_PASSWORD_FILE: nats.passwordFile(user), FLEXFARM_NATS_TLS_CA: pki.ca,
});

beforeAll(async () => {
  pki = makeLabPki();
  nats = await startShippedNats(pki);
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-secure-nats-'));
  records = join(dir, 'records.jsonl');
  coordinator = await startCoordinator({ nats: nats.url, records, extra: ['--http', '127.0.0.1:0', '--settle-ms', '100'] }, natsEnv('coordinator', 'coordinator'));
  // One candidate at a time, each measured for 1 s: there is time to forge its result.
  agent = await startAgent({ device: 'sim', nats: nats.url, name: HONEST, extra: ['--delay-ms', '1000', '--capacity', '1', '--heartbeat-ms', '200'] }, natsEnv(HONEST, 'agent'));
  const sec = loadNatsSecurity({ user: { value: INTRUDER, from: 'test' }, password: { value: nats.password(INTRUDER), from: 'test' }, tlsCa: { value: pki.ca, from: 'test' } });
  forge = await forger(nats.url, { ...sec.connect, inboxPrefix: agentInboxPrefix(INTRUDER) });
  await waitFor('the agent registered', async () => ((await metrics()).includes(`agent="${HONEST}"`) ? true : undefined));
}, 60_000);

afterAll(async () => {
  await forge?.close();
  await Promise.all([agent, coordinator].filter(Boolean).map((p) => p.stop()));
  await stopAll();
  await nats?.dispose();
  pki?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function metrics(): Promise<string> {
  return (await fetch(`http://${coordinator.http}/metrics`)).text();
}

function forgedResult(candidateId: string, campaign: string) {
  return {
    candidateId, campaign, workload: WORKLOAD, target: 'sim', config: {}, seconds: [1e-3], median: 1e-3, error: null,
    device: { kind: 'sim', name: 'forger', model: 'FORGED', cores: 1, memoryBytes: 1, toolchain: 'x', limits: {} },
    toolchain: 'x', simulated: true, at: new Date().toISOString(),
  };
}

test('a campaign runs to the end on the shipped configuration; results forged with another agent\'s credential are refused or dropped', async () => {
  expect(coordinator.log()).toMatch(/NATS: user 'coordinator' over TLS/);
  expect(agent.log()).toMatch(new RegExp(`user '${HONEST}' over TLS`));
  const submitted = await cli(['campaign', 'submit', 'gemm', '--shape', SHAPE, '--targets', 'sim', '--trials', String(TRIALS),
    '--remeasure', '0', '--seed', '5', '--coordinator', coordinator.address, '--json']);
  expect(submitted.code, submitted.stderr).toBe(0);
  const campaign = (JSON.parse(submitted.stdout) as { id: string }).id;
  await waitFor('a first result', () => (readRecords(records).some((r) => r.campaign === campaign) ? true : undefined), 20_000, 100);

  // Every id the campaign issues: one is in flight to the honest agent now (capacity 1, 1 s each).
  const ids = Array.from({ length: TRIALS }, (_, seq) => `${campaign}/sim/${seq}`);
  const onHonestSubject = await Promise.allSettled(ids.map((id) => forge.result(`flexfarm.results.${campaign}.${HONEST}`, { v: 1, agent: HONEST, result: forgedResult(id, campaign) })));
  expect(onHonestSubject.map((r) => r.status)).toEqual(ids.map(() => 'rejected'));
  expect(String((onHonestSubject[0] as PromiseRejectedResult).reason)).toMatch(/Permissions Violation for Publish/);
  await Promise.all(ids.map((id) => forge.result(`flexfarm.results.${campaign}.${INTRUDER}`, { v: 1, agent: INTRUDER, result: forgedResult(id, campaign) })));
  await Promise.all(ids.map((id) => forge.result(`flexfarm.results.${campaign}.${INTRUDER}`, { v: 1, agent: HONEST, result: forgedResult(id, campaign) })));

  const watched = await cli(['campaign', 'watch', campaign, '--coordinator', coordinator.address, '--json'], { timeoutMs: 60_000 });
  expect(watched.code, watched.stderr).toBe(0);
  const final = JSON.parse(watched.stdout) as { state: string; targets: { measured: number }[] };
  expect(final.state).toBe('done');
  expect(final.targets[0].measured).toBe(TRIALS);
  const logged = readRecords(records).filter((r) => r.campaign === campaign);
  expect(logged).toHaveLength(TRIALS);
  expect(logged.filter((r) => r.device.model === 'FORGED')).toEqual([]);
  expect(new Set(logged.map((r) => r.candidateId)).size).toBe(TRIALS);

  const text = await metrics();
  const dropped = (reason: string) => counterValue(text, 'flexfarm_messages_dropped_total', { subject_kind: 'results', reason });
  expect(dropped('wrong_agent')).toBeGreaterThanOrEqual(1);
  expect(dropped('agent_mismatch')).toBe(TRIALS);
  expect(coordinator.log()).toMatch(new RegExp(`dropped a results message \\(wrong_agent\\): result '${campaign}/sim/\\d+' from '${INTRUDER}' \\(the agent of its subject\\): it was sent to '${HONEST}'`));
  expect(coordinator.log()).toMatch(new RegExp(`dropped a message on flexfarm\\.results\\.${campaign}\\.${INTRUDER}: agent_mismatch: envelope\\.agent: "${HONEST}" is not the agent of its subject \\("${INTRUDER}"\\)`));
  expect(coordinator.log()).not.toMatch(/Permissions Violation/);
  expect(agent.log()).not.toMatch(/Permissions Violation/);
}, 120_000);
