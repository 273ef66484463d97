// Regressions of what fuzzing the input surfaces found (issue 15, item 6): each failed before its
// fix. Shape strings: a parameter named like an Object member was "given twice" or lost, keys took
// `1e3` and duplicates, and errors echoed 100 KB inputs whole. Configs: `null` crashed the CPU
// template with a TypeError. The log reader: a line of an unknown type echoed it whole.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { createBackend } from '../../agent/backends/index.ts';
import { parseInteger, parseShape } from '../../cli/args.ts';
import { RecordLog } from '../../coordinator/records.ts';
import { InstantiationError } from '../../tensor/errors.ts';
import { defineFromKey, defineWorkload } from '../../tensor/ops/registry.ts';

const LONG = 'x'.repeat(100_000);
const messageOf = (fn: () => unknown): string => {
  try { fn(); } catch (err) { return (err as Error).message; }
  throw new Error('accepted');
};

test('shape parameters named like Object members are unknown parameters, not duplicates or lost', () => {
  expect(messageOf(() => defineWorkload('gemm', parseShape('M=4,N=4,K=4,constructor=3')))).toMatch(/parameter constructor: unknown parameter/);
  expect(messageOf(() => defineWorkload('gemm', parseShape('M=4,N=4,K=4,__proto__=3')))).toMatch(/parameter __proto__: unknown parameter/);
  expect(messageOf(() => defineWorkload('gemm', parseShape('toString=1,M=4,N=4,K=4')))).toMatch(/parameter toString: unknown parameter/);
});

test('workload keys take integers only, each parameter once', () => {
  expect(messageOf(() => defineFromKey('gemm(M=1e3,N=4,K=4,dtype=float32)'))).toMatch(/parameter M: must be an integer, got '1e3'/);
  expect(messageOf(() => defineFromKey('gemm(M=4,M=5,N=4,K=4,dtype=float32)'))).toMatch(/parameter M: given twice/);
  expect(messageOf(() => defineFromKey('gemm(constructor=4,M=4,N=4,K=4,dtype=float32)'))).toMatch(/unknown parameter/);
  expect(defineFromKey('gemm(M=4,N=5,K=6,dtype=float32)').key).toBe('gemm(M=4,N=5,K=6,dtype=float32)');
});

test('errors quote a bounded prefix of a 100 KB shape, key, operator or flag value', () => {
  for (const fn of [
    () => parseShape(LONG), () => defineFromKey(LONG), () => defineFromKey(`gemm(${LONG}=1)`), () => defineWorkload(LONG, {}),
    () => defineWorkload('gemm', { [LONG]: 1 }), () => parseInteger('--trials', LONG, 1),
  ]) {
    const message = messageOf(fn);
    expect(message.length).toBeLessThan(400);
    expect(message).toContain('(100000 characters)');
  }
});

test('a config that is not an object is an INSTANTIATION error on every template, not a TypeError', () => {
  const def = defineWorkload('conv1d', { N: 1, C: 5, L: 31, K: 7, R: 5 });
  for (const kind of ['cpu', 'sim', 'gpu', 'fpga']) {
    const backend = createBackend(kind, { cacheDir: '/nonexistent', renderOnly: true });
    for (const config of [null, 5, 'x', [1]]) {
      expect(() => backend.template.check(def, config as never, backend.limits), `${kind} ${JSON.stringify(config)}`).toThrow(InstantiationError);
    }
    expect(messageOf(() => backend.template.check(def, { [LONG]: 1 } as never, backend.limits)).length).toBeLessThan(1_000);
  }
});

test('a log line of an unknown type is named by a bounded prefix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flexfarm-found-'));
  try {
    const path = join(dir, 'r.jsonl');
    writeFileSync(path, `${JSON.stringify({ v: 1, type: LONG })}\n`);
    const warnings: string[] = [];
    RecordLog.open(path, { warn: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/r\.jsonl:1: line of unknown type/);
    expect(warnings[0].length).toBeLessThan(400);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a report that cannot be written names its file and why, not a raw EISDIR', async () => {
  const { writeReport } = await import('../../coordinator/report/write-report.ts');
  const dir = mkdtempSync(join(tmpdir(), 'flexfarm-found-'));
  try {
    const path = join(dir, 'r.jsonl');
    writeFileSync(path, '');
    expect(() => writeReport({ recordsPaths: [path], outFile: dir })).toThrow(new RegExp(`cannot write the report to ${dir}: it is a directory`));
    writeFileSync(join(dir, 'f'), '');
    expect(() => writeReport({ recordsPaths: [path], outFile: join(dir, 'f', 'x.html') })).toThrow(/a part of its path is a file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('best without --records where out is a file is a usage error, not a raw ENOTDIR', async () => {
  const { run } = await import('../../cli/commands/best.ts');
  const dir = mkdtempSync(join(tmpdir(), 'flexfarm-found-'));
  const cwd = process.cwd();
  try {
    process.chdir(dir);
    writeFileSync('out', '');
    await expect(run([])).rejects.toThrow(/no --records given and no out\/\*\/records\.jsonl here/);
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});
