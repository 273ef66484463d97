// `model report`: each layer's best from the log measured now, a library at the same shape and
// the unscheduled reference; the model's totals (time x count); the HTML page, looked at in
// headless Chromium.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../agent/backends/index.ts';
import { importModelLayers } from '../../coordinator/model-import/model-layers.ts';
import { reportModel } from '../../coordinator/model-import/model-report.ts';
import { CLASSIFIER } from './real-models.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let tmp: string, records: string;
const INPUT = ['--input', 'x=1,3,48,96'];

function flexfarm(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/flexfarm.ts', ...args], {
      cwd: ROOT, env: { ...process.env, FLEXFARM_CACHE: join(tmp, 'cache') }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'flexfarm-model-report-'));
  records = join(tmp, 'cls.jsonl');
  const run = await flexfarm(['model', 'tune', CLASSIFIER, ...INPUT, '--target', 'sim', '--trials', '90', '--remeasure', '0', '--records', records, '--out', join(tmp, 'out')]);
  expect(run.code, run.stderr).toBe(0);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('model report', () => {
  it('totals are each layer\'s time x its count, over the layers every figure exists for', async () => {
    const model = importModelLayers(CLASSIFIER, { x: [1, 3, 48, 96] });
    const backend = createBackend('sim', { cacheDir: join(tmp, 'cache') }, { seed: 0 });
    // A stand-in library that runs at exactly 1 TFLOP/s, except for gemm, which it lacks.
    const report = await reportModel({
      model, recordsPath: records, backend,
      library: async (def) => (def.op === 'gemm' ? { missing: 'no gemm here' } : { seconds: def.flops / 1e12, library: 'tera' }),
    });
    expect(report.rows.map((r) => r.layer.workload)).toEqual(model.layers.map((l) => l.workload));
    const withLibrary = model.layers.filter((l) => l.op !== 'gemm');
    expect(report.totals.library).toBeCloseTo(withLibrary.reduce((s, l) => s + l.flops, 0) / 1e12, 15);
    expect(report.compared).toBe(withLibrary.length);
    const ours = report.rows.reduce((s, r) => s + r.ours! * r.layer.count, 0);
    expect(report.totals.ours).toBeCloseTo(ours, 15);
    expect(report.comparedTotals.ours).toBeLessThan(report.totals.ours);
    expect(report.rows.find((r) => r.layer.op === 'gemm')!.library).toEqual({ missing: 'no gemm here' });
  });

  it('the command writes the HTML page and says why oneDNN has no figure off the CPU', async () => {
    const html = join(tmp, 'report.html');
    const run = await flexfarm(['model', 'report', CLASSIFIER, ...INPUT, '--target', 'sim', '--records', records, '--html', html, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.simulated).toBe(true);
    expect(out.rows[0].library).toEqual({ missing: 'oneDNN runs on the CPU, not on sim' });
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/<svg class="layers"/);
    expect(page).toMatch(/SIMULATED/);
    expect(page.match(/<tr><td>\d+<\/td>/g)).toHaveLength(out.rows.length);
    const context = await chromium.launchPersistentContext(join(tmp, 'chromium-profile'), {
      executablePath: '/usr/bin/chromium', headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const view = await context.newPage();
      const requests: string[] = [];
      view.on('request', (req) => requests.push(req.url()));
      await view.goto(pathToFileURL(html).href);
      expect(await view.locator('svg.layers rect.bar').count()).toBe(2 * out.rows.length);
      expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
      mkdirSync(join(ROOT, 'test-results'), { recursive: true });
      await view.screenshot({ path: join(ROOT, 'test-results', 'model-report.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('a log without the model\'s layers is an error that says so', async () => {
    const run = await flexfarm(['model', 'report', CLASSIFIER, ...INPUT, '--target', 'sim', '--records', join(tmp, 'none.jsonl')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/none\.jsonl holds no valid measurement of .*on sim/);
  });
});
