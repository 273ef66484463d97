// Acceptance (issue 15): results forged on `flexfarm.results.<campaign>` by anyone who can reach
// NATS are dropped, counted and logged with their reason, and never applied: an id not issued (it
// used to hang the campaign), an id in flight to another agent, a config or workload other than
// the one dispatched, zero / negative / non-finite / absurd times, `config: null`, `device: null`,
// results after the campaign ended and results on `flexfarm.results._`. Real nats-server, real
// coordinator and sim agent processes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { decodeCandidateId } from '../../contracts/candidate-id.ts';
import { defineWorkload } from '../../tensor/ops/registry.ts';
import { counterValue, forger, type Forger } from '../helpers/forge.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { cli, readRecords, startAgent, startCoordinator, stopAll, waitFor, type ServiceProcess } from './farm-processes.ts';

let nats: NatsServer;
let dir: string;
let records: string;
let coordinator: ServiceProcess;
let agent: ServiceProcess;
let forge: Forger;
let campaign: string;
const TRIALS = 8;
const WORKLOAD_SHAPE = 'M=64,N=48,K=32';
const WORKLOAD = defineWorkload('gemm', { M: 64, N: 48, K: 32 }).key;

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-forged-'));
  records = join(dir, 'records.jsonl');
  [coordinator, agent] = await Promise.all([
    startCoordinator({ nats: nats.url, records, extra: ['--http', '127.0.0.1:0', '--settle-ms', '100'] }),
    // One candidate at a time, each measured for 1.5 s: there is time to forge its result.
    startAgent({ device: 'sim', nats: nats.url, name: 'sim-honest', extra: ['--delay-ms', '1500', '--capacity', '1', '--heartbeat-ms', '100'] }),
  ]);
  forge = await forger(nats.url);
  await waitFor('the agent registered', async () => ((await metrics()).includes('agent="sim-honest"') ? true : undefined));
});

afterAll(async () => {
  await forge?.close();
  await Promise.all([agent, coordinator].filter(Boolean).map((p) => p.stop()));
  await stopAll();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function metrics(): Promise<string> {
  return (await fetch(`http://${coordinator.http}/metrics`)).text();
}

const dropped = (text: string, reason: string) => counterValue(text, 'flexfarm_messages_dropped_total', { subject_kind: 'results', reason });

/** A well-formed result in every field, claiming to come from `agent`. */
function forgedResult(candidateId: string, overrides: Record<string, unknown> = {}) {
  return {
    candidateId, campaign, workload: WORKLOAD, target: 'sim',
    config: {}, seconds: [1e-3], median: 1e-3, error: null,
    device: { kind: 'sim', name: 'forger', model: 'FORGED', cores: 1, memoryBytes: 1, toolchain: 'x', limits: {} },
    toolchain: 'x', simulated: true, at: new Date().toISOString(), ...overrides,
  };
}

test('results forged while a campaign runs are dropped with their reason; the campaign ends on its own results', async () => {
  const submitted = await cli(['campaign', 'submit', 'gemm', '--shape', WORKLOAD_SHAPE, '--targets', 'sim', '--trials', String(TRIALS),
    '--remeasure', '0', '--seed', '3', '--coordinator', coordinator.address, '--json']);
  expect(submitted.code, submitted.stderr).toBe(0);
  campaign = (JSON.parse(submitted.stdout) as { id: string }).id;
  const subject = `flexfarm.results.${campaign}`;

  // The candidate the honest agent is measuring now, as its heartbeat says; and its config, from
  // the real result of an earlier candidate (same workload, the config is what differs).
  const held = await waitFor('the agent holds a candidate', async () => {
    const [beat] = await forge.heartbeats(1);
    // Not one measured and being published: its result may already be on its way.
    if ((beat.load as { unpublished: number }).unpublished) return undefined;
    const ids = (beat.held as string[]).filter((x) => x.startsWith(`${campaign}/`));
    return ids.length ? ids[ids.length - 1] : undefined;
  });
  const seq = decodeCandidateId(held)!.seq;
  const workload = WORKLOAD;
  const envelope = (result: object, agentName = 'sim-honest') => ({ v: 1, agent: agentName, result });
  const base = (overrides: Record<string, unknown> = {}) => forgedResult(held, { workload, ...overrides });

  await Promise.all([
    // in flight to sim-honest, claimed by another agent
    forge.result(subject, envelope(base(), 'intruder')),
    // in flight to sim-honest with a config that was not dispatched
    forge.result(subject, envelope(base({ config: { 'split.m': [1, 1, 1, 64] } }))),
    forge.result(subject, envelope(base({ workload: 'gemm(M=1,N=1,K=1,dtype=float32)' }))),
    // absurd, zero, negative and non-finite times
    forge.result(subject, envelope(base({ seconds: [5e-16], median: 5e-16 }))),
    forge.result(subject, envelope(base({ seconds: [0], median: 0 }))),
    forge.result(subject, envelope(base({ seconds: [-1], median: -1 }))),
    forge.result(subject, `{"v":1,"agent":"sim-honest","result":${JSON.stringify(base()).replace('"median":0.001', '"median":1e999')}}`),
    // null shapes
    forge.result(subject, envelope(base({ config: null }))),
    forge.result(subject, envelope(base({ device: null }))),
    forge.result(subject, 'null'),
    // an id the campaign has not issued yet (but will): applying it used to hang the campaign
    forge.result(subject, envelope(forgedResult(`${campaign}/sim/${seq + 2}`, { workload }))),
    // on the no-campaign subject, and a campaign's result on it
    forge.result('flexfarm.results._', envelope(forgedResult(held, { workload, campaign: undefined }))),
    forge.result('flexfarm.results._', envelope(base())),
  ]);

  // The campaign ends on its own results alone (an applied forgery of an id not yet issued used to
  // leave it waiting forever for a result it had already counted).
  const watched = await cli(['campaign', 'watch', campaign, '--coordinator', coordinator.address, '--json'], { timeoutMs: 40_000 });
  expect(watched.code, watched.stderr).toBe(0);
  const final = JSON.parse(watched.stdout) as { state: string; targets: { measured: number; best: { seconds: number; gflops: number } | null }[] };
  expect(final.state).toBe('done');
  expect(final.targets[0].measured).toBe(TRIALS);
  expect(final.targets[0].best!.seconds).toBeGreaterThan(1e-7);
  const logged = readRecords(records).filter((r) => r.campaign === campaign);
  expect(logged).toHaveLength(TRIALS);
  expect(logged.filter((r) => r.device.model === 'FORGED')).toEqual([]);
  expect(new Set(logged.map((r) => r.candidateId)).size).toBe(TRIALS);
  expect(coordinator.log()).toMatch(/dropped a results message \(wrong_agent\): result '.*' from 'intruder': it was sent to 'sim-honest'/);
  expect(coordinator.log()).toMatch(/dropped a results message \(not_issued\)/);
  expect(coordinator.log()).not.toMatch(/disconnected from NATS/);
  const text = await metrics();
  for (const reason of ['wrong_agent', 'wrong_config', 'wrong_workload', 'implausible_time', 'not_issued', 'no_campaign', 'subject_mismatch']) {
    expect(dropped(text, reason), reason).toBeGreaterThanOrEqual(1);
  }
  expect(dropped(text, 'bad_time')).toBeGreaterThanOrEqual(3);
  expect(dropped(text, 'malformed')).toBeGreaterThanOrEqual(3);
}, 90_000);

test('a result after the campaign ended is dropped, and the log and the best stay as they were', async () => {
  const before = readRecords(records);
  const best = await cli(['best', '--records', records, '--json']);
  await forge.result(`flexfarm.results.${campaign}`, { v: 1, agent: 'sim-honest', result: forgedResult(`${campaign}/sim/9000`, { workload: before[0].workload }) });
  await waitFor('the late result counted', async () => (dropped(await metrics(), 'campaign_ended') >= 1 ? true : undefined), 5_000).catch(() => {});
  expect(readRecords(records)).toEqual(before);
  expect(dropped(await metrics(), 'campaign_ended')).toBe(1);
  expect((await cli(['best', '--records', records, '--json'])).stdout).toBe(best.stdout);
});
