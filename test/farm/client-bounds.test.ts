// Acceptance (issue 15): bounds on what a client controls. `campaign submit --repeat 4294967295`
// used to be accepted and kill a sim agent by heap exhaustion; Measure calls whose campaign id
// holds a space or `..` left results the agent retried to publish forever; a 100 KB string was
// echoed whole in the error. Real coordinator and sim agent processes, gRPC over real sockets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { AgentCallError } from '../../contracts/agent-call-error.ts';
import { DEFAULT_PROTOCOL } from '../../contracts/result.ts';
import { GrpcAgentClient } from '../../coordinator/farm/agent-client.ts';
import { defineWorkload } from '../../tensor/ops/registry.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { cli, startAgent, startCoordinator, stopAll, waitFor, type ServiceProcess } from './farm-processes.ts';

let nats: NatsServer;
let dir: string;
let coordinator: ServiceProcess;
let agent: ServiceProcess;
let client: GrpcAgentClient;
const workload = defineWorkload('gemm', { M: 16, N: 16, K: 16 }).key;

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-bounds-'));
  [coordinator, agent] = await Promise.all([
    startCoordinator({ nats: nats.url, records: join(dir, 'records.jsonl'), extra: ['--settle-ms', '100'] }),
    startAgent({ device: 'sim', nats: nats.url, name: 'sim-bounds', extra: ['--delay-ms', '1', '--heartbeat-ms', '200'] }),
  ]);
  client = new GrpcAgentClient(agent.address);
  await waitFor('the agent registered', async () => {
    const r = await cli(['agents', '--coordinator', coordinator.address, '--json']);
    return r.code === 0 && (JSON.parse(r.stdout) as unknown[]).length ? true : undefined;
  });
});

afterAll(async () => {
  client?.close();
  await Promise.all([agent, coordinator].filter(Boolean).map((p) => p.stop()));
  await stopAll();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown>): Promise<AgentCallError> {
  try {
    await p;
  } catch (err) {
    return err as AgentCallError;
  }
  throw new Error('the call succeeded but a refusal was expected');
}

const submit = (extra: string[], op = 'gemm') => cli(['campaign', 'submit', op, '--shape', 'M=16,N=16,K=16', '--targets', 'sim', '--trials', '4',
  '--remeasure', '0', '--coordinator', coordinator.address, '--json', ...extra]);

test('a huge repeat is refused by the coordinator and by the agent, which keeps serving', async () => {
  const huge = await submit(['--repeat', '4294967295']);
  expect(huge.code).not.toBe(0);
  expect(huge.stderr).toMatch(/protocol\.repeat: must be from 1 to 1000/);
  const direct = await refusal(client.measure([{ id: 'x/sim/0', campaign: 'x', workload, target: 'sim', config: {} }], { ...DEFAULT_PROTOCOL, repeat: 4294967295 }));
  expect(direct.message).toMatch(/protocol\.repeat: must be from 1 to 1000/);
  const ok = await submit([]);
  expect(ok.code, ok.stderr).toBe(0);
  const watched = await cli(['campaign', 'watch', (JSON.parse(ok.stdout) as { id: string }).id, '--coordinator', coordinator.address, '--json'], { timeoutMs: 30_000 });
  expect((JSON.parse(watched.stdout) as { state: string }).state).toBe('done');
  expect(agent.log()).not.toMatch(/heap/i);
});

test('campaign ids that are not subject tokens never reach the agent\'s queue', async () => {
  for (const campaign of ['a b', 'x..y', 'a.b', 'c'.repeat(65)]) {
    const err = await refusal(client.measure([{ id: `${campaign}/sim/0`, campaign, workload, target: 'sim', config: {} }], DEFAULT_PROTOCOL));
    expect(err.message).toMatch(/is not a campaign id|whitespace/);
  }
  const described = await client.describe();
  expect(described.load).toEqual({ queued: 0, measuring: 0, unpublished: 0 });
  expect(agent.log()).not.toMatch(/retrying/);
});

test('errors quote a bounded prefix of a 100 KB string', async () => {
  const op = await submit([], 'g'.repeat(100_000));
  expect(op.code).not.toBe(0);
  expect(op.stderr).toMatch(/unknown operator 'g{64}'… \(100000 characters\)/);
  expect(op.stderr.length).toBeLessThan(1_000);
  const id = await cli(['campaign', 'get', 'c'.repeat(100_000), '--coordinator', coordinator.address]);
  expect(id.code).not.toBe(0);
  expect(id.stderr).toMatch(/is not a campaign id/);
  expect(id.stderr.length).toBeLessThan(1_000);
  const workloadErr = await refusal(client.measure([{ id: 'c1/sim/0', campaign: 'c1', workload: 'w'.repeat(100_000), target: 'sim', config: {} }], DEFAULT_PROTOCOL));
  expect(workloadErr.message).toMatch(/workload: is 100000 characters long/);
  expect(workloadErr.message.length).toBeLessThan(500);
});
