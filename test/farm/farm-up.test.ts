// Acceptance of `flexfarm farm up`: one command brings up nats-server, a coordinator with its page
// and an agent per local device; a campaign runs on it; SIGTERM (and Ctrl-C's SIGINT) leave no
// process behind (every PID below farm up, read from /proc, is checked); a taken port fails cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { cli, readRecords, REPO, waitFor } from './farm-processes.ts';

const dirs: string[] = [];
const started: ChildProcess[] = [];
afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every process below pid (Linux /proc). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch { /* gone meanwhile */ }
  }
  const out: number[] = [];
  for (const queue = [pid]; queue.length;) for (const c of children.get(queue.shift()!) ?? []) { out.push(c); queue.push(c); }
  return out;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/^\S+ \([^)]*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

interface FarmUp { child: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<number | null> }

function farmUp(args: string[]): FarmUp {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'cli', 'flexfarm.ts'), 'farm', 'up', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '', err = '';
  child.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

function tempStore(): string {
  const d = mkdtempSync(join(tmpdir(), 'flexfarm-farm-up-'));
  dirs.push(d);
  return join(d, 'farm');
}

const EPHEMERAL = ['--http', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--nats-listen', '127.0.0.1:0'];

async function runCampaign(coordinator: string, target: string): Promise<void> {
  const submitted = await cli(['campaign', 'submit', 'gemm', '--shape', 'M=8,N=8,K=8', '--targets', target, '--trials', '4',
    '--remeasure', '0', '--repeat', '1', '--min-repeat-ms', '1', '--coordinator', coordinator, '--json']);
  expect(submitted.code, submitted.stderr).toBe(0);
  const { id } = JSON.parse(submitted.stdout) as { id: string };
  const watched = await cli(['campaign', 'watch', id, '--coordinator', coordinator, '--json'], { timeoutMs: 90_000 });
  expect(watched.code, watched.stderr).toBe(0);
  const final = JSON.parse(watched.stdout) as { state: string; targets: { target: string; measured: number; valid: number }[] };
  expect(final.state).toBe('done');
  expect(final.targets).toEqual([expect.objectContaining({ target, measured: 4 })]);
  expect(final.targets[0].valid).toBeGreaterThan(0);
}

/** Stops the farm with `signal` and checks that it and every process below it are gone. */
async function stopAndCheck(farm: FarmUp, signal: NodeJS.Signals): Promise<number[]> {
  const pids = descendants(farm.child.pid!);
  farm.child.kill(signal);
  expect(await farm.exited).toBe(0);
  await waitFor('every process of the farm gone', () => (pids.some(alive) ? undefined : true), 10_000);
  expect(pids.filter(alive)).toEqual([]);
  expect(alive(farm.child.pid!)).toBe(false);
  return pids;
}

test('farm up starts nats-server, a coordinator with its page and a cpu agent; a campaign runs; SIGTERM leaves no process', async () => {
  const store = tempStore();
  const farm = farmUp([...EPHEMERAL, '--store', store]);
  await waitFor('the farm up', () => (farm.stdout().includes('Ctrl-C stops the farm') ? true : undefined), 90_000, 200)
    .catch((err: Error) => { throw new Error(`${err.message}\n${farm.stdout()}\n${farm.stderr()}`); });
  const out = farm.stdout();
  // What it started, with PIDs; what it did not, with why (no GPU here, sim only when named).
  expect(out).toMatch(/^nats-server nats:\/\/127\.0\.0\.1:\d+ \(JetStream store .*nats; pid \d+\)$/m);
  expect(out).toMatch(/^agent cpu 127\.0\.0\.1:\d+ \(gcc .*; pid \d+\)$/m);
  expect(out).toMatch(/^no sim agent: .*--devices cpu,sim/m);
  const coordinator = /^coordinator (\S+) /m.exec(out)![1];
  const page = /the page is at (http:\/\/\S+\/)/.exec(out)![1];
  const printedPids = [...out.matchAll(/pid (\d+)\)/g)].map((m) => Number(m[1]));
  expect(printedPids.length).toBeGreaterThanOrEqual(3); // nats-server, coordinator, the cpu agent (and a gpu one where nvidia-smi lists a GPU)
  expect(existsSync(join(store, 'nats', 'jetstream'))).toBe(true);

  const html = await fetch(page);
  expect(html.status).toBe(200);
  expect(await html.text()).toMatch(/<html/i);
  await waitFor('the cpu agent up', async () => {
    const r = await cli(['agents', '--coordinator', coordinator, '--json']);
    return (JSON.parse(r.stdout || '[]') as { kind: string; state: string }[]).some((a) => a.kind === 'cpu' && a.state === 'up') ? true : undefined;
  }, 30_000, 500);
  // Counters are there at 0 before anything happened (a Grafana stat panel reads 0, not "No data").
  const metrics = await (await fetch(`${page}metrics`)).text();
  expect(metrics).toMatch(/^flexfarm_measurements_total\{device_class="cpu",agent="[^"]+",status="ok"\} 0$/m);
  expect(metrics).toMatch(/^flexfarm_dispatched_total\{device_class="cpu",agent="[^"]+"\} 0$/m);
  expect(metrics).toMatch(/^flexfarm_redispatches_total\{device_class="cpu",reason="agent_lost"\} 0$/m);
  for (const counter of ['remeasurements', 'duplicate_results', 'dropped', 'forgotten']) {
    expect(metrics).toMatch(new RegExp(`^flexfarm_${counter}_total\\{device_class="cpu"[^}]*\\} 0$`, 'm'));
  }

  await runCampaign(coordinator, 'cpu');
  // search lines only: the agent's yardstick adds a reference and a library line
  expect(readRecords(join(store, 'records.jsonl'))).toHaveLength(4);

  const pids = await stopAndCheck(farm, 'SIGTERM');
  for (const pid of printedPids) expect(pids).toContain(pid);
  expect(farm.stderr()).toMatch(/SIGTERM: stopping the agents, the coordinator, then nats-server/);
  // The agent finished before the coordinator, which stopped before nats-server.
  expect(readFileSync(join(store, 'logs', 'agent-cpu.log'), 'utf8')).toMatch(/SIGTERM: finishing measurements/);
  expect(readFileSync(join(store, 'logs', 'coordinator.log'), 'utf8')).toMatch(/SIGTERM: stopping/);
}, 240_000);

test('farm up --devices sim: a sim campaign runs; SIGINT (Ctrl-C) leaves no process', async () => {
  const farm = farmUp([...EPHEMERAL, '--store', tempStore(), '--devices', 'sim']);
  await waitFor('the farm up', () => (farm.stdout().includes('Ctrl-C stops the farm') ? true : undefined), 90_000, 200)
    .catch((err: Error) => { throw new Error(`${err.message}\n${farm.stdout()}\n${farm.stderr()}`); });
  expect(farm.stdout()).toMatch(/^agent sim /m);
  expect(farm.stdout()).not.toMatch(/^agent cpu /m);
  await runCampaign(/^coordinator (\S+) /m.exec(farm.stdout())![1], 'sim');
  await stopAndCheck(farm, 'SIGINT');
}, 240_000);

test('farm up on a taken port says so in one line, exits 1 and leaves nothing running', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
  const port = (taken.address() as net.AddressInfo).port;
  try {
    const farm = farmUp(['--http', '127.0.0.1:0', '--listen', `127.0.0.1:${port}`, '--store', tempStore(), '--devices', 'sim']);
    let pids: number[] = [];
    const watcher = setInterval(() => { pids = [...new Set([...pids, ...descendants(farm.child.pid!)])]; }, 100);
    const code = await farm.exited;
    clearInterval(watcher);
    expect(code).toBe(1);
    expect(farm.stderr()).toMatch(new RegExp(`coordinator did not start: flexfarm coordinator: cannot listen on 127\\.0\\.0\\.1:${port}: port ${port} is taken by another process`));
    expect(farm.stderr()).not.toMatch(/No address added|\n\s+at /);
    await waitFor('every process of the farm gone', () => (pids.some(alive) ? undefined : true), 10_000);
  } finally {
    taken.close();
  }
}, 180_000);
