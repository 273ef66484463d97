// Every NATS subject the farm reads, on a real nats-server: results (JetStream, read by the
// coordinator), heartbeats (the coordinator) and discovery (agents). Forged, mutated and raw
// messages are published while a campaign runs on a real sim agent; the campaign ends on its own
// results alone, nothing forged reaches the log, the earlier log line stays, the agent stays up at
// its own address, and the coordinator keeps its NATS connection.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { connect } from 'nats';
import { SimBackend } from '../../../agent/backends/sim/sim-backend.ts';
import { AgentServer } from '../../../agent/server.ts';
import { heartbeatSubject, resultSubject, SUBJECTS } from '../../../contracts/subjects.ts';
import { NatsBus } from '../../../contracts/bus-nats.ts';
import { Farm } from '../../../coordinator/farm/farm.ts';
import { startNatsServer } from '../../helpers/nats-server.ts';
import { absurdString, jsonText, mutated } from '../absurd.ts';
import { checkProperty, type FuzzSurface } from '../fuzz-run.ts';
import { EARLIER_LINE } from './grpc-peers.ts';

const AGENT = 'sim-fuzz';
const device = { kind: 'sim', name: 'forger', model: 'FORGED', cores: 1, memoryBytes: 1, toolchain: 'x', limits: {} };
const workload = 'gemm(M=64,N=48,K=32,dtype=float32)';

function forgedEnvelope(campaign: string, n: number, agent: string) {
  return {
    v: 1, agent,
    result: { candidateId: `${campaign}/sim/${n}`, campaign, workload, target: 'sim', config: {}, seconds: [1e-3], median: 1e-3, error: null, device, toolchain: 'x', at: 'now' },
  };
}
const heartbeat = (name: string) => ({
  name, address: '127.0.0.1:1', device, capacity: 2, maxBatch: 8, load: { queued: 0, measuring: 0, unpublished: 0 }, held: [], startedAt: 's', intervalMs: 1000,
});

/** `via`: the agent named in the subject (an agent's own subjects), or none (the older bare subjects). */
type Message = { subject: 'results' | 'results_' | 'heartbeat' | 'discover'; data: string; via?: string };

function messages(campaign: string): fc.Arbitrary<Message> {
  const name = fc.constantFrom('intruder', AGENT, 'fake-1');
  const result = fc.tuple(fc.nat({ max: 400 }), name).chain(([n, a]) => jsonText(forgedEnvelope(campaign, n, a)));
  const via = fc.option(name, { nil: undefined });
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ subject: fc.constant('results' as const), data: result, via }) },
    { weight: 1, arbitrary: fc.record({ subject: fc.constant('results_' as const), data: result }) },
    // A heartbeat with the real agent's name comes from elsewhere (an address not its own).
    { weight: 4, arbitrary: fc.record({ subject: fc.constant('heartbeat' as const), via, data: name.chain((n) => fc.oneof(jsonText(heartbeat(n)), mutated(heartbeat(n)).map((h) => JSON.stringify({ ...h, name: n === AGENT ? AGENT : h.name, address: n === AGENT ? '10.9.9.9:1' : h.address })))) }) },
    { weight: 1, arbitrary: fc.record({ subject: fc.constant('discover' as const), data: fc.oneof(absurdString, fc.jsonValue().map((v) => JSON.stringify(v))) }) },
  );
}

async function runNats(runs: number, options?: { seed?: number }) {
  const nats = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'flexfarm-fuzz-nats-'));
  const recordsPath = join(dir, 'records.jsonl');
  writeFileSync(recordsPath, `${EARLIER_LINE}\n`);
  const before = readFileSync(recordsPath);
  const log: string[] = [];
  const coordinatorBus = await NatsBus.connect({ servers: nats.url, name: 'fuzz-coordinator', log: (l) => log.push(l) });
  const farm = new Farm({ bus: coordinatorBus, recordsPath, settleMs: 0, lostAfterMs: 1_500, log: (l) => log.push(l) });
  const agentBus = await NatsBus.connect({ servers: nats.url, name: AGENT });
  const agent = await AgentServer.start({ name: AGENT, backend: new SimBackend({ seed: 2, delayMs: 2 }), bus: agentBus, listen: '127.0.0.1:0', heartbeatMs: 200, capacity: 2 });
  const forger = await connect({ servers: nats.url });
  const js = forger.jetstream();
  try {
    farm.start();
    await until('the agent is up', () => farm.agents().some((a) => a.name === AGENT && a.state === 'up'));
    const trials = Math.max(20, Math.min(2_000, Math.round(runs / 10)));
    const { id } = farm.submit({ op: 'gemm', shape: { M: 64, N: 48, K: 32 }, targets: ['sim'], trials, explorer: 'random', seed: 5, remeasure: 0 });
    const encoder = new TextEncoder();
    const outcome = await checkProperty('NATS subjects', messages(id), async (m) => {
      const data = encoder.encode(m.data);
      if (m.subject === 'heartbeat') forger.publish(m.via ? heartbeatSubject(m.via) : SUBJECTS.heartbeat, data);
      else if (m.subject === 'discover') forger.publish(SUBJECTS.discover, data);
      else if (m.subject === 'results_') await js.publish(`${SUBJECTS.resultsPrefix}._`, data);
      else await js.publish(m.via ? resultSubject(id, m.via) : `${SUBJECTS.resultsPrefix}.${id}`, data);
    }, runs, options);
    await until('the campaign ended', () => farm.get(id).state !== 'running', 120_000);
    const final = farm.get(id);
    if (final.state !== 'done' || final.targets[0].measured !== trials) throw new Error(`the campaign ended ${final.state} with ${final.targets[0].measured} of ${trials}`);
    const after = readFileSync(recordsPath);
    if (!after.subarray(0, before.length).equals(before)) throw new Error('the tuning log\'s earlier line changed');
    const lines = after.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { campaign?: string; candidateId: string; device: { model: string } });
    const own = lines.filter((l) => l.campaign === id);
    if (own.length !== trials || new Set(own.map((l) => l.candidateId)).size !== trials) throw new Error(`the log holds ${own.length} lines of the campaign (${new Set(own.map((l) => l.candidateId)).size} ids), expected ${trials}`);
    if (lines.some((l) => l.device?.model === 'FORGED')) throw new Error('a forged result reached the log');
    const real = farm.agents().find((a) => a.name === AGENT);
    if (real?.state !== 'up' || real.address !== agent.address) throw new Error(`the agent is ${real?.state} at ${real?.address}, not up at ${agent.address}`);
    if (log.some((l) => /disconnected from NATS|handler failed/.test(l))) throw new Error(`the coordinator logged: ${log.find((l) => /disconnected|handler failed/.test(l))}`);
    return outcome;
  } finally {
    await forger.close();
    await agent.stop(0);
    await agentBus.close();
    await farm.close();
    await coordinatorBus.close();
    await nats.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const natsSurface: FuzzSurface = { name: 'NATS subjects', run: runNats };
