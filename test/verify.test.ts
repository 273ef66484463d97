// `flexfarm verify`: the recorded best of each workload measured again on this host. A log whose
// best was edited to half its time exits 1 naming the workload (sim: exact figures; cpu: real gcc
// and real runs); an untouched sim log passes; bad input is named.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configKey } from '../coordinator/keys.ts';

const repo = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'flexfarm-verify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/flexfarm.ts', ...args], {
    cwd: repo, encoding: 'utf8', env: { ...process.env, FLEXFARM_CACHE: join(dir, 'cache') },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of the log where every line of the best config (search and re-measurement) says half its time. */
function halveBest(from: string, to: string): string {
  const [best] = JSON.parse(cli(['best', '--records', from, '--json']).stdout);
  const lines = readFileSync(from, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const halved = lines.map((r) => {
    if (!r.config || configKey(r.config) !== configKey(best.config)) return r;
    return { ...r, seconds: r.seconds.map((s: number) => s / 2), median: r.median / 2, ...(r.spread ? { spread: { ...r.spread, min: r.spread.min / 2, median: r.spread.median / 2, max: r.spread.max / 2 } } : {}) };
  });
  writeFileSync(to, `${halved.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return best.workload;
}

describe('flexfarm verify', () => {
  it('sim: an untouched log passes; one whose best was halved exits 1 naming the workload', () => {
    const log = join(dir, 'sim.jsonl');
    const tuned = cli(['tune', 'gemm', '--shape', 'M=32,N=32,K=32', '--target', 'sim', '--trials', '20', '--records', log, '--out', join(dir, 'sim-out')]);
    expect(tuned.code, tuned.stderr).toBe(0);
    const ok = cli(['verify', '--records', log]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/gemm\(M=32,N=32,K=32,dtype=float32\)\s+sim\n\s+recorded .* \(re-measured\); now .*, ratio 1\.000\s+ok/);

    const edited = join(dir, 'sim-halved.jsonl');
    const workload = halveBest(log, edited);
    const bad = cli(['verify', '--records', edited, '--json']);
    expect(bad.code).toBe(1);
    const [row] = JSON.parse(bad.stdout);
    expect(row).toMatchObject({ workload, target: 'sim', ok: false, remeasured: true, sameDevice: true });
    expect(row.ratio).toBeCloseTo(2, 10);
    expect(bad.stderr).toContain(`flexfarm verify: ${workload} on sim: now`);
  });

  it('cpu: real runs in fresh processes; a recorded best edited to half its time is outside the tolerance', () => {
    const log = join(dir, 'cpu.jsonl');
    const tuned = cli(['tune', 'gemm', '--shape', 'M=32,N=32,K=32', '--target', 'cpu', '--trials', '3', '--remeasure', '0', '--threads', '1', '--records', log, '--out', join(dir, 'cpu-out')]);
    expect(tuned.code, tuned.stderr).toBe(0);
    const edited = join(dir, 'cpu-halved.jsonl');
    const workload = halveBest(log, edited);
    const bad = cli(['verify', '--records', edited, '--threads', '1', '--rounds', '2']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`1 of 1 outside ±5.0 %: ${workload}`);
    expect(bad.stdout).toMatch(/recorded .*; now .*, ratio \d+\.\d+\s+OUTSIDE ±5\.0 %/);
    expect(bad.stderr).toContain(`${workload} on cpu: now`);
  });

  it('bad input is named: a missing log, a log without a best, a bad tolerance or rounds, no --records', () => {
    const missing = cli(['verify', '--records', join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/tuning log '.*nope\.jsonl' does not exist/);

    const failures = join(dir, 'failures.jsonl');
    writeFileSync(failures, `${JSON.stringify({
      v: 1, candidateId: 'c/cpu/0', workload: 'gemm(M=8,N=8,K=8,dtype=float32)', target: 'cpu', config: {}, seconds: [], median: null,
      error: { code: 'COMPILE', message: 'x' }, device: { kind: 'cpu', name: 'h', model: 'm', cores: 1, memoryBytes: 1, toolchain: 'gcc', limits: {} },
      toolchain: 'gcc', at: '2026-01-01T00:00:00.000Z',
    })}\n`);
    const none = cli(['verify', '--records', failures]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no recorded best to verify: .*failures\.jsonl holds no valid measurement/);

    for (const [flag, value, message] of [['--tolerance', 'abc', /--tolerance: expected a number between 0 and 1/], ['--tolerance', '-0.1', /--tolerance: .*got '-0.1'/], ['--rounds', '0', /--rounds: must be >= 1, got 0/]] as const) {
      const r = cli(['verify', '--records', failures, flag, value]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(cli(['verify']).stderr).toMatch(/--records is required/);
    const tune = cli(['tune', 'gemm', '--shape', 'M=8,N=8,K=8', '--target', 'sim', '--remeasure', '-1']);
    expect(tune.code).toBe(2);
    expect(tune.stderr).toMatch(/--remeasure: must be >= 0, got -1/);
  });
});
