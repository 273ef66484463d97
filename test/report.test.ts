// `flexfarm report`: one self-contained HTML file, rendered in headless Chromium (real browser,
// no network): convergence charts per workload, the best-kernels table, the cross-device
// comparison; a screenshot is saved under test-results/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimBackend } from '../agent/backends/sim/sim-backend.ts';
import { tune } from '../cli/embedded-tune.ts';
import { RecordLog } from '../coordinator/records.ts';
import { buildReportData } from '../coordinator/report/report-data.ts';
import { renderReport } from '../coordinator/report/render-html.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';

const repo = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'flexfarm-report-'));
const records = join(dir, 'records.jsonl');
const html = join(dir, 'report.html');
let context: BrowserContext | undefined;

const gemm = defineWorkload('gemm', { M: 128, N: 128, K: 128 });
const conv = defineWorkload('conv2d', { N: 1, C: 32, H: 14, W: 14, K: 32, R: 3, S: 3, pad: 1 });
// Two simulated devices (8 and 4 cores): two curves per chart, two columns to compare.
const devices = [new SimBackend({ seed: 1, cores: 8 }), new SimBackend({ seed: 1, cores: 4 })];

beforeAll(async () => {
  for (const backend of devices) {
    for (const def of [gemm, conv]) {
      await tune({ def, backend, trials: 40, seed: 3, recordsPath: records, outDir: join(dir, 'out') });
    }
  }
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/flexfarm.ts', 'report', '--records', records, '--out', html], {
    cwd: repo, encoding: 'utf8', env: { ...process.env, FLEXFARM_CACHE: join(dir, 'cache') },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('2 workloads, 2 devices, 160 measurements');
  context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
});

afterAll(async () => {
  await context?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('flexfarm report', () => {
  it('renders charts and tables in headless Chromium without any network request', async () => {
    const page = await context!.newPage();
    const requests: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    await page.goto(pathToFileURL(html).href);

    expect(await page.locator('section.workload').count()).toBe(2);
    const charts = page.locator('svg.convergence');
    expect(await charts.count()).toBe(2);
    for (let i = 0; i < 2; i++) {
      expect(await charts.nth(i).locator('path.series').count()).toBe(2); // one curve per device
      const box = await charts.nth(i).boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      expect(box!.height).toBeGreaterThan(200);
    }
    expect(await page.locator('svg.comparison rect.bar').count()).toBe(4);

    const rows = page.locator('table#best-kernels tbody tr');
    expect(await rows.count()).toBe(4);
    const firstRow = await rows.first().locator('td').allInnerTexts();
    expect(firstRow[0]).toContain('conv2d(');
    expect(Number(firstRow[2])).toBeGreaterThan(0); // GFLOP/s
    expect(firstRow[4]).toMatch(/^[\d.]+×$/); // speedup over the reference (tune logged it)
    expect(await page.locator('table#cross-device thead th').count()).toBe(3);
    expect(await page.locator('table#cross-device tbody tr').count()).toBe(2);
    await expect(page.getByText('an analytical model, not a device measurement').count()).resolves.toBe(1);

    expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
    mkdirSync(join(repo, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(repo, 'test-results', 'report.png'), fullPage: true });
    await page.close();
  });

  it('the best-so-far curves follow the log: each step is a new best, and the last is the best', () => {
    const log = RecordLog.open(records);
    const data = buildReportData([{ path: records, records: log.all(), references: log.references() }]);
    for (const w of data.workloads) {
      for (const s of w.series) {
        const ys = s.steps.map((p) => p.y);
        expect(ys).toEqual([...ys].sort((a, b) => a - b));
        const best = w.best.find((b) => b.deviceKey === s.deviceKey)!;
        expect(ys[ys.length - 1]).toBeCloseTo(best.gflops!, 9);
        expect(s.measurements).toBe(40);
      }
    }
  });

  it('escapes text from the log', () => {
    const log = RecordLog.open(records);
    const hostile = log.all().map((r) => ({ ...r, device: { ...r.device, model: '<img src=x onerror=alert(1)>' } }));
    const page = renderReport(buildReportData([{ path: '<b>log</b>', records: hostile, references: [] }]), { generatedAt: 'now' });
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<b>log');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('bad input: a missing log or no --out is a clear error', () => {
    const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'cli/flexfarm.ts', 'report', ...args], { cwd: repo, encoding: 'utf8' });
    const missing = run(['--records', join(dir, 'none.jsonl'), '--out', join(dir, 'x.html')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/none\.jsonl' does not exist/);
    const noOut = run(['--records', records]);
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toMatch(/--out is required/);
    expect(readFileSync(html, 'utf8')).toMatch(/^<!doctype html>/);
  });
});
