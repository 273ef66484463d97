// The tuning log's crash safety and the best-measurement queries: `flexfarm best`, bestConfig
// through the package's own name ('flexfarm'), torn and newer-format logs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bestConfig } from 'flexfarm';
import type { DeviceInfo, MeasureResult } from '../contracts/result.ts';
import { bestPerWorkloadDevice, RecordsNotFoundError } from '../coordinator/best.ts';
import { RecordFormatError, RecordLog } from '../coordinator/records.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';

const repo = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'flexfarm-best-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const gemm = defineWorkload('gemm', { M: 64, N: 64, K: 64 });
const gemm2 = defineWorkload('gemm', { M: 32, N: 64, K: 16 });

function device(name: string, model: string): DeviceInfo {
  return { kind: 'cpu', name, model, cores: 2, memoryBytes: 1 << 30, toolchain: 'gcc 12 -O3', limits: {} };
}
const hostA = device('host-a', 'CPU A'), hostB = device('host-b', 'CPU B');

let counter = 0;
function result(workload: string, dev: DeviceInfo, median: number | null, mTile: number, error: MeasureResult['error'] = null): MeasureResult {
  return {
    candidateId: `c${counter++}`, workload, target: 'cpu',
    config: { 'split.m': [64 / mTile, 1, 1, mTile], 'split.n': [1, 1, 1, 64], 'split.k': [64, 1, 1], reorder: 1, unroll: [0, 0] },
    seconds: median === null ? [] : [median, median], median, error, device: dev, toolchain: dev.toolchain, at: new Date(0).toISOString(),
  };
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/flexfarm.ts', ...args], {
    cwd: repo, encoding: 'utf8', env: { ...process.env, FLEXFARM_CACHE: join(dir, 'cache') },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the tuning log', () => {
  it('loads every complete line of a log truncated mid-line, warns, and appends after it', () => {
    const path = join(dir, 'torn.jsonl');
    const log = RecordLog.open(path);
    for (let i = 0; i < 5; i++) log.append(result(gemm.key, hostA, 0.001 * (i + 1), 2 ** i), { explorer: 'random' });
    const full = readFileSync(path, 'utf8');
    const lastLineStart = full.trimEnd().lastIndexOf('\n') + 1;
    truncateSync(path, lastLineStart + 20); // a crash in the middle of the fifth line

    const warnings: string[] = [];
    const reopened = RecordLog.open(path, { warn: (m) => warnings.push(m) });
    expect(reopened.all().map((r) => r.median)).toEqual([0.001, 0.002, 0.003, 0.004]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/:5: torn last line/);

    reopened.append(result(gemm.key, hostA, 0.0005, 8));
    const again = RecordLog.open(path, { warn: () => {} });
    expect(again.all().map((r) => r.median)).toEqual([0.001, 0.002, 0.003, 0.004, 0.0005]);
  });

  it('refuses a log written by a newer format, naming the line and the versions', () => {
    const path = join(dir, 'newer.jsonl');
    writeFileSync(path, `${JSON.stringify({ v: 1, ...result(gemm.key, hostA, 0.001, 1) })}\n${JSON.stringify({ v: 99, workload: gemm.key })}\n`);
    expect(() => RecordLog.open(path)).toThrow(RecordFormatError);
    expect(() => RecordLog.open(path)).toThrow(/newer\.jsonl:2: tuning log format v99 is newer than this flexfarm reads \(v1\)/);
  });

  it('keeps reference-timing lines apart from measurements', () => {
    const path = join(dir, 'refs.jsonl');
    const log = RecordLog.open(path);
    log.append(result(gemm.key, hostA, 0.002, 4));
    log.appendReference({ workload: gemm.key, target: 'cpu', device: hostA, toolchain: hostA.toolchain, median: 0.02 });
    const reopened = RecordLog.open(path);
    expect(reopened.all()).toHaveLength(1);
    expect(reopened.references().map((r) => r.median)).toEqual([0.02]);
    const [entry] = bestPerWorkloadDevice(reopened.all(), reopened.references());
    expect(entry.speedup).toBeCloseTo(10, 9);
  });
});

describe('best', () => {
  const path = join(dir, 'mixed.jsonl');
  const log = RecordLog.open(path);
  // Host A: the fastest line is a wrong answer (its timing must not count), then 3 valid.
  log.append(result(gemm.key, hostA, 0.0001, 1, { code: 'WRONG_ANSWER', message: 'element 3 is 7, reference 8' }));
  log.append(result(gemm.key, hostA, 0.004, 2));
  log.append(result(gemm.key, hostA, 0.002, 4));
  log.append(result(gemm.key, hostA, null, 16, { code: 'COMPILE', message: 'error' }));
  log.append(result(gemm.key, hostA, 0.003, 8));
  // Host B: faster than A on the same workload.
  log.append(result(gemm.key, hostB, 0.0015, 32));
  log.append(result(gemm.key, hostB, 0.0025, 2));
  // Another shape, only on host A.
  log.append(result(gemm2.key, hostA, 0.0009, 2));

  it('picks the fastest valid measurement per workload and device', () => {
    const entries = bestPerWorkloadDevice(log.all());
    const summary = entries.map((e) => [e.workload, e.device.name, e.seconds, (e.config['split.m'] as number[])[3], e.valid, e.measurements]);
    expect(summary).toEqual([
      [gemm2.key, 'host-a', 0.0009, 2, 1, 1],
      [gemm.key, 'host-b', 0.0015, 32, 2, 2],
      [gemm.key, 'host-a', 0.002, 4, 3, 5],
    ]);
    expect(entries[1].gflops).toBeCloseTo(gemm.flops / 0.0015 / 1e9, 6);
  });

  it('`flexfarm best --json` reports the same, filtered by workload key and target', () => {
    const r = cli(['best', '--records', path, '--workload', 'gemm(M=64,N=64,K=64)', '--target', 'cpu', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { workload: string; device: { name: string }; seconds: number; gflops: number; config: Record<string, number[]> }[];
    expect(out.map((e) => [e.device.name, e.seconds])).toEqual([['host-b', 0.0015], ['host-a', 0.002]]);
    expect(out[0].gflops).toBeCloseTo(gemm.flops / 0.0015 / 1e9, 6);
    expect(out[0].config['split.m']).toEqual([2, 1, 1, 32]);
  });

  it('`flexfarm best` prints a readable summary; no match is exit 1 with the reason', () => {
    const text = cli(['best', '--records', path, '--workload', 'gemm']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(gemm.key);
    expect(text.stdout).toMatch(/1\.500 ms median, [\d.]+ GFLOP\/s \(best of 2 valid \/ 2 measured\)/);
    const none = cli(['best', '--records', path, '--workload', 'conv2d']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no valid measurement .* matches --workload conv2d/);
    expect(none.stdout).toBe('');
  });

  it('bad input names what is wrong', () => {
    const missing = cli(['best', '--records', join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/tuning log '.*nope\.jsonl' does not exist/);
    const badOp = cli(['best', '--records', path, '--workload', 'gemmm']);
    expect(badOp.code).toBe(1);
    expect(badOp.stderr).toMatch(/gemmm/);
    const badTarget = cli(['best', '--records', path, '--target', 'tpu']);
    expect(badTarget.code).toBe(2);
    expect(badTarget.stderr).toMatch(/--target: 'tpu' is not one of/);
  });

  it("bestConfig from 'flexfarm' returns the best config of a target, or null", () => {
    expect(bestConfig(path, 'gemm(M=64,N=64,K=64)', 'cpu')).toEqual(log.all()[5].config);
    expect(bestConfig(path, gemm2.key, 'cpu')).toEqual(log.all()[7].config);
    expect(bestConfig(path, gemm.key, 'sim')).toBeNull();
    expect(bestConfig(path, 'gemm(M=1,N=1,K=1)', 'cpu')).toBeNull();
    expect(() => bestConfig(join(dir, 'absent.jsonl'), gemm.key, 'cpu')).toThrow(RecordsNotFoundError);
    expect(() => bestConfig(path, 'gemm(M=64)', 'cpu')).toThrow(/N/);
  });
});
