// The tuning log's reader: files of well-formed lines mixed with mutated ones, other JSON, torn
// lines and raw bytes. Every well-formed line is loaded (nothing recorded before is lost), every
// skipped line is named by file and line, a newer format is refused clearly, and `best`, the
// report and an append work on whatever was loaded, leaving the earlier bytes as they were.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { bestPerWorkloadDevice } from '../../../coordinator/best.ts';
import { RecordFormatError, RecordLog } from '../../../coordinator/records.ts';
import { buildReportData } from '../../../coordinator/report/report-data.ts';
import { renderReport } from '../../../coordinator/report/render-html.ts';
import { absurdString, isClearError, jsonText, mutated } from '../absurd.ts';
import { checkProperty, type FuzzSurface } from '../fuzz-run.ts';

const device = { kind: 'sim', name: 'h', model: 'm', cores: 2, memoryBytes: 1e9, toolchain: 't', limits: {} };
const measurement = {
  v: 1, candidateId: 'c1/sim/0', campaign: 'c1', workload: 'gemm(M=16,N=16,K=16,dtype=float32)', target: 'sim',
  config: { 'split.m': [1, 2, 2, 4], reorder: 1 }, seconds: [1e-3, 2e-3], median: 1.5e-3, error: null, device, toolchain: 't',
  at: '2026-12-03T00:00:00.000Z', explorer: 'random',
};
const reference = { v: 1, type: 'reference', workload: measurement.workload, target: 'sim', device, toolchain: 't', median: 4e-3, at: measurement.at };
const remeasure = { ...measurement, type: 'remeasure', round: 0, of: 'c1/sim/0', candidateId: 'c1/sim/r0' };

type Line = { good: true; text: string; id: string } | { good: false; text: string };

const good: fc.Arbitrary<Line> = fc.tuple(fc.constantFrom(measurement, remeasure, reference), fc.nat({ max: 1e6 }), fc.double({ min: 1e-6, max: 1, noNaN: true }))
  .map(([base, n, s]) => {
    const id = `c1/sim/${n}`;
    const line = 'candidateId' in base ? { ...base, candidateId: id, seconds: [s], median: s } : { ...base, workload: `gemm(M=${n + 1},N=16,K=16,dtype=float32)` };
    return { good: true, text: JSON.stringify(line), id: 'candidateId' in base ? id : `reference:${line.workload}` };
  });
const bad: fc.Arbitrary<Line> = fc.oneof(
  mutated(measurement).map((m) => JSON.stringify(m)),
  jsonText(reference),
  fc.constantFrom('null', '[1,2]', '{}', '"x"', '{"v":"1"}', '{"v":1}', '{"v":1,"type":"remeasure"}', '{"v":1,"type":"other"}', '{"v":null}'),
  absurdString.map((s) => s.replace(/\n/g, ' ')),
).map((text) => ({ good: false as const, text: text.replace(/\n/g, ' ') }));

const file = fc.record({
  lines: fc.array(fc.oneof({ weight: 3, arbitrary: good }, { weight: 2, arbitrary: bad }), { maxLength: 30 }),
  torn: fc.option(fc.nat({ max: 200 }).map((n) => JSON.stringify(measurement).slice(0, n)), { freq: 3 }),
  crlf: fc.boolean(),
});

let dir: string | undefined;

function check(input: { lines: Line[]; torn: string | null; crlf: boolean }): void {
  dir ??= mkdtempSync(join(tmpdir(), 'flexfarm-fuzz-log-'));
  const path = join(dir, 'records.jsonl');
  const eol = input.crlf ? '\r\n' : '\n';
  const text = input.lines.map((l) => l.text + eol).join('') + (input.torn ?? '');
  writeFileSync(path, text);
  const warnings: string[] = [];
  let log: RecordLog;
  try {
    log = RecordLog.open(path, { warn: (m) => warnings.push(m) });
  } catch (err) {
    if (err instanceof RecordFormatError && /newer than this flexfarm reads/.test(err.message)) return;
    throw new Error(`opening the log failed: ${(err as Error).name}: ${(err as Error).message.slice(0, 300)}`, { cause: err });
  }
  for (const w of warnings) {
    if (!w.startsWith(`${path}:`) || !/^.*:\d+: /.test(w)) throw new Error(`a warning does not name file and line: ${w.slice(0, 200)}`);
    if (w.length > 2_000) throw new Error(`a warning of ${w.length} characters`);
  }
  const loaded = new Set([...log.all(), ...log.remeasures()].map((r) => r.candidateId).concat(log.references().map((r) => `reference:${r.workload}`)));
  for (const l of input.lines) if (l.good && !loaded.has(l.id)) throw new Error(`a well-formed line was lost: ${l.text.slice(0, 200)}`);
  try {
    bestPerWorkloadDevice(log.all(), log.references(), {}, log.remeasures());
    renderReport(buildReportData([{ path, records: log.all(), references: log.references(), remeasures: log.remeasures() }]), { generatedAt: 'now' });
  } catch (err) {
    if (!isClearError(err)) throw new Error(`best or report failed on what the reader loaded: ${(err as Error).name}: ${(err as Error).message.slice(0, 300)}`, { cause: err });
  }
  const before = readFileSync(path);
  const measured = log.all().length;
  log.append({ ...measurement, candidateId: 'c1/sim/appended', seconds: [1e-3], median: 1e-3 } as never);
  const after = readFileSync(path);
  if (!after.subarray(0, before.length).equals(before)) throw new Error('appending changed what was recorded before');
  const reread = RecordLog.open(path, { warn: () => {} });
  if (!reread.all().some((r) => r.candidateId === 'c1/sim/appended')) throw new Error('the appended line does not read back');
  if (reread.all().length !== measured + 1) throw new Error(`re-reading found ${reread.all().length} measurements, expected ${measured + 1}`);
}

export const logReaderSurface: FuzzSurface = {
  name: 'log reader',
  run: async (runs, options) => {
    try {
      return await checkProperty('log reader', file, check, runs, options);
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    }
  },
};
