// Transfer between shapes and devices: configs adapted to a new shape, the nearest sources chosen
// first, and `tune --transfer-from` measuring the adapted seeds before the explorer starts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SimBackend } from '../agent/backends/sim/sim-backend.ts';
import { tune } from '../cli/embedded-tune.ts';
import type { DeviceInfo, MeasureResult } from '../contracts/result.ts';
import { RecordLog, type TuningRecord } from '../coordinator/records.ts';
import { configKey } from '../coordinator/keys.ts';
import { adaptConfig, transferSeeds, transferSources } from '../coordinator/transfer.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
// The classic space (splits, reorder, unroll): transfer adapts those knobs the same way on every template.
import { cpuClassicTemplate as cpuTemplate, DEFAULT_MAX_ACCUMULATOR } from '../tensor/templates/cpu.ts';
import type { Config } from '../tensor/templates/template.ts';

const repo = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'flexfarm-transfer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const limits = { maxAccumulator: DEFAULT_MAX_ACCUMULATOR };

const conv = (C: number, H: number, K: number) => defineWorkload('conv2d', { N: 1, C, H, W: H, K, R: 1, S: 1 });
const c7 = conv(512, 28, 256), c9 = conv(512, 28, 512), c11 = conv(1024, 14, 512);

const device: DeviceInfo = { kind: 'cpu', name: 'h', model: 'm', cores: 2, memoryBytes: 1, toolchain: 't', limits: {} };
function record(workload: string, target: 'cpu' | 'sim', config: Config, median: number | null): TuningRecord {
  return {
    v: 1, candidateId: `${Math.random()}`, workload, target, config, seconds: median ? [median] : [], median,
    error: median ? null : { code: 'RUNTIME', message: 'crash' }, device, toolchain: 't', at: '',
  };
}

describe('adaptConfig', () => {
  const gemm256 = defineWorkload('gemm', { M: 256, N: 256, K: 256 });
  const source: Config = { 'split.m': [4, 4, 2, 8], 'split.n': [2, 2, 2, 32], 'split.k': [16, 4, 4], reorder: 2, unroll: [512, 1] };

  it('keeps inner factors that fit the new extent and recomputes the outer one', () => {
    const bigger = adaptConfig(source, cpuTemplate.knobs(defineWorkload('gemm', { M: 512, N: 256, K: 1024 })));
    expect(bigger).toEqual({ 'split.m': [8, 4, 2, 8], 'split.n': [2, 2, 2, 32], 'split.k': [64, 4, 4], reorder: 2, unroll: [512, 1] });
    // An odd extent: inner factors that are not allowed there move to the nearest allowed ones;
    // the register tile (level 3) is kept first.
    const odd = adaptConfig(source, cpuTemplate.knobs(defineWorkload('gemm', { M: 100, N: 40, K: 36 })));
    expect((odd['split.m'] as number[]).slice(1)).toEqual([4, 2, 8]);
    expect((odd['split.m'] as number[])[0]).toBe(Math.ceil(100 / 64));
    expect((odd['split.n'] as number[])[3]).toBe(32);
    expect(odd.reorder).toBe(2);
    for (const knob of cpuTemplate.knobs(defineWorkload('gemm', { M: 100, N: 40, K: 36 }))) {
      expect(knob.entities.map((e) => JSON.stringify(e))).toContain(JSON.stringify(odd[knob.name]));
    }
    expect(() => cpuTemplate.check(defineWorkload('gemm', { M: 100, N: 40, K: 36 }), odd, limits)).not.toThrow();
  });

  it('a smaller extent keeps the register tile and shrinks the cache tile', () => {
    const small = adaptConfig(source, cpuTemplate.knobs(defineWorkload('gemm', { M: 16, N: 64, K: 8 })));
    expect(small['split.m']).toEqual([1, 1, 2, 8]);
    expect(small['split.n']).toEqual([1, 1, 2, 32]);
    expect((small['split.k'] as number[])[2]).toBe(4);
    expect(adaptConfig(source, cpuTemplate.knobs(gemm256))).toEqual(source);
  });
});

describe('transfer sources and seeds', () => {
  // Configs that differ only in the unroll entity (index u of the unroll sub-space).
  const cfg = (u: number): Config => ({
    'split.n': [1, 1, 1, 1], 'split.k': [16, 2, 2, 8], 'split.h': [7, 1, 1, 4], 'split.w': [1, 1, 28, 1],
    'split.c': [64, 4, 2], 'split.r': [1, 1, 1], 'split.s': [1, 1, 1], reorder: 1, unroll: cpuTemplate.knobs(c9).find((k) => k.name === 'unroll')!.entities[u],
  });
  const records = [
    record(c11.key, 'cpu', cfg(3), 0.004), // the same config as c7's best: adapted, a duplicate
    record(c7.key, 'cpu', cfg(2), 0.003),
    record(c7.key, 'cpu', cfg(3), 0.002),
    record(c7.key, 'cpu', cfg(5), null),
    record(c9.key, 'cpu', cfg(4), 0.001), // the workload being tuned, same target: resume, not transfer
    record(c9.key, 'sim', cfg(6), 0.0005), // same workload on another target: a source, one step away
    record(defineWorkload('gemm', { M: 64, N: 64, K: 64 }).key, 'cpu', { 'split.m': [1, 1, 1, 64] }, 0.0001),
  ];

  it('orders sources by shape distance, penalising other targets, ignoring other operators', () => {
    const sources = transferSources(records, c9, { target: 'cpu' });
    expect(sources.map((s) => [s.workload, s.target])).toEqual([[c7.key, 'cpu'], [c9.key, 'sim'], [c11.key, 'cpu']]);
    expect(sources[0].distance).toBeCloseTo(Math.log2(513 / 257), 9);
    expect(sources[0].ranked.map((r) => r.median)).toEqual([0.002, 0.003]); // failures are not sources
  });

  it('takes the nearest sources round-robin, deduplicated and valid', () => {
    const seeds = transferSeeds(records, c9, cpuTemplate, limits, { target: 'cpu', count: 10 });
    // Round-robin: c7's best, c9-on-sim's best, c11's best (a duplicate of c7's: dropped), then c7's second.
    expect(seeds.map((s) => [s.from.workload, s.from.seconds])).toEqual([[c7.key, 0.002], [c9.key, 0.0005], [c7.key, 0.003]]);
    expect(new Set(seeds.map((s) => configKey(s.config))).size).toBe(seeds.length);
    for (const s of seeds) expect(() => cpuTemplate.check(c9, s.config, limits)).not.toThrow();
    expect(transferSeeds(records, c9, cpuTemplate, limits, { target: 'cpu', count: 1 })).toHaveLength(1);
    const excluded = transferSeeds(records, c9, cpuTemplate, limits, { target: 'cpu', count: 10, exclude: [seeds[0].config] });
    expect(excluded.map((s) => configKey(s.config))).not.toContain(configKey(seeds[0].config));
  });
});

describe('tune --transfer-from', () => {
  it('measures the adapted seeds first, then the explorer goes on; the seeds start far ahead', async () => {
    const backend = new SimBackend({ seed: 0 });
    const sources = join(dir, 'sources.jsonl');
    for (const def of [c7, c11]) await tune({ def, backend, trials: 80, explorer: 'flextensor', seed: 1, recordsPath: sources, outDir: join(dir, 'o') });

    const bestAfter = (path: string, n: number) => Math.min(...RecordLog.open(path).select(c9.key, 'sim').slice(0, n).map((r) => r.median ?? Infinity));
    for (const seed of [1, 2, 3]) {
      const plain = join(dir, `plain-${seed}.jsonl`), seeded = join(dir, `seeded-${seed}.jsonl`);
      await tune({ def: c9, backend, trials: 30, explorer: 'flextensor', seed, recordsPath: plain, outDir: join(dir, 'o') });
      const outcome = await tune({
        def: c9, backend, trials: 30, explorer: 'flextensor', seed, recordsPath: seeded, outDir: join(dir, 'o'),
        transferFrom: sources, transferSeeds: 4,
      });
      expect(outcome.transferred).toBe(4);
      expect(outcome.trials).toBe(30);
      const lines = RecordLog.open(seeded).select(c9.key, 'sim');
      expect(lines.slice(0, 4).map((r) => r.explorer)).toEqual(['transfer', 'transfer', 'transfer', 'transfer']);
      expect(lines.slice(4).every((r) => r.explorer === 'flextensor')).toBe(true);
      expect(new Set(lines.map((r) => configKey(r.config))).size).toBe(lines.length); // no point measured twice
      // After the 4 seeds, the seeded run is ahead of the plain run after the same 4 measurements.
      expect(bestAfter(seeded, 4)).toBeLessThan(bestAfter(plain, 4));
    }
  });

  it('a missing transfer log is a clear error before anything is measured', () => {
    const records = join(dir, 'never.jsonl');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/flexfarm.ts', 'tune', 'gemm', '--shape', 'M=8,N=8,K=8',
      '--target', 'sim', '--trials', '3', '--records', records, '--out', join(dir, 'o2'), '--transfer-from', join(dir, 'absent.jsonl')],
    { cwd: repo, encoding: 'utf8', env: { ...process.env, FLEXFARM_CACHE: join(dir, 'cache') } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/absent\.jsonl' does not exist/);
    expect(r.stdout).toBe('');
    expect(existsSync(records)).toBe(false);
  });

  it('a log without a neighbour warns and tunes without seeds', async () => {
    const warnings: string[] = [];
    const empty = join(dir, 'other-op.jsonl');
    RecordLog.open(empty).append(record(defineWorkload('gemv', { M: 8, K: 8 }).key, 'sim', { 'split.m': [8, 1, 1, 1] }, 0.001) as MeasureResult);
    const outcome = await tune({
      def: defineWorkload('gemm', { M: 8, N: 8, K: 8 }), backend: new SimBackend(), trials: 3, recordsPath: join(dir, 'g.jsonl'),
      outDir: join(dir, 'o3'), transferFrom: empty, warn: (m) => warnings.push(m),
    });
    expect(outcome.transferred).toBeUndefined();
    expect(outcome.trials).toBe(3);
    expect(warnings.join('\n')).toMatch(/no valid measurement of another gemm shape or device to transfer from/);
  });
});
