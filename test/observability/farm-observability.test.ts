// Acceptance of issue 5 with real processes: a nats-server, a coordinator with --http and a sim
// agent with --metrics. promtool accepts both scrapes; Debian's Prometheus scrapes both during a
// campaign; headless Chromium watches the built-in page gain points without a reload; and
// `campaign watch` shows a bar on a terminal and plain lines otherwise.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { freePort, startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import {
  cli, httpJson, REPO, startAgent, startCoordinator, stopAll, waitFor, type HttpCampaign, type ServiceProcess,
} from '../farm/farm-processes.ts';
import { startPrometheus, type PrometheusServer } from './prometheus-server.ts';

let nats: NatsServer;
let dir: string;
let coordinator: ServiceProcess;
let agent: ServiceProcess;
let http: string;
let agentMetrics: string;
let prometheus: PrometheusServer | undefined;

beforeAll(async () => {
  nats = await startNatsServer();
  agentMetrics = `127.0.0.1:${await freePort()}`;
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-observability-'));
  [coordinator, agent] = await Promise.all([
    startCoordinator({ nats: nats.url, records: join(dir, 'records.jsonl'), extra: ['--http', '127.0.0.1:0', '--settle-ms', '200'] }),
    // 40 ms per measurement, one at a time: a campaign of N trials lasts about N/25 s.
    startAgent({ device: 'sim', nats: nats.url, name: 'sim-obs', extra: ['--delay-ms', '40', '--metrics', agentMetrics] }),
  ]);
  http = coordinator.http!;
  await waitFor('the sim agent up', async () => (await httpJson<{ state: string }[]>(http, '/api/agents')).some((a) => a.state === 'up') || undefined);
});

afterAll(async () => {
  await prometheus?.dispose();
  await Promise.all([agent, coordinator].filter(Boolean).map((p) => p.stop()));
  await stopAll();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(command: string, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

async function submit(trials: number, explorer = 'random'): Promise<string> {
  const r = await cli(['campaign', 'submit', 'gemm', '--shape', 'M=64,N=64,K=64', '--targets', 'sim', '--trials', String(trials),
    '--explorer', explorer, '--seed', '1', '--coordinator', coordinator.address, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

async function finished(id: string, timeoutMs = 60_000): Promise<HttpCampaign> {
  return waitFor(`campaign ${id} to end`, async () => {
    const c = await httpJson<HttpCampaign>(http, `/api/campaigns/${id}`);
    return c.state === 'running' ? undefined : c;
  }, timeoutMs, 250);
}

async function scrape(address: string): Promise<string> {
  const res = await fetch(`http://${address}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** Sum of a metric's samples whose labels match all of `labels`. */
function sampleSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

test('promtool accepts the coordinator\'s and the agent\'s scrapes, which count the campaign and keep labels bounded', async () => {
  const trials = 30;
  const id = await submit(trials, 'q');
  const final = await finished(id);
  expect(final.state).toBe('done');

  const coordinatorText = await scrape(http);
  const agentText = await scrape(agentMetrics);
  for (const [who, text] of [['coordinator', coordinatorText], ['agent', agentText]] as const) {
    const check = await run('promtool', ['check', 'metrics'], text);
    expect(`${who}: rc ${check.code} ${check.stdout}${check.stderr}`).toBe(`${who}: rc 0 `);
    const names = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((n) => !n.startsWith('flexfarm_'))).toEqual([]);
    // No candidate id (campaign/target/seq) and no config in any label value.
    const labelValues = [...text.matchAll(/="([^"]*)"/g)].map((m) => m[1]);
    expect(labelValues.filter((v) => /\/(sim|cpu|gpu|fpga)\/\d+$/.test(v) || v.includes('split.'))).toEqual([]);
  }
  expect(sampleSum(coordinatorText, 'flexfarm_measurements_total', { device_class: 'sim', agent: 'sim-obs' })).toBe(trials);
  expect(sampleSum(coordinatorText, 'flexfarm_measure_round_trip_seconds_count', { device_class: 'sim' })).toBe(trials);
  expect(sampleSum(coordinatorText, 'flexfarm_explorer_trials', { campaign: id, explorer: 'q' })).toBe(trials);
  expect(sampleSum(coordinatorText, 'flexfarm_best_gflops', { campaign: id, device_class: 'sim' })).toBeGreaterThan(0);
  expect(sampleSum(coordinatorText, 'flexfarm_agents', { device_class: 'sim', state: 'idle' })).toBe(1);
  expect(sampleSum(coordinatorText, 'flexfarm_campaigns', { state: 'done' })).toBe(1);
  expect(coordinatorText).toMatch(/^flexfarm_explorer_epsilon\{[^}]*campaign="c[a-z0-9]+"[^}]*\} 0\.\d+/m);
  // After the search its top 5 were re-measured, 3 rounds: counted apart on the coordinator; the
  // agent measured them like any candidate.
  const remeasured = sampleSum(coordinatorText, 'flexfarm_remeasurements_total', { device_class: 'sim' });
  expect(remeasured).toBe(15);
  expect(sampleSum(agentText, 'flexfarm_agent_measurements_total', { agent: 'sim-obs', device_class: 'sim' })).toBe(trials + remeasured);
  // Each sim measurement sleeps 40 ms: the agent's histogram saw every one, none faster.
  expect(sampleSum(agentText, 'flexfarm_agent_measure_duration_seconds_count')).toBe(trials + remeasured);
  expect(sampleSum(agentText, 'flexfarm_agent_measure_duration_seconds_bucket', { le: '0.025' })).toBe(0);
  expect(sampleSum(agentText, 'flexfarm_agent_publish_duration_seconds_count')).toBe(trials + remeasured);
  expect(sampleSum(agentText, 'flexfarm_process_cpu_seconds_total')).toBeGreaterThan(0);
});

test('Debian\'s Prometheus scrapes the coordinator and the agent during a campaign', async () => {
  prometheus = await startPrometheus({ 'flexfarm-coordinator': [http], 'flexfarm-agents': [agentMetrics] });
  const id = await submit(300);
  const started = Date.now();
  // The first samples take about 5 s (scrape, then the head block becomes queryable).
  const measured = await waitFor('Prometheus to hold flexfarm_measurements_total for the campaign\'s agent', async () => {
    const r = await prometheus!.query('sum(flexfarm_measurements_total{job="flexfarm-coordinator",agent="sim-obs"})');
    return r.length && Number(r[0].value[1]) > 0 ? Number(r[0].value[1]) : undefined;
  }, 40_000, 500);
  expect(measured).toBeGreaterThan(0);
  const seenAfterMs = Date.now() - started;
  const agentSeries = await waitFor('the agent\'s series in Prometheus', async () => {
    const r = await prometheus!.query('flexfarm_agent_measurements_total{job="flexfarm-agents",status="ok"}');
    return r.length ? r : undefined;
  }, 20_000, 500);
  expect(agentSeries[0].metric.agent).toBe('sim-obs');
  const up = await prometheus.query('up');
  expect(up.map((s) => `${s.metric.job}=${s.value[1]}`).sort()).toEqual(['flexfarm-agents=1', 'flexfarm-coordinator=1']);
  const best = await prometheus.query(`flexfarm_best_gflops{campaign="${id}"}`);
  expect(best.length).toBe(1);
  expect(Number(best[0].value[1])).toBeGreaterThan(0);
  console.log(`prometheus: first flexfarm_measurements_total sample queryable ${seenAfterMs} ms after submitting`);
  await prometheus.dispose();
  prometheus = undefined;
  await cli(['campaign', 'cancel', id, '--coordinator', coordinator.address]);
});

test('the built-in page lists a running campaign and its curve gains points without a reload', async () => {
  const id = await submit(400);
  const profile = mkdtempSync(join(tmpdir(), 'flexfarm-chromium-'));
  // Playwright passes the fresh profile as --user-data-dir itself (it refuses the flag in args).
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1360, height: 1100 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
  try {
    const page = browser.pages()[0] ?? await browser.newPage();
    const external: string[] = [];
    page.on('request', (r) => { if (!r.url().startsWith(`http://${http}/`)) external.push(r.url()); });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://${http}/`);
    const row = page.locator(`#campaigns tr[data-campaign="${id}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getAttribute('data-state')).toBe('running');
    await row.click();
    const loadId = await page.evaluate(() => document.documentElement.dataset.loadId);
    const curvePoints = () => page.evaluate(() => Number(document.querySelector('#chart-best path[data-series="sim"]')?.getAttribute('data-points') ?? 0));
    await page.waitForFunction(() => Number(document.querySelector('#chart-best path[data-series="sim"]')?.getAttribute('data-points') ?? 0) > 0, null, { timeout: 15_000 });
    const before = await curvePoints();
    await page.waitForFunction((n) => Number(document.querySelector('#chart-best path[data-series="sim"]')?.getAttribute('data-points') ?? 0) > n + 20, before, { timeout: 15_000 });
    const after = await curvePoints();
    expect(after).toBeGreaterThan(before + 20);
    expect(await page.evaluate(() => document.documentElement.dataset.loadId)).toBe(loadId);
    // Every measurement is on the scatter; the agent is listed as up; the best config is shown.
    const dots = await page.evaluate(() => Number(document.querySelector('#chart-all path[data-series="sim"]')?.getAttribute('data-points') ?? 0));
    expect(dots).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#agents tr[data-agent="sim-obs"]').getAttribute('data-health')).toBe('up');
    expect(await page.locator('#best-configs [data-target="sim"] pre').textContent()).toContain('split.m');
    expect(await page.locator('#connection').getAttribute('data-state')).toBe('live');
    mkdirSync(join(REPO, 'test-results'), { recursive: true });
    const shot = join(REPO, 'test-results', 'observability-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    expect(external).toEqual([]);
    expect(errors).toEqual([]);
    console.log(`page: curve went from ${before} to ${after} points without a reload; screenshot ${shot}`);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
    await cli(['campaign', 'cancel', id, '--coordinator', coordinator.address]);
  }
});

test('campaign watch: a bar on a terminal, plain lines on a pipe, progress on stderr with --json', async () => {
  const id = await submit(150);
  const entry = `node --import tsx cli/flexfarm.ts campaign watch ${id} --coordinator ${coordinator.address}`;
  // `script` gives the command a pseudo-terminal, as a user's shell would.
  const [tty, piped] = await Promise.all([
    run('script', ['-qec', `cd ${REPO} && ${entry}`, '/dev/null']),
    cli(['campaign', 'watch', id, '--coordinator', coordinator.address, '--json'], { timeoutMs: 60_000 }),
  ]);
  expect(tty.code, tty.stderr).toBe(0);
  // Redrawn in place: carriage returns, a bar, measured/budget, rate and ETA, then the summary.
  expect(tty.stdout).toMatch(/\r\[#*\.*\] \[\d+\/150\] valid \d+ {2}sim \d+\/150 (best|no valid)/);
  expect(tty.stdout).toMatch(/\d+(\.\d+)?\/s {2}ETA (\d+s|\d+m\d\ds|\?)/);
  expect(tty.stdout).toMatch(/\[150\/150\] valid 150 .* done/);
  expect(tty.stdout).toContain(`${id}  done`);

  expect(piped.code, piped.stderr).toBe(0);
  expect((JSON.parse(piped.stdout) as { state: string }).state).toBe('done');
  const lines = piped.stderr.trim().split('\n');
  expect(lines.length).toBeGreaterThanOrEqual(2);
  for (const line of lines) expect(line).toMatch(new RegExp(`^${id} (running|done): \\[\\d+/150\\] valid \\d+ `));
  expect(lines.at(-1)).toMatch(/done: \[150\/150\]/);
  expect(piped.stderr).not.toContain('\r');
});
