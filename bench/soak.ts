// `npm run bench:soak [-- --agents 100] [--hosts 4] [--candidates 20000] [--campaigns 4]
//   [--fault-every-s 8] [--delay-ms 5] [--json]`
//
// Issue 15, item 7: a farm under faults. A coordinator process, agent host processes (each many
// in-process sim agents, bench/soak-agents.ts) and a real nats-server; campaigns totalling
// --candidates run while, every --fault-every-s seconds (and at the latest by each quarter of the
// budget measured, until each kind has come once), in turn: an agent host is SIGKILLed (and
// started again with fresh agent names), the coordinator is SIGKILLed and started again on the
// same log, state and durable consumer, and nats-server is restarted on the same store. At the
// end the tuning log is read back: lost results (budget not in the log) and duplicated ones (an id
// logged twice) must both be 0. Prints candidates/s and the coordinator's RSS over time.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags, parseInteger } from '../cli/args.ts';
import { CoordinatorClient } from '../cli/coordinator-client.ts';
import type * as pb from '../proto/flexfarm/v1/coordinator.ts';
import { startNatsServer } from '../test/helpers/nats-server.ts';
import { runBench } from './entry.ts';

const REPO = resolve(fileURLToPath(import.meta.url), '..', '..');
const TSX = ['--import', 'tsx'];

interface Proc { child: ChildProcess; pid: number; address?: string }

function startProcess(args: string[], readyPattern: RegExp): Promise<Proc & { match: RegExpExecArray }> {
  const child = spawn(process.execPath, [...TSX, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-20_000); });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${args[0]} not ready in 60 s:\n${stderr}`)); }, 60_000);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${args[0]} exited with ${code}:\n${stderr}`)); });
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      const match = readyPattern.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      resolvePromise({ child, pid: child.pid!, match });
    });
  });
}

function kill(p: Proc, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  return new Promise((done) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) { done(); return; }
    p.child.once('exit', () => done());
    p.child.kill(signal);
  });
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    agents: { type: 'string' }, hosts: { type: 'string' }, candidates: { type: 'string' }, campaigns: { type: 'string' },
    'fault-every-s': { type: 'string' }, 'delay-ms': { type: 'string' }, json: { type: 'boolean' },
  }, false);
  const agents = parseInteger('--agents', values.agents, 100, 1);
  const hosts = Math.min(agents, parseInteger('--hosts', values.hosts, 4, 1));
  const candidates = parseInteger('--candidates', values.candidates, 20_000, 1);
  const campaignCount = Math.min(candidates, parseInteger('--campaigns', values.campaigns, 4, 1));
  const faultEveryMs = parseInteger('--fault-every-s', values['fault-every-s'], 8, 1) * 1000;
  const delayMs = parseInteger('--delay-ms', values['delay-ms'], 5, 0);
  const out = values.json ? process.stderr : process.stdout;

  const nats = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'flexfarm-soak-'));
  const records = join(dir, 'records.jsonl');
  const coordinatorArgs = ['cli/flexfarm.ts', 'coordinator', '--listen', '127.0.0.1:0', '--nats', nats.url, '--records', records,
    '--settle-ms', '1000', '--lost-after-ms', '2000', '--inflight-timeout-ms', '20000'];
  let coordinator: Proc | undefined;
  let address = '';
  const startCoordinator = async () => {
    const p = await startProcess(coordinatorArgs, /listening on (\S+)/);
    coordinator = p;
    address = p.match[1];
  };
  const agentHosts: (Proc | undefined)[] = new Array(hosts).fill(undefined);
  let generation = 0;
  const startHost = async (h: number) => {
    const names = Array.from({ length: agents }, (_, i) => i).filter((i) => i % hosts === h).map((i) => `soak-${generation}-${i}`);
    agentHosts[h] = await startProcess(['bench/soak-agents.ts', nats.url, names.join(','), String(delayMs)], /ready/);
  };
  const faults = { agentHostsKilled: 0, coordinatorRestarts: 0, natsRestarts: 0 };
  const rss: { atS: number; mib: number }[] = [];
  const started = Date.now();
  const budgets = Array.from({ length: campaignCount }, (_, i) => Math.floor(candidates / campaignCount) + (i < candidates % campaignCount ? 1 : 0));
  const ids: string[] = [];
  try {
    await startCoordinator();
    for (let h = 0; h < hosts; h++) await startHost(h);
    out.write(`soak: ${agents} sim agents in ${hosts} host processes, coordinator pid ${coordinator!.pid}, nats-server ${nats.url}; ` +
      `${candidates} candidates in ${campaignCount} campaigns; a fault every ${faultEveryMs / 1000} s\n`);
    const call = async <Req, Res>(method: string, request: Req): Promise<Res> => {
      for (let attempt = 0; ; attempt++) {
        const client = new CoordinatorClient(address, 5_000);
        try { return await client.call<Req, Res>(method as never, request); } catch (err) {
          if (attempt > 120) throw err;
          await new Promise((r) => setTimeout(r, 500));
        } finally { client.close(); }
      }
    };
    const runStarted = Date.now();
    for (const [i, trials] of budgets.entries()) {
      const { id } = await call<pb.SubmitCampaignRequest, pb.SubmitCampaignResponse>('submitCampaign', {
        op: 'gemm', shape: { M: 1024, N: 1024, K: 1024 }, targets: ['sim'], trials, explorer: 'random', seed: i + 1, remeasure: 0,
      } as pb.SubmitCampaignRequest);
      ids.push(id);
    }
    let nextFault = Date.now() + faultEveryMs, turn = 0, lastRss = 0;
    for (;;) {
      if (Date.now() - lastRss > 2_000 && coordinator) { rss.push({ atS: (Date.now() - started) / 1000, mib: rssMiB(coordinator.pid) }); lastRss = Date.now(); }
      const states = await Promise.all(ids.map((id) => call<pb.GetCampaignRequest, pb.Campaign>('getCampaign', { id })));
      if (states.every((c) => c.state !== 'running')) {
        const bad = states.find((c) => c.state !== 'done');
        if (bad) throw new Error(`campaign ${bad.id} ended ${bad.state}: ${bad.message}`);
        break;
      }
      // Faults come every --fault-every-s, and also by progress: one of each kind before three
      // quarters of the budget is measured, so a fast run cannot finish having dodged a kind.
      const measured = states.reduce((n, c) => n + c.targets[0].measured, 0);
      const dueByProgress = turn < 3 && measured >= ((turn + 1) / 4) * candidates;
      if (Date.now() >= nextFault || dueByProgress) {
        const kind = turn++ % 3;
        if (kind === 0) {
          const h = turn % hosts;
          await kill(agentHosts[h]!);
          generation++;
          await startHost(h);
          faults.agentHostsKilled++;
        } else if (kind === 1) {
          await kill(coordinator!);
          await startCoordinator();
          faults.coordinatorRestarts++;
        } else {
          await nats.restart();
          faults.natsRestarts++;
        }
        out.write(`  ${((Date.now() - started) / 1000).toFixed(0)} s: ${['SIGKILLed an agent host (started again)', 'SIGKILLed the coordinator (started again)', 'restarted nats-server'][kind]}; ` +
          `measured ${measured} of ${candidates}\n`);
        nextFault = Date.now() + faultEveryMs;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const wallS = (Date.now() - runStarted) / 1000;
    rss.push({ atS: (Date.now() - started) / 1000, mib: rssMiB(coordinator!.pid) });
    // The log, read back: every campaign's budget once.
    const lines = readFileSync(records, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { campaign?: string; candidateId: string; type?: string });
    let lost = 0, duplicated = 0, logged = 0;
    for (const [i, id] of ids.entries()) {
      const own = lines.filter((l) => l.campaign === id && l.type === undefined);
      const unique = new Set(own.map((l) => l.candidateId)).size;
      logged += unique;
      duplicated += own.length - unique;
      lost += Math.max(0, budgets[i] - unique);
    }
    const summary = {
      agents, hosts, candidates, campaigns: campaignCount, faults, lost, duplicated, logged, wallSeconds: wallS,
      candidatesPerSecond: logged / wallS, rssMiB: rss, loadAverage: os.loadavg(), cores: os.availableParallelism(),
    };
    if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      const peak = Math.max(...rss.map((r) => r.mib));
      process.stdout.write([
        `lost results: ${lost}`, `duplicated results: ${duplicated}`,
        `logged: ${logged} of ${candidates} in ${wallS.toFixed(1)} s: ${(logged / wallS).toFixed(0)} candidates/s`,
        `faults: ${faults.agentHostsKilled} agent hosts SIGKILLed, ${faults.coordinatorRestarts} coordinator SIGKILLs + restarts, ${faults.natsRestarts} nats-server restarts`,
        `coordinator RSS (MiB) over time: ${rss.map((r) => `${r.atS.toFixed(0)}s ${r.mib.toFixed(0)}`).join(', ')} (peak ${peak.toFixed(0)})`,
        `load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores`,
      ].join('\n') + '\n');
    }
    return lost === 0 && duplicated === 0 ? 0 : 1;
  } finally {
    await Promise.all([coordinator, ...agentHosts].filter((p): p is Proc => Boolean(p)).map((p) => kill(p)));
    await nats.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

await runBench('bench:soak', main);
