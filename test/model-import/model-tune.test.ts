// `flexfarm model tune` on a real model (PaddleOCR's classifier) with the sim target: every layer
// gets its share of the budget (a floor each), one log; killed with SIGKILL and run again, it
// goes on where it stopped and the log ends with exactly the planned measurements per layer.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planBudget } from '../../coordinator/model-import/budget.ts';
import { importModelLayers } from '../../coordinator/model-import/model-layers.ts';
import { CLASSIFIER } from './real-models.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'flexfarm-model-tune-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const INPUT = 'x=1,3,48,192';
const TRIALS = 120, FLOOR = 2;

function flexfarm(args: string[], killWhen?: RegExp): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/flexfarm.ts', ...args], {
      cwd: ROOT, env: { ...process.env, FLEXFARM_CACHE: join(tmp, 'cache') }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (killWhen?.test(stderr)) child.kill('SIGKILL');
    });
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

/** Measurements per workload in a log (tuning lines only). */
function logged(path: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of readFileSync(path, 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line);
    if (r.type === undefined) counts.set(r.workload, (counts.get(r.workload) ?? 0) + 1);
  }
  return counts;
}

describe('planBudget', () => {
  it('gives every layer the floor, the rest by share, adding up to the budget', () => {
    const plan = planBudget([0.6, 0.3, 0.1, 0], 20, 2);
    expect(plan.reduce((a, b) => a + b, 0)).toBe(20);
    expect(plan.every((p) => p >= 2)).toBe(true);
    expect(plan[0]).toBeGreaterThan(plan[1]);
    expect(plan[3]).toBe(2);
    expect(() => planBudget([0.5, 0.5], 3, 2)).toThrow(/--trials 3 is below the floor: 2 layers x 2 measurements need at least 4/);
  });
});

describe('flexfarm model tune (sim)', () => {
  it('killed with SIGKILL mid-run, run again: it resumes and the log holds each layer\'s planned share', async () => {
    const records = join(tmp, 'cls.jsonl');
    const args = ['model', 'tune', CLASSIFIER, '--input', INPUT, '--target', 'sim', '--trials', String(TRIALS), '--min-trials', String(FLOOR),
      '--remeasure', '0', '--records', records, '--out', join(tmp, 'out'), '--json'];
    const killed = await flexfarm(args, /\[layer 6\//);
    expect(killed.signal).toBe('SIGKILL');
    const before = [...logged(records).values()].reduce((a, b) => a + b, 0);
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(TRIALS);

    const resumed = await flexfarm(args);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/done before/);
    const out = JSON.parse(resumed.stdout);
    expect(out.simulated).toBe(true);
    expect(out.measuredNow).toBe(TRIALS - before);

    const model = importModelLayers(CLASSIFIER, { x: [1, 3, 48, 192] });
    const plan = planBudget(model.layers.map((l) => l.share), TRIALS, FLOOR);
    const counts = logged(records);
    model.layers.forEach((l, i) => expect(counts.get(l.workload), l.workload).toBe(plan[i]));
    expect(out.layers.map((l: { workload: string }) => l.workload)).toEqual(model.layers.map((l) => l.workload));
    for (const l of out.layers) expect(l.best.seconds).toBeGreaterThan(0);
    const total = out.layers.reduce((s: number, l: { best: { seconds: number }; count: number }) => s + l.best.seconds * l.count, 0);
    expect(out.total.seconds).toBeCloseTo(total, 12);
    expect(out.total.complete).toBe(true);

    // A third run has nothing left to measure.
    const again = await flexfarm(args);
    expect(JSON.parse(again.stdout).measuredNow).toBe(0);
  });

  it('a budget below the floor is refused before anything is measured', async () => {
    const run = await flexfarm(['model', 'tune', CLASSIFIER, '--input', INPUT, '--target', 'sim', '--trials', '10', '--records', join(tmp, 'small.jsonl')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/--trials 10 is below the floor/);
  });
});
