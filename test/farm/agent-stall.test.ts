// Acceptance of issue 18 item 1 with real processes: a nats-server, a coordinator with --http and
// the only sim agent, killed mid-campaign. Within 10 s `campaign get`, `campaign list`, `campaign
// watch`, the live page (headless Chromium) and /metrics say the target is waiting, naming the
// lost agent; the lost agent's queue is no longer shown as live; a new sim agent clears it all
// and the campaign completes.
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { CampaignJson } from '../../cli/commands/campaign.ts';
import { counterValue } from '../helpers/forge.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { cli, httpJson, REPO, startAgent, startCoordinator, stopAll, waitFor, type HttpAgent, type HttpCampaign, type ServiceProcess } from './farm-processes.ts';

let nats: NatsServer;
let dir: string;
let coordinator: ServiceProcess;
let http: string;
const agents: ServiceProcess[] = [];
let browser: BrowserContext | undefined;
let profile: string | undefined;

const sim = (name: string) => startAgent({ device: 'sim', nats: nats.url, name, extra: ['--delay-ms', '40', '--capacity', '4', '--heartbeat-ms', '200'] });

beforeAll(async () => {
  nats = await startNatsServer();
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-stall-'));
  const [c, a] = await Promise.all([
    startCoordinator({ nats: nats.url, records: join(dir, 'records.jsonl'), extra: ['--http', '127.0.0.1:0', '--settle-ms', '200', '--lost-after-ms', '1500'] }),
    sim('sim-only'),
  ]);
  coordinator = c;
  http = c.http!;
  agents.push(a);
});

afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await Promise.all([...agents, coordinator].filter(Boolean).map((p) => p.stop()));
  await stopAll();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function metric(kind: string): Promise<number> {
  const text = await (await fetch(`http://${http}/metrics`)).text();
  expect(text).toMatch(new RegExp(`^flexfarm_campaign_targets_waiting\\{device_class="${kind}"\\} \\d+$`, 'm'));
  return counterValue(text, 'flexfarm_campaign_targets_waiting', { device_class: kind });
}

async function getJson(id: string): Promise<CampaignJson> {
  const r = await cli(['campaign', 'get', id, '--coordinator', coordinator.address, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as CampaignJson;
}

async function openPage() {
  profile = mkdtempSync(join(tmpdir(), 'flexfarm-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1360, height: 1100 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = browser.pages()[0] ?? await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://${http}/`);
  return { page, errors };
}

const LOST_MESSAGE = /^waiting: no sim agent up — sim-only lost \d+ s ago; \d+ queued/;

test('the only agent of a kind killed: get, list, watch, the page and the metric say the target waits, until a new agent comes', async () => {
  await waitFor('the sim agent up', async () => (await httpJson<HttpAgent[]>(http, '/api/agents')).some((a) => a.name === 'sim-only' && a.state === 'up') || undefined);
  expect(await metric('sim')).toBe(0); // present at 0 before anything waits
  const { page, errors } = await openPage();

  const trials = 150;
  const submitted = await cli(['campaign', 'submit', 'gemm', '--shape', 'M=64,N=64,K=64', '--targets', 'sim', '--trials', String(trials),
    '--seed', '4', '--coordinator', coordinator.address, '--json']);
  expect(submitted.code, submitted.stderr).toBe(0);
  const { id } = JSON.parse(submitted.stdout) as { id: string };
  const watched = cli(['campaign', 'watch', id, '--coordinator', coordinator.address, '--json'], { timeoutMs: 110_000 });
  const row = page.locator(`#campaigns tr[data-campaign="${id}"]`);
  await row.waitFor({ timeout: 15_000 });
  await row.click();

  await waitFor('the campaign midway', async () => ((await httpJson<HttpCampaign>(http, `/api/campaigns/${id}`)).targets[0].measured >= 10) || undefined, 30_000, 50);
  await agents[0].stop('SIGKILL');
  const killedAt = Date.now();

  // Within 10 s the target waits (polled on the cheap HTTP API: a CLI call takes a second or two
  // here), then `campaign get` says so, naming the lost agent.
  await waitFor('the target to wait', async () => (await httpJson<HttpCampaign>(http, `/api/campaigns/${id}`))
    .targets[0].state === 'waiting' || undefined, 10_000, 100);
  const saidAfterMs = Date.now() - killedAt;
  const waiting = await getJson(id);
  console.log(`stall: said ${saidAfterMs} ms after the kill; campaign get: ${waiting.message}`);
  expect(waiting.targets[0].state).toBe('waiting');
  expect(waiting.state).toBe('running');
  expect(waiting.targets[0].message).toMatch(LOST_MESSAGE);
  expect(waiting.message).toMatch(LOST_MESSAGE);
  expect(waiting.targets[0].queued).toBeGreaterThan(0);
  // The plain text says it too.
  const text = await cli(['campaign', 'get', id, '--coordinator', coordinator.address]);
  expect(text.stdout).toMatch(/^ {2}sim {3}waiting /m);
  expect(text.stdout).toMatch(/^ {2}waiting: no sim agent up — sim-only lost \d+ s ago; \d+ queued$/m);
  // list
  const listed = await cli(['campaign', 'list', '--coordinator', coordinator.address, '--json']);
  const mine = (JSON.parse(listed.stdout) as CampaignJson[]).find((c) => c.id === id)!;
  expect(mine.targets[0].state).toBe('waiting');
  expect(mine.message).toMatch(LOST_MESSAGE);
  // metric
  expect(await metric('sim')).toBe(1);
  expect(await metric('cpu')).toBe(0);

  // The page: the message, the target marked waiting, the lost agent's queue not shown as live.
  await page.waitForFunction(() => /waiting: no sim agent up — sim-only lost/.test(document.getElementById('detail-message')?.textContent ?? '')
    && !document.getElementById('detail-message')!.hidden, null, { timeout: 10_000 });
  expect(await page.locator(`#campaigns tr[data-campaign="${id}"] .target-row[data-target="sim"]`).getAttribute('data-state')).toBe('waiting');
  await expect.poll(() => page.locator('#agents tr[data-agent="sim-only"]').getAttribute('data-health'), { timeout: 10_000 }).toBe('lost');
  const queueCell = page.locator('#agents tr[data-agent="sim-only"] td[data-load]');
  expect(await queueCell.getAttribute('data-load')).toBe('unknown');
  expect(await queueCell.textContent()).not.toMatch(/queued|measuring/);
  mkdirSync(join(REPO, 'test-results'), { recursive: true });
  const shot = join(REPO, 'test-results', 'stall-page.png');
  await page.screenshot({ path: shot, fullPage: true });
  expect(statSync(shot).size).toBeGreaterThan(10_000);

  // A new agent of the kind: the target runs again, everything clears, the campaign completes.
  agents.push(await sim('sim-new'));
  const resumed = await waitFor('campaign get to say the target runs again', async () => {
    const c = await getJson(id);
    return c.targets[0].state !== 'waiting' ? c : undefined;
  }, 15_000, 250);
  expect(['running', 'done']).toContain(resumed.targets[0].state);
  expect(resumed.targets[0].message).toBeNull();
  expect(resumed.message).toBeNull();
  // Polled: on a loaded machine a fresh agent's heartbeats may come late once or twice.
  await expect.poll(() => metric('sim'), { timeout: 10_000 }).toBe(0);
  await page.waitForFunction(() => document.getElementById('detail-message')!.hidden, null, { timeout: 10_000 });

  const watch = await watched;
  expect(watch.code, watch.stderr).toBe(0);
  const final = JSON.parse(watch.stdout) as CampaignJson;
  expect(final.state).toBe('done');
  expect(final.targets[0]).toMatchObject({ measured: trials, state: 'done', message: null });
  // watch said it at once when it began, and stopped saying it once the new agent was up.
  const lines = watch.stderr.trim().split('\n');
  const first = lines.findIndex((l) => / sim waiting \d+\/150 .*waiting: no sim agent up — sim-only lost \d+ s ago; \d+ queued/.test(l));
  expect(first, watch.stderr).toBeGreaterThanOrEqual(0);
  expect(lines.slice(first).some((l) => l.startsWith(`${id} running:`) && !l.includes('waiting')), watch.stderr).toBe(true);
  expect(coordinator.log()).toMatch(new RegExp(`campaign ${id}: waiting: no sim agent up — sim-only lost`));
  expect(coordinator.log()).toContain(`campaign ${id}: sim running again (sim-new up)`);
  expect(errors).toEqual([]);
});
