// Re-measuring the winners (the acceptance test of issue 16): on a landscape where the first
// measurement of every config is lucky, the search's best is the luckiest config, not the fastest;
// after re-measuring the top 5, `tune`, `best`, bestConfig() and `export` name the config with the
// best re-measured figure, and say that it was re-measured. With --remeasure 0 they do not.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bestConfig } from 'flexfarm';
import { tune } from '../cli/embedded-tune.ts';
import { DEFAULT_PROTOCOL } from '../contracts/result.ts';
import { bestPerWorkloadDevice, openLog } from '../coordinator/best.ts';
import { configKey } from '../coordinator/keys.ts';
import type { TuneOutcome } from '../coordinator/tune.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { LuckyBackend } from './helpers/lucky-backend.ts';

const repo = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'flexfarm-remeasure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const def = defineWorkload('gemm', { M: 64, N: 64, K: 64 });
const paths = { on: join(dir, 'on.jsonl'), off: join(dir, 'off.jsonl') };
const outcomes: Record<'on' | 'off', TuneOutcome> = {} as never;
const truth = new LuckyBackend();

beforeAll(async () => {
  for (const mode of ['on', 'off'] as const) {
    outcomes[mode] = await tune({
      def, backend: new LuckyBackend(), trials: 40, explorer: 'random', seed: 1, recordsPath: paths[mode],
      outDir: join(dir, `out-${mode}`), remeasure: mode === 'on' ? 5 : 0,
    });
  }
});

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/flexfarm.ts', ...args], { cwd: repo, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a lucky first measurement', () => {
  it('the search alone crowns the luckiest config; re-measuring the top 5 switches to the truly fastest of them', () => {
    const log = openLog(paths.on);
    const search = log.all().filter((r) => !r.error).sort((a, b) => a.median! - b.median!);
    const lucky = search[0];
    const top5 = search.slice(0, 5);
    const fastest = top5.reduce((a, b) => (truth.trueSeconds(def, b.config, DEFAULT_PROTOCOL) < truth.trueSeconds(def, a.config, DEFAULT_PROTOCOL) ? b : a));
    expect(configKey(fastest.config)).not.toBe(configKey(lucky.config)); // the landscape does fool the search here

    // The log keeps both: every search line, and 5 configs x 3 rounds of re-measurements.
    expect(log.all()).toHaveLength(40);
    expect(log.remeasures()).toHaveLength(15);
    expect(new Set(log.remeasures().map((r) => r.of))).toEqual(new Set(top5.map((r) => r.candidateId)));

    const on = outcomes.on;
    expect(configKey(on.searchBest!.config)).toBe(configKey(lucky.config));
    expect(configKey(on.best!.config)).toBe(configKey(fastest.config));
    expect(on.best!.seconds).toBeCloseTo(truth.trueSeconds(def, fastest.config, DEFAULT_PROTOCOL), 15);
    expect(on.best!.remeasured).toEqual({ seconds: on.best!.seconds, runs: 3, searchSeconds: fastest.median });
    expect(on.remeasured).toBe(15);

    const [entry] = bestPerWorkloadDevice(log.all(), log.references(), {}, log.remeasures());
    expect(configKey(entry.config)).toBe(configKey(fastest.config));
    expect(entry.seconds).toBe(on.best!.seconds);
    expect(entry.remeasured?.runs).toBe(3);
    expect(bestConfig(paths.on, def.key, 'sim')).toEqual(fastest.config);
  });

  it('with --remeasure 0 the lucky config stays the best, and is said not to be re-measured', () => {
    const log = openLog(paths.off);
    expect(log.remeasures()).toEqual([]);
    const lucky = log.all().filter((r) => !r.error).sort((a, b) => a.median! - b.median!)[0];
    expect(outcomes.off.best!.config).toEqual(lucky.config);
    expect(outcomes.off.best!.remeasured).toBeUndefined();
    expect(bestConfig(paths.off, def.key, 'sim')).toEqual(lucky.config);
    const [entry] = bestPerWorkloadDevice(log.all(), log.references(), {}, log.remeasures());
    expect(entry.remeasured).toBeNull();
  });

  it('`flexfarm best` and `flexfarm export` report the re-measured figure and say so', () => {
    const best = cli(['best', '--records', paths.on, '--json']);
    expect(best.code, best.stderr).toBe(0);
    const [entry] = JSON.parse(best.stdout);
    expect(entry.config).toEqual(outcomes.on.best!.config);
    expect(entry.seconds).toBe(outcomes.on.best!.seconds);
    expect(entry.remeasured).toMatchObject({ runs: 3 });
    const text = cli(['best', '--records', paths.on]);
    expect(text.stdout).toMatch(/re-measured: median of 3 fresh runs \(the search measured/);
    expect(cli(['best', '--records', paths.off]).stdout).toMatch(/not re-measured/);

    const out = join(dir, 'export');
    const exported = cli(['export', '--records', paths.on, '--workload', def.key, '--target', 'sim', '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/re-measured: median of 3 fresh runs/);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toMatch(/Re-measured after the search: the median of 3 runs/);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).config).toEqual(outcomes.on.best!.config);
  });
});
