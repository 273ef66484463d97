// `flexfarm model tune --coordinator` on a real model (PaddleOCR's classifier): a farm of a real
// nats-server, a coordinator and two sim agents; a campaign per layer with its share of the
// budget; the tuning command killed with SIGKILL midway and run again goes on from the
// coordinator's campaigns, and every layer ends with exactly its planned measurements.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { planBudget } from '../../coordinator/model-import/budget.ts';
import { importModelLayers } from '../../coordinator/model-import/model-layers.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { cli, REPO, startAgent, startCoordinator, stopAll, waitFor, type ServiceProcess } from '../farm/farm-processes.ts';
import { CLASSIFIER } from './real-models.ts';

let nats: NatsServer;
let dir: string;
let coordinator: ServiceProcess;
const agents: ServiceProcess[] = [];
const TRIALS = 60, FLOOR = 1;

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-model-farm-'));
  const started = await Promise.all([
    startCoordinator({ nats: nats.url, records: join(dir, 'records.jsonl'), extra: ['--settle-ms', '100'] }),
    startAgent({ device: 'sim', nats: nats.url, name: 'sim-a', extra: ['--delay-ms', '2'] }),
    startAgent({ device: 'sim', nats: nats.url, name: 'sim-b', extra: ['--delay-ms', '2'] }),
  ]);
  coordinator = started[0];
  agents.push(...started.slice(1));
});

afterAll(async () => {
  await Promise.all([...agents, coordinator].filter(Boolean).map((p) => p.stop()));
  await stopAll();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the command until `killWhen` shows on stderr, then SIGKILLs it. */
function killedRun(args: string[], killWhen: RegExp): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/flexfarm.ts', ...args], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d; if (killWhen.test(stderr)) child.kill('SIGKILL'); });
    child.on('error', fail);
    child.on('close', (_code, signal) => (signal === 'SIGKILL' ? done(stderr) : fail(new Error(`not killed (${signal}): ${stderr}`))));
  });
}

test('two sim agents tune every layer as campaigns; killed and run again, it goes on from the coordinator\'s campaigns', async () => {
  await waitFor('two agents up', async () => {
    const r = await cli(['agents', '--coordinator', coordinator.address, '--json']);
    return (JSON.parse(r.stdout) as { state: string }[]).filter((a) => a.state === 'up').length === 2 ? true : undefined;
  });
  const args = ['model', 'tune', CLASSIFIER, '--input', 'x=1,3,48,192', '--target', 'sim', '--trials', String(TRIALS), '--min-trials', String(FLOOR),
    '--remeasure', '0', '--coordinator', coordinator.address, '--json'];
  await killedRun(args, /\[layer 3\/\d+\].*campaign c/);

  const resumed = await cli(args, { timeoutMs: 240_000 });
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(resumed.stderr).toMatch(/\[layer 1\/\d+\].*done before/);
  const out = JSON.parse(resumed.stdout) as { layers: { workload: string; planned: number; measurements: number; campaigns: string[]; best: { seconds: number } | null; count: number }[]; total: { seconds: number; complete: boolean } };

  const model = importModelLayers(CLASSIFIER, { x: [1, 3, 48, 192] });
  const plan = planBudget(model.layers.map((l) => l.share), TRIALS, FLOOR);
  expect(out.layers.map((l) => l.workload)).toEqual(model.layers.map((l) => l.workload));
  out.layers.forEach((l, i) => {
    expect(l.planned).toBe(plan[i]);
    expect(l.measurements, l.workload).toBe(plan[i]);
    expect(l.best!.seconds).toBeGreaterThan(0);
  });
  // Each of the first layers was tuned once, by the killed run.
  expect(out.layers.slice(0, 2).map((l) => l.campaigns.length)).toEqual([1, 1]);
  expect(out.total.complete).toBe(true);
  expect(out.total.seconds).toBeCloseTo(out.layers.reduce((s, l) => s + l.best!.seconds * l.count, 0), 12);

  // The coordinator holds one campaign per layer, none measured twice.
  const listed = JSON.parse((await cli(['campaign', 'list', '--coordinator', coordinator.address, '--json'])).stdout) as { workload: string }[];
  expect(listed).toHaveLength(model.layers.length);
}, 300_000);
