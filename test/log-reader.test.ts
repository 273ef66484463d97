// Acceptance (issue 15): the tuning log's reader checks each line's shape. A line `null`, a line
// without `workload`, a line with `config: null` used to make `best`, `report` and `tune --records`
// fail ("reading 'v'", "reading 'split'") with no line number; now they are skipped, naming file and
// line. A log that cannot be appended to makes `tune` fail at once with a message naming why
// (it used to hang forever, or print a raw EISDIR).
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cli } from './farm/farm-processes.ts';

let dir: string;
let log: string;
const tuneArgs = (records: string, trials = 4) => ['tune', 'gemm', '--shape', 'M=16,N=16,K=16', '--target', 'sim', '--trials', String(trials),
  '--remeasure', '0', '--records', records, '--out', join(dir, 'out'), '--json'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-log-reader-'));
  log = join(dir, 'records.jsonl');
  const first = await cli(tuneArgs(log));
  expect(first.code, first.stderr).toBe(0);
  // a search line (tune also logs the yardstick's reference and library lines, with a `type`)
  const line = readFileSync(log, 'utf8').split('\n').find((l) => l && !('type' in (JSON.parse(l) as object)))!;
  const { workload: _w, ...noWorkload } = JSON.parse(line) as Record<string, unknown>;
  appendFileSync(log, ['null', JSON.stringify(noWorkload), JSON.stringify({ ...JSON.parse(line), config: null }),
    JSON.stringify({ ...JSON.parse(line), device: null, candidateId: 'other' }), '[1,2]'].map((l) => `${l}\n`).join(''));
});

afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

const lineCount = () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length;

test('best, report and a resumed tune skip bad lines and name file and line', async () => {
  const good = lineCount() - 5;
  const best = await cli(['best', '--records', log, '--json']);
  expect(best.code, best.stderr).toBe(0);
  expect((JSON.parse(best.stdout) as unknown[]).length).toBe(1);
  for (const n of [good + 1, good + 2, good + 3, good + 4, good + 5]) expect(best.stderr).toContain(`${log}:${n}:`);
  expect(best.stderr).toMatch(/:\d+: line skipped: workload: must be a string, got an object|workload: must be a string/);
  expect(best.stderr).toMatch(/line skipped: config: must be an object, got null/);
  const report = await cli(['report', '--records', log, '--out', join(dir, 'report.html')]);
  expect(report.code, report.stderr).toBe(0);
  const resumed = await cli(tuneArgs(log, 6));
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(resumed.stderr).toContain(`${log}:${good + 3}: line skipped: config`);
  expect(lineCount()).toBeGreaterThan(good + 5);
});

test('tune fails fast naming why when its log cannot be appended to', async () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const folder = join(dir, 'a-folder');
  mkdirSync(folder);
  const cases: [string, RegExp][] = [
    [join(file, 'r.jsonl'), /cannot append to the tuning log .*a-file\/r\.jsonl: a part of its path is a file/],
    [folder, /the tuning log .*a-folder is a directory/],
    ['/proc/version', /cannot append to the tuning log \/proc\/version/],
  ];
  for (const [records, message] of cases) {
    const started = Date.now();
    const r = await cli(tuneArgs(records), { timeoutMs: 30_000 });
    expect(r.code, records).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(Date.now() - started).toBeLessThan(20_000);
  }
});
