// The wire contract, driven by a client that shares no generated code: @grpc/proto-loader reads the
// .proto files and talks to a real coordinator and a real agent (separate processes). Also the
// acceptance on bad input: malformed or oversized requests, unknown campaign ids, unknown device
// classes, a target with no agent → the right status code and message; the servers keep serving.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defineWorkload } from '../../tensor/ops/registry.ts';
import { cpuClassicTemplate } from '../../tensor/templates/cpu.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { cli, REPO, startAgent, startCoordinator, stopAll, streamedResults, waitFor, type ServiceProcess } from './farm-processes.ts';

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
let nats: NatsServer;
let dir: string;
let coordinator: ServiceProcess;
let agent: ServiceProcess;
let agentClient: Client, coordinatorClient: Client, agentHealth: Client, coordinatorHealth: Client;

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-contract-'));
  [coordinator, agent] = await Promise.all([
    startCoordinator({ nats: nats.url, records: join(dir, 'records.jsonl'), extra: ['--settle-ms', '100'] }),
    startAgent({ device: 'sim', nats: nats.url, name: 'sim-contract', extra: ['--delay-ms', '2', '--capacity', '4'] }),
  ]);
  const definition = protoLoader.loadSync(['flexfarm/v1/agent.proto', 'flexfarm/v1/coordinator.proto', 'grpc/health/v1/health.proto'], {
    includeDirs: [join(REPO, 'proto')], keepCase: true, defaults: true, enums: String, longs: String,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    flexfarm: { v1: Record<string, grpc.ServiceClientConstructor> };
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  const insecure = grpc.credentials.createInsecure();
  agentClient = new pkg.flexfarm.v1.AgentService(agent.address, insecure) as Client;
  coordinatorClient = new pkg.flexfarm.v1.CoordinatorService(coordinator.address, insecure) as Client;
  agentHealth = new pkg.grpc.health.v1.Health(agent.address, insecure) as Client;
  coordinatorHealth = new pkg.grpc.health.v1.Health(coordinator.address, insecure) as Client;
  await waitFor('the agent registered', async () => {
    const { agents } = await call<{ agents: unknown[] }>(coordinatorClient, 'ListAgents', {});
    return agents.length ? true : undefined;
  });
});

afterAll(async () => {
  for (const c of [agentClient, coordinatorClient, agentHealth, coordinatorHealth]) c?.close();
  await Promise.all([agent, coordinator].filter(Boolean).map((p) => p.stop()));
  await stopAll();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function call<T>(client: Client, method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + 10_000 }, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

async function callError(client: Client, method: string, request: unknown): Promise<grpc.ServiceError> {
  try {
    await call(client, method, request);
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error(`${method} succeeded but an error was expected`);
}

/** Sends raw bytes as the request body of `path` (what a broken or hostile client might send). */
function callRaw(address: string, path: string, body: Buffer): Promise<grpc.ServiceError> {
  const Raw = grpc.makeGenericClientConstructor({
    raw: {
      path, requestStream: false, responseStream: false,
      requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b,
    },
  }, 'Raw');
  const client = new Raw(address, grpc.credentials.createInsecure()) as unknown as Client;
  return callError(client, 'raw', body).finally(() => client.close());
}

/** A valid config: the first entity of every knob of the classic CPU template (the space the sim target explores). */
function firstConfig(workload: string): Record<string, unknown> {
  const def = defineWorkload('gemm', { M: 16, N: 16, K: 16 });
  expect(def.key).toBe(workload);
  return Object.fromEntries(cpuClassicTemplate.knobs(def).map((k) => [k.name, k.entities[0]]));
}

describe('AgentService', () => {
  test('Describe says who the agent is, and the standard health service answers', async () => {
    const d = await call<{ name: string; capacity: number; max_batch: number; device: { kind: string; toolchain: string } }>(agentClient, 'Describe', {});
    expect(d.name).toBe('sim-contract');
    expect(d.device.kind).toBe('sim');
    expect(d.device.toolchain).toMatch(/sim/);
    expect(d.capacity).toBe(4);
    expect(d.max_batch).toBeGreaterThan(0);
    expect(await call(agentHealth, 'Check', { service: '' })).toEqual({ status: 'SERVING' });
    expect(await call(agentHealth, 'Check', { service: 'flexfarm.v1.AgentService' })).toEqual({ status: 'SERVING' });
    expect((await callError(agentHealth, 'Check', { service: 'no.such.Service' })).code).toBe(grpc.status.NOT_FOUND);
  });

  test('Measure queues a batch and the results arrive on the campaign subject of the JetStream stream', async () => {
    const workload = 'gemm(M=16,N=16,K=16,dtype=float32)';
    const config = firstConfig(workload);
    const candidates = [0, 1, 2].map((i) => ({ id: `k${i}`, campaign: 'contract', workload, target: 'sim', config_json: JSON.stringify(config) }));
    const response = await call<{ accepted: number }>(agentClient, 'Measure', { candidates, protocol: { repeat: 2 } });
    expect(response.accepted).toBe(3);
    const streamed = await waitFor('three results on flexfarm.results.contract', async () => {
      const got = await streamedResults(nats.url, 'contract');
      return got.length >= 3 ? got : undefined;
    });
    expect(streamed.map((s) => s.result.candidateId).sort()).toEqual(['k0', 'k1', 'k2']);
    for (const s of streamed) {
      expect(s.agent).toBe('sim-contract');
      expect(s.result.error).toBeNull();
      expect(s.result.simulated).toBe(true);
      expect(s.result.seconds).toHaveLength(2);
      expect(s.result.config).toEqual(config);
    }
    // The same ids again while held are not measured twice; a fresh Cancel finds nothing queued.
    expect((await call<{ cancelled: number }>(agentClient, 'Cancel', { campaign: 'contract' })).cancelled).toBe(0);
  });

  test('bad Measure and Cancel requests get INVALID_ARGUMENT, FAILED_PRECONDITION or RESOURCE_EXHAUSTED naming the problem', async () => {
    const good = { id: 'x', campaign: 'contract-bad', workload: 'gemm(M=8,N=8,K=8,dtype=float32)', target: 'sim', config_json: '{}' };
    const cases: [unknown, grpc.status, RegExp][] = [
      [{ candidates: [] }, grpc.status.INVALID_ARGUMENT, /candidates: is empty/],
      [{ candidates: [{ ...good, id: '' }] }, grpc.status.INVALID_ARGUMENT, /candidates\[0\]\.id: is empty/],
      [{ candidates: [good, { ...good, id: 'y', config_json: '{not json' }] }, grpc.status.INVALID_ARGUMENT, /candidates\[1\]\.config_json: is not JSON/],
      [{ candidates: [{ ...good, config_json: '[1,2]' }] }, grpc.status.INVALID_ARGUMENT, /config_json: must be a JSON object/],
      [{ candidates: [{ ...good, target: 'tpu' }] }, grpc.status.INVALID_ARGUMENT, /unknown device class 'tpu'/],
      [{ candidates: [{ ...good, target: 'cpu' }] }, grpc.status.FAILED_PRECONDITION, /targets 'cpu' but agent sim-contract measures 'sim'/],
      [{ candidates: Array.from({ length: 300 }, (_, i) => ({ ...good, id: `b${i}` })) }, grpc.status.INVALID_ARGUMENT, /exceeds max_batch 256/],
      [{ candidates: [good], protocol: { repeat: 0, min_repeat_ms: -5 } }, grpc.status.INVALID_ARGUMENT, /protocol\.min_repeat_ms/],
    ];
    for (const [request, code, message] of cases) {
      const err = await callError(agentClient, 'Measure', request);
      expect(err.code, err.details).toBe(code);
      expect(err.details).toMatch(message);
    }
    const oversized = await callError(agentClient, 'Measure', { candidates: [{ ...good, config_json: 'x'.repeat(5 * 1024 * 1024) }] });
    expect(oversized.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const malformed = await callRaw(agent.address, '/flexfarm.v1.AgentService/Measure', Buffer.from([0xff, 0xff, 0xff, 0x0f]));
    expect(malformed.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(malformed.details).toMatch(/malformed flexfarm\.v1\.AgentService\.Measure request/);
    const cancel = await callError(agentClient, 'Cancel', {});
    expect(cancel.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(cancel.details).toMatch(/campaign or candidate_ids/);
  });
});

describe('CoordinatorService', () => {
  const submit = { op: 'gemm', shape: { M: 32, N: 32, K: 32 }, targets: ['sim'], trials: 16, explorer: 'random', seed: 5 };

  test('a campaign submitted, watched to the end, got and listed; the agent listed', async () => {
    const { id } = await call<{ id: string }>(coordinatorClient, 'SubmitCampaign', submit);
    const events: { campaign: { state: string; targets: { measured: number }[] }; result: { candidate_id: string; agent: string } | null }[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = (coordinatorClient.WatchCampaign as (r: unknown) => grpc.ClientReadableStream<typeof events[number]>)({ id });
      stream.on('data', (e) => events.push(e));
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    expect(events[0].result).toBeNull();
    expect(events.at(-1)!.campaign.state).toBe('done');
    const withResults = events.filter((e) => e.result);
    expect(withResults.length).toBeGreaterThan(0);
    for (const e of withResults) {
      expect(e.result!.candidate_id.startsWith(`${id}/sim/`)).toBe(true);
      expect(e.result!.agent).toBe('sim-contract');
    }
    // the noise travels with every timed result, over the wire too
    const timed = withResults.map((e) => e.result as unknown as { seconds: number[]; spread?: { min: number; median: number; max: number; cv: number } })
      .filter((r) => r.seconds.length);
    expect(timed.length).toBeGreaterThan(0);
    for (const r of timed) {
      expect(r.spread!.min).toBeLessThanOrEqual(r.spread!.median);
      expect(r.spread!.median).toBeLessThanOrEqual(r.spread!.max);
      expect(r.spread!.min).toBe(Math.min(...r.seconds));
      expect(r.spread!.cv).toBeGreaterThanOrEqual(0);
    }
    const got = await call<{ id: string; state: string; workload: string; targets: { target: string; budget: number; measured: number; valid: number; best: { config_json: string; seconds: number; gflops: number; agent: string } }[] }>(coordinatorClient, 'GetCampaign', { id });
    expect(got.state).toBe('done');
    expect(got.workload).toBe('gemm(M=32,N=32,K=32,dtype=float32)');
    expect(got.targets[0]).toMatchObject({ target: 'sim', budget: 16, measured: 16 });
    expect(got.targets[0].best.agent).toBe('sim-contract');
    expect(JSON.parse(got.targets[0].best.config_json)).toHaveProperty('split.m');
    expect(got.targets[0].best.gflops).toBeCloseTo((2 * 32 ** 3) / got.targets[0].best.seconds / 1e9, 6);
    const { campaigns } = await call<{ campaigns: { id: string }[] }>(coordinatorClient, 'ListCampaigns', {});
    expect(campaigns.map((c) => c.id)).toContain(id);
    const { agents } = await call<{ agents: { name: string; kind: string; state: string; source: string; measured: number }[] }>(coordinatorClient, 'ListAgents', {});
    expect(agents).toEqual([expect.objectContaining({ name: 'sim-contract', kind: 'sim', state: 'up', source: 'heartbeat' })]);
    expect(agents[0].measured).toBeGreaterThanOrEqual(16);
    const ended = await callError(coordinatorClient, 'CancelCampaign', { id });
    expect(ended.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(ended.details).toMatch(/already ended \(done\)/);
  });

  test('a running campaign can be cancelled', async () => {
    const { id } = await call<{ id: string }>(coordinatorClient, 'SubmitCampaign', { ...submit, trials: 1_000_000 });
    const cancelled = await call<{ state: string; message: string }>(coordinatorClient, 'CancelCampaign', { id });
    expect(cancelled.state).toBe('cancelled');
    expect((await call<{ state: string }>(coordinatorClient, 'GetCampaign', { id })).state).toBe('cancelled');
  });

  test('bad requests get the right status code and a message naming what is wrong', async () => {
    const cases: [string, unknown, grpc.status, RegExp][] = [
      ['SubmitCampaign', { ...submit, op: 'gemn' }, grpc.status.INVALID_ARGUMENT, /op: unknown operator 'gemn'/],
      ['SubmitCampaign', { ...submit, shape: { M: 32, N: 32 } }, grpc.status.INVALID_ARGUMENT, /shape: .*parameter K: missing/],
      ['SubmitCampaign', { ...submit, op: 'conv2d', shape: { N: 1, C: 3, H: 8, W: 8, K: 4, R: 3, S: 3, pad: -1 } }, grpc.status.INVALID_ARGUMENT, /parameter pad: must be >= 0/],
      ['SubmitCampaign', { ...submit, targets: [] }, grpc.status.INVALID_ARGUMENT, /targets: is empty/],
      ['SubmitCampaign', { ...submit, targets: ['tpu'] }, grpc.status.INVALID_ARGUMENT, /unknown device class 'tpu'/],
      ['SubmitCampaign', { ...submit, targets: ['sim', 'cpu'] }, grpc.status.FAILED_PRECONDITION, /no agent serves target 'cpu' \(agents up: sim-contract \(sim\)\)/],
      ['SubmitCampaign', { ...submit, trials: 0 }, grpc.status.INVALID_ARGUMENT, /trials: must be an integer from 1/],
      ['SubmitCampaign', { ...submit, explorer: 'psychic' }, grpc.status.INVALID_ARGUMENT, /unknown explorer 'psychic'/],
      ['GetCampaign', { id: 'c-no-such' }, grpc.status.NOT_FOUND, /unknown campaign 'c-no-such'/],
      ['GetCampaign', { id: '' }, grpc.status.INVALID_ARGUMENT, /id: is empty/],
      ['CancelCampaign', { id: 'c-no-such' }, grpc.status.NOT_FOUND, /unknown campaign 'c-no-such'/],
    ];
    for (const [method, request, code, message] of cases) {
      const err = await callError(coordinatorClient, method, request);
      expect(err.code, `${method} ${JSON.stringify(request)}: ${err.details}`).toBe(code);
      expect(err.details).toMatch(message);
    }
    const watchErr = await new Promise<grpc.ServiceError>((resolve) => {
      const stream = (coordinatorClient.WatchCampaign as (r: unknown) => grpc.ClientReadableStream<unknown>)({ id: 'c-no-such' });
      stream.on('data', () => {});
      stream.on('error', resolve);
    });
    expect(watchErr.code).toBe(grpc.status.NOT_FOUND);
    const oversized = await callError(coordinatorClient, 'SubmitCampaign', { ...submit, op: 'x'.repeat(2 * 1024 * 1024) });
    expect(oversized.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const malformed = await callRaw(coordinator.address, '/flexfarm.v1.CoordinatorService/SubmitCampaign', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(malformed.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(malformed.details).toMatch(/malformed flexfarm\.v1\.CoordinatorService\.SubmitCampaign request/);
  });

  test('the command line reports bad input on stderr with a non-zero exit and nothing on stdout', async () => {
    const unknown = await cli(['campaign', 'get', 'c-no-such', '--coordinator', coordinator.address, '--json']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/^flexfarm campaign: unknown campaign 'c-no-such'\n$/);
    const device = await cli(['campaign', 'submit', 'gemm', '--shape', 'M=8,N=8,K=8', '--targets', 'gpu', '--trials', '4', '--coordinator', coordinator.address]);
    expect(device.code).toBe(1);
    expect(device.stdout).toBe('');
    expect(device.stderr).toMatch(/^flexfarm campaign: no agent serves target 'gpu'/);
    const noGcc = await cli(['agent', '--device', 'cpu', '--listen', '127.0.0.1:0', '--nats', nats.url], { env: { PATH: '/nonexistent' } });
    expect(noGcc.code).toBe(1);
    expect(noGcc.stderr).toMatch(/C compiler 'gcc' not found: install it/);
    const badDevice = await cli(['agent', '--device', 'tpu', '--nats', nats.url]);
    expect(badDevice.code).toBe(2);
    expect(badDevice.stderr).toMatch(/--device: 'tpu' is not one of cpu, sim/);
  });

  test('a coordinator given a static --agent list polls that agent over gRPC and lists it as static', async () => {
    const second = await startCoordinator({
      nats: nats.url, records: join(dir, 'second.jsonl'), extra: ['--agent', agent.address, '--consumer', 'second-coordinator', '--settle-ms', '100'],
    });
    try {
      const insecure = grpc.credentials.createInsecure();
      const client = new (coordinatorClient.constructor as new (a: string, c: grpc.ChannelCredentials) => Client)(second.address, insecure);
      const listed = await waitFor('the static agent listed', async () => {
        const { agents } = await call<{ agents: { name: string; address: string; source: string; state: string }[] }>(client, 'ListAgents', {});
        return agents.find((a) => a.source === 'static');
      });
      client.close();
      expect(listed).toMatchObject({ name: 'sim-contract', address: agent.address, state: 'up' });
    } finally {
      await second.stop();
    }
  });

  test('after all of that, both servers still serve', async () => {
    expect(await call(coordinatorHealth, 'Check', { service: 'flexfarm.v1.CoordinatorService' })).toEqual({ status: 'SERVING' });
    expect(await call(agentHealth, 'Check', { service: 'flexfarm.v1.AgentService' })).toEqual({ status: 'SERVING' });
    const d = await call<{ name: string }>(agentClient, 'Describe', {});
    expect(d.name).toBe('sim-contract');
  });
});
