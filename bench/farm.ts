// `npm run bench:farm [-- --quick] [--agents 1,4,16,64] [--delay-ms N] [--seconds S] [--explorer NAME] [--json]`
//
// Candidates per second through the real farm path — coordinator process → gRPC Measure → agents →
// NATS JetStream → durable consumer → tuning log → explorer — with 1, 4, 16 and 64 sim agents:
// zero-cost measurements (throughput of the farm itself) and fixed-delay ones (scaling efficiency
// = rate(N) / (N x rate(1)), the anchor measured in the same run). Also the coordinator's CPU time
// per candidate, read from /proc for its process. `--explorer model` runs the campaigns with the
// learned-model explorer instead of random search (issue 17: 64 fixed-delay agents at efficiency
// >= 0.8 with it).
//
// The coordinator is a separate `flexfarm coordinator` process. The agents run in this process
// (each its own gRPC server and NATS connection): 64 agent processes do not fit 2 cores.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimBackend } from '../agent/backends/sim/sim-backend.ts';
import { AgentServer } from '../agent/server.ts';
import { parseFlags, parseInteger, UsageError } from '../cli/args.ts';
import { CoordinatorClient } from '../cli/coordinator-client.ts';
import { NatsBus } from '../contracts/bus-nats.ts';
import type * as pb from '../proto/flexfarm/v1/coordinator.ts';
import { startNatsServer } from '../test/helpers/nats-server.ts';
import { runBench } from './entry.ts';

const REPO = resolve(fileURLToPath(import.meta.url), '..', '..');
const TARGETS = { zeroCostRate: 2_000, zeroCostAgents: 64, efficiency: 0.8, efficiencyAgents: 16, modelEfficiencyAgents: 64 };
const CLOCK_TICKS_PER_SECOND = 100;

const USAGE = `usage: npm run bench:farm -- [--quick] [--agents 1,4,16,64] [--delay-ms N] [--seconds S] [--capacity N] [--json]
  --agents LIST    agent counts (default 1,4,16,64)
  --delay-ms N     fixed delay per measurement of the scaling runs (default 20)
  --seconds S      rough length of each run (default 4; 2 with --quick)
  --capacity N     candidates kept in flight per agent (default: the sim agent's default)
  --explorer NAME  the campaigns' explorer (default random; model: its efficiency target is at 64 agents)
  --json           print the rows as one JSON object on stdout`;

interface Row {
  mode: 'zero-cost' | 'fixed-delay';
  agents: number;
  candidates: number;
  seconds: number;
  rate: number;
  coordinatorCpuUsPerCandidate: number;
  /** CPU of this process (the in-process agents) and of nats-server, per candidate. */
  agentsCpuUsPerCandidate: number;
  natsCpuUsPerCandidate: number;
  efficiency?: number;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    quick: { type: 'boolean' }, agents: { type: 'string' }, 'delay-ms': { type: 'string' }, seconds: { type: 'string' },
    capacity: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' }, explorer: { type: 'string' },
  }, false);
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  const counts = (values.agents ?? '1,4,16,64').split(',').map((s) => parseInteger('--agents', s.trim(), 0, 1));
  if (!counts.length) throw new UsageError('--agents: give at least one count');
  const delayMs = parseInteger('--delay-ms', values['delay-ms'], 20, 1);
  const seconds = parseInteger('--seconds', values.seconds, values.quick ? 2 : 4, 1);
  const capacity = values.capacity ? parseInteger('--capacity', values.capacity, 0, 1) : undefined;
  const out = values.json ? process.stderr : process.stdout;
  const explorer = values.explorer ?? 'random';

  const nats = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'flexfarm-bench-farm-'));
  let coordinator: Coordinator | undefined;
  const rows: Row[] = [];
  try {
    coordinator = await startCoordinator(nats.url, join(dir, 'records.jsonl'));
    const client = new CoordinatorClient(coordinator.address, 60_000);
    out.write(`flexfarm farm benchmark (explorer ${explorer}): coordinator = separate process (pid ${coordinator.pid}); agents = in this process, ` +
      `each its own gRPC server and NATS connection; nats-server ${nats.url}\n`);
    // Zero-cost first (throughput of the farm), then fixed-delay (scaling); rate(1) anchors efficiency.
    let calibrated = 1_000;
    for (const mode of ['zero-cost', 'fixed-delay'] as const) {
      let anchor: number | undefined;
      for (const n of counts) {
        const expected = mode === 'zero-cost' ? calibrated * Math.min(n, 4) : n * (1000 / delayMs);
        const trials = Math.max(50, Math.round(expected * seconds));
        const row = await runOnce(client, coordinator, nats.url, nats.pid!, { mode, agents: n, trials, delayMs: mode === 'zero-cost' ? 0 : delayMs, capacity, explorer });
        if (mode === 'zero-cost' && n === 1) calibrated = row.rate;
        if (mode === 'fixed-delay') {
          anchor ??= n === 1 ? row.rate : undefined;
          if (anchor) row.efficiency = row.rate / (n * anchor);
        }
        rows.push(row);
        out.write(`  ${formatRow(row)}\n`);
      }
    }
    client.close();
  } finally {
    await coordinator?.stop();
    await nats.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  printSummary(rows, delayMs, values.json === true, explorer);
  return 0;
}

async function runOnce(
  client: CoordinatorClient, coordinator: Coordinator, natsUrl: string, natsPid: number,
  o: { mode: Row['mode']; agents: number; trials: number; delayMs: number; capacity?: number; explorer: string },
): Promise<Row> {
  const prefix = `${o.mode}-${o.agents}-`;
  const agents: { server: AgentServer; bus: NatsBus }[] = [];
  try {
    for (let i = 0; i < o.agents; i++) {
      const bus = await NatsBus.connect({ servers: natsUrl, name: `${prefix}${i}` });
      const server = await AgentServer.start({
        name: `${prefix}${i}`, backend: new SimBackend({ seed: i, delayMs: o.delayMs }), bus, listen: '127.0.0.1:0',
        ...(o.capacity ? { capacity: o.capacity } : {}),
      });
      agents.push({ server, bus });
    }
    await waitUntil(async () => {
      const { agents: list } = await client.call<pb.ListAgentsRequest, pb.ListAgentsResponse>('listAgents', {});
      return list.filter((a) => a.state === 'up' && a.name.startsWith(prefix)).length === o.agents;
    });
    const cpuBefore = coordinator.cpuSeconds();
    const natsBefore = processCpuSeconds(natsPid);
    const agentsBefore = process.cpuUsage();
    const { id } = await client.call<pb.SubmitCampaignRequest, pb.SubmitCampaignResponse>('submitCampaign', {
      // Throughput of the search itself: no re-measuring after it.
      op: 'gemm', shape: { M: 1024, N: 1024, K: 1024 }, targets: ['sim'], trials: o.trials, explorer: o.explorer, seed: o.agents, remeasure: 0,
    });
    // Polled, not watched: a watcher receives every result, which is work for the coordinator that
    // is not the farm's. The time is the coordinator's own, from creation to the last result applied.
    let final: pb.Campaign;
    for (;;) {
      final = await client.call<pb.GetCampaignRequest, pb.Campaign>('getCampaign', { id });
      if (final.state !== 'running') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const cpu = coordinator.cpuSeconds() - cpuBefore;
    const natsCpu = processCpuSeconds(natsPid) - natsBefore;
    const agentsUsage = process.cpuUsage(agentsBefore);
    const seconds = (Date.parse(final.finishedAt) - Date.parse(final.createdAt)) / 1000;
    if (final.state !== 'done') throw new Error(`campaign ${id} ended ${final.state}: ${final.message}`);
    const measured = final.targets[0].measured;
    return {
      mode: o.mode, agents: o.agents, candidates: measured, seconds, rate: measured / seconds,
      coordinatorCpuUsPerCandidate: (cpu / measured) * 1e6,
      agentsCpuUsPerCandidate: (agentsUsage.user + agentsUsage.system) / measured,
      natsCpuUsPerCandidate: (natsCpu / measured) * 1e6,
    };
  } finally {
    await Promise.all(agents.map(async ({ server, bus }) => { await server.stop(1_000); await bus.close(); }));
  }
}

interface Coordinator {
  pid: number;
  address: string;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

function startCoordinator(natsUrl: string, records: string): Promise<Coordinator> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'cli', 'flexfarm.ts'), 'coordinator',
    '--listen', '127.0.0.1:0', '--nats', natsUrl, '--records', records, '--settle-ms', '100', '--lost-after-ms', '5000'], {
    cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); if (stderr.length > 100_000) stderr = stderr.slice(-50_000); });
  return new Promise((resolvePromise, reject) => {
    child.once('exit', (code) => reject(new Error(`coordinator exited with ${code}:\n${stderr}`)));
    child.stdout!.on('data', (c: Buffer) => {
      const m = /listening on (\S+)/.exec(c.toString());
      if (!m) return;
      child.removeAllListeners('exit');
      resolvePromise({
        pid: child.pid!, address: m[1],
        cpuSeconds: () => processCpuSeconds(child.pid!),
        stop: () => new Promise<void>((done) => { child.once('exit', () => done()); child.kill('SIGTERM'); }),
      });
    });
  });
}

/** User + system CPU seconds of a process, from /proc/PID/stat (fields 14 and 15, clock ticks). */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting for the agents to register');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function formatRow(r: Row): string {
  return `${r.mode.padEnd(11)} ${String(r.agents).padStart(3)} agents  ${String(r.candidates).padStart(6)} candidates in ${r.seconds.toFixed(2).padStart(6)} s  ` +
    `${r.rate.toFixed(0).padStart(6)} cand/s  CPU µs/cand: coordinator ${r.coordinatorCpuUsPerCandidate.toFixed(0).padStart(4)}, agents ${r.agentsCpuUsPerCandidate.toFixed(0).padStart(4)}, nats ${r.natsCpuUsPerCandidate.toFixed(0).padStart(4)}` +
    `${r.efficiency !== undefined ? `  efficiency ${r.efficiency.toFixed(2)}` : ''}`;
}

function printSummary(rows: Row[], delayMs: number, json: boolean, explorer: string): void {
  const zero = rows.find((r) => r.mode === 'zero-cost' && r.agents === TARGETS.zeroCostAgents);
  const efficiencyAgents = explorer === 'random' ? TARGETS.efficiencyAgents : TARGETS.modelEfficiencyAgents;
  const scaled = rows.find((r) => r.mode === 'fixed-delay' && r.agents === efficiencyAgents);
  const verdicts = {
    zeroCost: zero ? { rate: zero.rate, target: TARGETS.zeroCostRate, met: zero.rate >= TARGETS.zeroCostRate } : null,
    efficiency: scaled?.efficiency !== undefined ? { efficiency: scaled.efficiency, target: TARGETS.efficiency, met: scaled.efficiency >= TARGETS.efficiency } : null,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify({ explorer, delayMs, agentsInProcess: true, loadAverage: os.loadavg(), rows, targets: verdicts })}\n`);
    return;
  }
  const lines = ['', `mode        agents  candidates  seconds   cand/s  efficiency  CPU µs/cand: coordinator  agents   nats   (fixed delay ${delayMs} ms per measurement)`];
  for (const r of rows) {
    lines.push(`${r.mode.padEnd(11)} ${String(r.agents).padStart(6)}  ${String(r.candidates).padStart(10)}  ${r.seconds.toFixed(2).padStart(7)}  ${r.rate.toFixed(0).padStart(7)}  ${r.efficiency !== undefined ? r.efficiency.toFixed(2).padStart(10) : '         -'}  ${r.coordinatorCpuUsPerCandidate.toFixed(0).padStart(24)}  ${r.agentsCpuUsPerCandidate.toFixed(0).padStart(6)}  ${r.natsCpuUsPerCandidate.toFixed(0).padStart(5)}`);
  }
  lines.push('');
  lines.push(verdicts.zeroCost
    ? `target: >= ${TARGETS.zeroCostRate} candidates/s with ${TARGETS.zeroCostAgents} zero-cost agents: ${verdicts.zeroCost.rate.toFixed(0)}/s — ${verdicts.zeroCost.met ? 'MET' : 'NOT MET'}`
    : `target: >= ${TARGETS.zeroCostRate} candidates/s with ${TARGETS.zeroCostAgents} zero-cost agents: not run (add ${TARGETS.zeroCostAgents} to --agents)`);
  lines.push(verdicts.efficiency
    ? `target: efficiency >= ${TARGETS.efficiency} at ${efficiencyAgents} fixed-delay agents (explorer ${explorer}): ${verdicts.efficiency.efficiency.toFixed(2)} — ${verdicts.efficiency.met ? 'MET' : 'NOT MET'}`
    : `target: efficiency >= ${TARGETS.efficiency} at ${efficiencyAgents} fixed-delay agents: not run (needs 1 and ${efficiencyAgents} in --agents)`);
  lines.push('agents ran in the bench process (in-process AgentServers over real gRPC and NATS); the coordinator ran as its own process.');
  lines.push(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores (other work on the machine slows every figure but the CPU per candidate)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await runBench('bench:farm', main);
