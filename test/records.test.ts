// The tuning log: append-only JSONL that survives reopening, a torn last line and a newer format.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MeasureResult } from '../contracts/result.ts';
import { bestRecord, RECORD_FORMAT_VERSION, RecordFormatError, RecordLog } from '../coordinator/records.ts';

const WORKLOAD = 'gemm(M=64,N=48,K=40,dtype=float32)';

function result(id: number, seconds: number[] | null, workload = WORKLOAD): MeasureResult {
  const sorted = seconds ? [...seconds].sort((a, b) => a - b) : [];
  return {
    candidateId: `c${id}`, workload, target: 'cpu',
    config: { 'split.m': [1, 2, 4, 8], reorder: id % 3, unroll: [512, 1] },
    seconds: seconds ?? [], median: seconds ? sorted[sorted.length >> 1] : null,
    error: seconds ? null : { code: 'WRONG_ANSWER', message: 'output element 3 is 1, reference 2' },
    device: { kind: 'cpu', name: 'host', model: 'test CPU', cores: 2, memoryBytes: 1 << 30, toolchain: 'gcc', limits: {} },
    toolchain: 'gcc', at: new Date(1_700_000_000_000 + id).toISOString(),
  };
}

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-records-'));
  path = join(dir, 'nested', 'records.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function openCollecting(): { log: RecordLog; warnings: string[] } {
  const warnings: string[] = [];
  return { log: RecordLog.open(path, { warn: (m) => warnings.push(m) }), warnings };
}

describe('RecordLog', () => {
  it('appends one line per measurement and reads them back after reopening', () => {
    const log = RecordLog.open(path);
    expect(log.all()).toEqual([]);
    const written = [result(0, [0.003, 0.002, 0.004]), result(1, null), result(2, [0.001])];
    written.forEach((r) => log.append(r, { explorer: 'random' }));

    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('');
    expect(JSON.parse(lines[1])).toMatchObject({ v: RECORD_FORMAT_VERSION, candidateId: 'c1', explorer: 'random' });

    const { log: reopened, warnings } = openCollecting();
    expect(warnings).toEqual([]);
    expect(reopened.all()).toEqual(written.map((r) => ({ v: RECORD_FORMAT_VERSION, ...r, explorer: 'random' })));
    // Appending after reopening keeps every earlier line.
    reopened.append(result(3, [0.005]));
    expect(RecordLog.open(path).all().map((r) => r.candidateId)).toEqual(['c0', 'c1', 'c2', 'c3']);
  });

  it('selects the records of one workload and target', () => {
    const log = RecordLog.open(path);
    log.append(result(0, [0.1]));
    log.append(result(1, [0.1], 'gemv(M=8,K=8,dtype=float32)'));
    log.append({ ...result(2, [0.1]), target: 'sim', simulated: true });
    expect(log.select(WORKLOAD, 'cpu').map((r) => r.candidateId)).toEqual(['c0']);
    expect(log.select(WORKLOAD, 'sim').map((r) => r.candidateId)).toEqual(['c2']);
  });

  it('skips a torn last line with a warning, keeps earlier lines, and starts the next append on a new line', () => {
    const log = RecordLog.open(path);
    log.append(result(0, [0.002]));
    log.append(result(1, [0.001]));
    const full = JSON.stringify({ v: RECORD_FORMAT_VERSION, ...result(2, [0.0005]) });
    appendFileSync(path, full.slice(0, full.length >> 1)); // a crash in the middle of a write

    const { log: reopened, warnings } = openCollecting();
    expect(reopened.all().map((r) => r.candidateId)).toEqual(['c0', 'c1']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/records\.jsonl:3: torn last line/);

    reopened.append(result(3, [0.003]));
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toHaveLength(5); // c0, c1, torn, c3, ''
    expect(JSON.parse(lines[3]).candidateId).toBe('c3');

    // The torn line stays where it was (nothing recorded is rewritten); it is now a middle line.
    const { log: again, warnings: second } = openCollecting();
    expect(again.all().map((r) => r.candidateId)).toEqual(['c0', 'c1', 'c3']);
    expect(second).toHaveLength(1);
    expect(second[0]).toMatch(/:3: unreadable line/);
  });

  it('refuses a log written by a newer format, naming the version', () => {
    RecordLog.open(path).append(result(0, [0.002]));
    appendFileSync(path, `${JSON.stringify({ ...result(1, [0.001]), v: RECORD_FORMAT_VERSION + 1 })}\n`);
    const open = () => RecordLog.open(path, { warn: () => {} });
    expect(open).toThrow(RecordFormatError);
    expect(open).toThrow(new RegExp(`format v${RECORD_FORMAT_VERSION + 1} is newer.*v${RECORD_FORMAT_VERSION}`));
    // The log itself is left untouched.
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(3);
  });

  it('skips a line without a format version with a warning', () => {
    path = join(dir, 'plain.jsonl');
    writeFileSync(path, `${JSON.stringify(result(0, [0.1]))}\n${JSON.stringify({ v: 1, ...result(1, [0.2]) })}\n`);
    const { log, warnings } = openCollecting();
    expect(log.all().map((r) => r.candidateId)).toEqual(['c1']);
    expect(warnings[0]).toMatch(/:1: line without a format version/);
  });
});

describe('re-measurement lines', () => {
  it('round-trip: a remeasure line is read back as written, apart from the search measurements', () => {
    const log = RecordLog.open(path);
    const search = log.append({ ...result(0, [0.002, 0.0021, 0.0022]), spread: { min: 0.002, median: 0.0021, max: 0.0022, cv: 0.048 }, loadAverage: 0.5 }, { explorer: 'model' });
    const again = { ...result(7, [0.0024, 0.0025, 0.0026]), campaign: 'cx', loadAverage: 1.25, spread: { min: 0.0024, median: 0.0025, max: 0.0026, cv: 0.04 } };
    const written = log.appendRemeasure(again, { round: 2, of: search.candidateId });
    expect(written).toMatchObject({ v: RECORD_FORMAT_VERSION, type: 'remeasure', round: 2, of: 'c0' });
    const line = JSON.parse(readFileSync(path, 'utf8').trim().split('\n')[1]);
    expect(line.type).toBe('remeasure');

    const { log: reopened, warnings } = openCollecting();
    expect(warnings).toEqual([]);
    expect(reopened.remeasures()).toEqual([written]);
    expect(reopened.all()).toEqual([search]);
    expect(reopened.select(WORKLOAD, 'cpu').map((r) => r.candidateId)).toEqual(['c0']);
  });

  it('old logs still load: lines written before spreads, load averages and remeasure lines existed', () => {
    // Verbatim lines of a log written by flexfarm before issue 16 (no spread, loadAverage, remeasure).
    writeFileSync(path.replace('nested/', ''), [
      '{"v":1,"candidateId":"c1a2b/cpu/0","campaign":"c1a2b","workload":"gemm(M=64,N=48,K=40,dtype=float32)","target":"cpu","config":{"split.m":[1,2,4,8],"reorder":0,"unroll":[512,1]},"device":{"kind":"cpu","name":"host","model":"test CPU","cores":2,"memoryBytes":1073741824,"toolchain":"gcc","limits":{}},"toolchain":"gcc","seconds":[0.003,0.002,0.004],"median":0.003,"number":10,"error":null,"at":"2026-11-01T00:00:00.000Z","explorer":"model"}',
      '{"v":1,"type":"reference","workload":"gemm(M=64,N=48,K=40,dtype=float32)","target":"cpu","device":{"kind":"cpu","name":"host","model":"test CPU","cores":2,"memoryBytes":1073741824,"toolchain":"gcc","limits":{}},"toolchain":"gcc","median":0.05,"at":"2026-11-01T00:00:01.000Z"}',
      '',
    ].join('\n'));
    const warnings: string[] = [];
    const log = RecordLog.open(path.replace('nested/', ''), { warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    expect(log.all()).toHaveLength(1);
    expect(log.all()[0].spread).toBeUndefined();
    expect(log.references()).toHaveLength(1);
    expect(log.remeasures()).toEqual([]);
    expect(bestRecord(log.all())?.median).toBe(0.003);
  });
});

describe('bestRecord', () => {
  it('picks the valid record with the smallest median, ignoring failures', () => {
    const records = [result(0, [0.004, 0.003, 0.005]), result(1, null), result(2, [0.001, 0.009, 0.002]), result(3, [0.0025])];
    expect(bestRecord(records)?.candidateId).toBe('c2');
  });

  it('ignores a failed record even when it carries a smaller figure', () => {
    const failed = { ...result(1, [0.0001]), error: { code: 'WRONG_ANSWER' as const, message: 'wrong' } };
    expect(bestRecord([result(0, [0.01]), failed])?.candidateId).toBe('c0');
  });

  it('returns null when nothing is valid', () => {
    expect(bestRecord([result(0, null), result(1, null)])).toBeNull();
    expect(bestRecord([])).toBeNull();
  });
});
