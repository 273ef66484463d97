// What the command line says when something is wrong, against real processes and sockets: no gRPC
// status prefixes, no empty "Resolution note: )", a hint when --coordinator points at an HTTP or
// NATS port, http:// taken off, "did you mean" for unknown flags, one clean line for a taken port.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AgentMetrics } from '../agent/metrics.ts';
import { cleanDetails } from '../cli/coordinator-client.ts';
import { closestFlag } from '../cli/flag-suggestion.ts';
import { cli, httpAddressOf, startCoordinator, stopAll, type ServiceProcess } from './farm/farm-processes.ts';
import { freePort, startNatsServer, type NatsServer } from './helpers/nats-server.ts';

let nats: NatsServer;
let dir: string;
let coordinator: ServiceProcess;

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-messages-'));
  coordinator = await startCoordinator({ nats: nats.url, records: join(dir, 'records.jsonl'), extra: ['--http', '127.0.0.1:0', '--settle-ms', '0'] });
});

afterAll(async () => {
  await coordinator?.stop();
  await stopAll();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** No gRPC scaffolding in a message a user reads. */
function expectClean(stderr: string): void {
  expect(stderr).not.toMatch(/[A-Z_]{6,}: |Resolution note|Protocol error|dns:|No address added|\n\s+at /);
  expect(stderr.trim().split('\n')).toHaveLength(1);
}

describe.concurrent('--coordinator pointed at the wrong thing', () => {
  test('the HTTP port: says it answers HTTP and which address to give', async () => {
    const r = await cli(['agents', '--coordinator', httpAddressOf(coordinator)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the coordinator at 127\.0\.0\.1:\d+: that port answers HTTP, not gRPC: .*--http port.*--coordinator takes the coordinator's gRPC address, its --listen/);
    expectClean(r.stderr);
  });

  test("the nats-server's port: says it answers NATS", async () => {
    const r = await cli(['campaign', 'list', '--coordinator', `127.0.0.1:${nats.port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/that port answers NATS, not gRPC: it is a nats-server's port/);
    expectClean(r.stderr);
  });

  test('an http:// prefix is taken off', async () => {
    const r = await cli(['agents', '--coordinator', `http://${coordinator.address}/`, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  test('an http:// page address is taken off and then explained as the HTTP port', async () => {
    const r = await cli(['agents', '--coordinator', `http://${httpAddressOf(coordinator)}/`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/answers HTTP, not gRPC/);
    expectClean(r.stderr);
  });

  test('another scheme or no port: a usage error naming the form', async () => {
    const https = await cli(['agents', '--coordinator', 'https://127.0.0.1:7000']);
    expect(https.code).toBe(2);
    expect(https.stderr).toMatch(/--coordinator: 'https:\/\/127\.0\.0\.1:7000': a https:\/\/ address is not understood; give HOST:PORT/);
    const noPort = await cli(['agents', '--coordinator', 'localhost']);
    expect(noPort.code).toBe(2);
    expect(noPort.stderr).toMatch(/--coordinator: expected HOST:PORT .*got 'localhost'/);
  });

  test('nothing listening: connection refused, without an empty resolution note', async () => {
    const r = await cli(['agents', '--coordinator', `127.0.0.1:${await freePort()}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the coordinator at 127\.0\.0\.1:\d+: connection refused: nothing listens on that port/);
    expectClean(r.stderr);
  });

  test('a host that does not resolve is named', async () => {
    const r = await cli(['agents', '--coordinator', 'no-such-host.invalid:7000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot resolve the host name in 'no-such-host\.invalid:7000'/);
    expectClean(r.stderr);
  });
});

describe.concurrent("the coordinator's refusals carry no gRPC status prefix", () => {
  test('unknown campaign', async () => {
    const r = await cli(['campaign', 'get', 'cnope', '--coordinator', coordinator.address]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("flexfarm campaign: unknown campaign 'cnope'\n");
  });

  test('a target no agent serves', async () => {
    const r = await cli(['campaign', 'submit', 'gemm', '--shape', 'M=8,N=8,K=8', '--targets', 'gpu', '--trials', '2', '--coordinator', coordinator.address]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^flexfarm campaign: no agent serves target 'gpu' \(agents up: none\)\n$/);
  });
});

describe.concurrent('unknown flags: did you mean', () => {
  test("campaign submit --target points at --targets and says how a campaign's differs from tune's", async () => {
    const r = await cli(['campaign', 'submit', 'gemm', '--shape', 'M=8,N=8,K=8', '--target', 'cpu', '--trials', '2', '--coordinator', coordinator.address]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^flexfarm campaign: unknown flag --target; did you mean --targets\? \(a campaign takes --targets, a comma-separated list .*tune's --target names one\)\n$/);
    expect(r.stderr).not.toMatch(/positional argument/);
  });

  test('tune --targets points at --target', async () => {
    const r = await cli(['tune', 'gemm', '--shape', 'M=8,N=8,K=8', '--targets', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown flag --targets; did you mean --target\? \(tune measures on one --target/);
  });

  test('a misspelt flag gets the closest; a far one gets --help', async () => {
    const typo = await cli(['agents', '--coordinatr', coordinator.address]);
    expect(typo.stderr).toBe('flexfarm agents: unknown flag --coordinatr; did you mean --coordinator?\n');
    const far = await cli(['ops', '--frobnicate']);
    expect(far.stderr).toBe('flexfarm ops: unknown flag --frobnicate (--help lists the flags)\n');
  });

  test('closestFlag: edits within a third of the length, or a prefix', () => {
    expect(closestFlag('target', ['targets', 'trials', 'shape'])).toBe('targets');
    expect(closestFlag('trails', ['targets', 'trials'])).toBe('trials');
    expect(closestFlag('min-repeat', ['min-repeat-ms', 'repeat'])).toBe('min-repeat-ms');
    expect(closestFlag('xyz', ['targets', 'trials'])).toBeUndefined();
  });
});

describe.concurrent('a taken port: one clean line', () => {
  test('an agent on the coordinator\'s gRPC port', async () => {
    const r = await cli(['agent', '--device', 'sim', '--listen', coordinator.address, '--nats', nats.url]);
    expect(r.code).toBe(1);
    const port = coordinator.address.split(':')[1];
    expect(r.stderr).toBe(`flexfarm agent: cannot listen on ${coordinator.address}: port ${port} is taken by another process (pick another port, or port 0 for a free one)\n`);
  });

  test("a coordinator's --http on a taken port", async () => {
    const r = await cli(['coordinator', '--listen', '127.0.0.1:0', '--http', httpAddressOf(coordinator), '--nats', nats.url, '--records', join(dir, 'second.jsonl'), '--consumer', 'second']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/flexfarm coordinator: cannot listen on 127\.0\.0\.1:\d+ \(http\): port \d+ is taken by another process/);
    expectClean(r.stderr.split('\n').filter((l) => l.startsWith('flexfarm')).join('\n'));
  });
});

test("campaign --help says which explorer campaigns default to, and why not tune's model", async () => {
  const r = await cli(['campaign', '--help']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/--explorer: .*model.* \(default random\)\. Not model, tune's default,[\s\S]*proposes 4-8 candidates a round[\s\S]*no longer waits[\s\S]*random keeps every agent busy/);
});

test("grpc-js's connection text is reduced to its last error", () => {
  expect(cleanDetails('No connection established. Last error: Error: connect ECONNRESET 127.0.0.1:9 (2026-12-02T17:06:31.734Z). Resolution note: ')).toBe('connect ECONNRESET 127.0.0.1:9');
  expect(cleanDetails('Connection dropped. Resolution note: )')).toBe('Connection dropped.');
});

test("an agent's counters read 0 before its first measurement", async () => {
  const metrics = new AgentMetrics({ agent: 'a', deviceClass: 'cpu', processMetrics: false });
  try {
    const text = await metrics.scrape();
    for (const status of ['ok', 'COMPILE', 'RUN_TIMEOUT']) expect(text).toMatch(new RegExp(`^flexfarm_agent_measurements_total\\{[^}]*status="${status}"[^}]*\\} 0$`, 'm'));
    expect(text).toMatch(/^flexfarm_agent_compile_duration_seconds_count\{[^}]*outcome="ok"[^}]*\} 0$/m);
  } finally {
    metrics.close();
  }
});
