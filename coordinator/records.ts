// The tuning log: append-only JSONL, one measurement per line, each line carrying the format
// version. Appends are one write each; a torn last line (a crash mid-write) is skipped with a
// warning and never costs an earlier line; a log written by a newer format is refused.
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { FlexfarmError } from '../contracts/errors.ts';
import type { DeviceInfo, MeasureResult, TargetKind } from '../contracts/result.ts';
import { quote } from '../contracts/messages/limits.ts';
import { checkRecordLine } from './record-line.ts';

export const RECORD_FORMAT_VERSION = 1;

/** One line of the log: a MeasureResult plus who proposed it. */
export interface TuningRecord extends MeasureResult {
  /** Format version of this line. */
  v: number;
  /** Search method that proposed the config, when known. */
  explorer?: string;
}

/** A line with `type: "reference"`: the unscheduled reference kernel's timing on a device,
 *  written once per tuning run so that reports can show speedups. Never a search result. */
export interface ReferenceRecord {
  v: number;
  type: 'reference';
  workload: string;
  target: TargetKind;
  device: DeviceInfo;
  toolchain: string;
  /** Median seconds of one run of the unscheduled reference kernel. */
  median: number;
  simulated?: boolean;
  at: string;
}

/** A line with `type: "library"`: the vendor library's timing at a workload's shape on a device
 *  (an agent times it once per workload it serves: contracts/yardstick.ts). Never a search result. */
export interface LibraryRecord {
  v: number;
  type: 'library';
  workload: string;
  target: TargetKind;
  device: DeviceInfo;
  /** The library's name, e.g. "oneDNN". */
  library: string;
  /** Median seconds of one run of the library's kernel. */
  median: number;
  simulated?: boolean;
  at: string;
}

/** A line with `type: "remeasure"`: a config of the search's top k measured again, in a fresh
 *  process, after the search (coordinator/remeasure/). Never a search result: explorers never see
 *  it, and the measurement line it re-measures stays as it was. */
export interface RemeasureRecord extends MeasureResult {
  v: number;
  type: 'remeasure';
  /** Round of the re-measurement, from 0: each round measures every re-measured config once. */
  round: number;
  /** Candidate id of the search measurement whose config this re-measures. */
  of: string;
}

export class RecordFormatError extends FlexfarmError {
  override name = 'RecordFormatError';
  readonly code = 'RECORD_FORMAT';
}

/** The log cannot be read or opened for appending (a directory, a file in its path, a read-only file). */
export class RecordLogPathError extends FlexfarmError {
  override name = 'RecordLogPathError';
  readonly code = 'RECORD_LOG_PATH';
}

export interface RecordLogOptions {
  /** Called for each line that cannot be read (torn last line, corrupt line). */
  warn?: (message: string) => void;
}

export class RecordLog {
  private readonly records: TuningRecord[] = [];
  private readonly referenceRecords: ReferenceRecord[] = [];
  private readonly remeasureRecords: RemeasureRecord[] = [];
  private readonly libraryRecords: LibraryRecord[] = [];
  /** The file does not end in a newline (torn last line): the next append starts a new line. */
  private needsNewline = false;

  private constructor(readonly path: string) {}

  /** Open (or create on first append) the log at `path`, loading every complete line. */
  static open(path: string, options: RecordLogOptions = {}): RecordLog {
    const log = new RecordLog(path);
    if (existsSync(path) && statSync(path).isDirectory()) throw new RecordLogPathError(`the tuning log ${path} is a directory, not a file`);
    if (existsSync(path)) log.load(options.warn ?? ((m) => process.stderr.write(`warning: ${m}\n`)));
    return log;
  }

  private load(warn: (message: string) => void): void {
    const text = readFileSync(this.path, 'utf8');
    const lines = text.split('\n');
    this.needsNewline = text.length > 0 && !text.endsWith('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      const last = i === lines.length - 1;
      let record: TuningRecord;
      try {
        record = JSON.parse(line) as TuningRecord;
      } catch {
        warn(`${this.path}:${i + 1}: ${last ? 'torn last line (interrupted write)' : 'unreadable line'} skipped`);
        return;
      }
      if (typeof record !== 'object' || record === null || Array.isArray(record)) {
        warn(`${this.path}:${i + 1}: line is not a JSON object (${line.slice(0, 40)}) skipped`);
        return;
      }
      if (typeof record.v !== 'number') {
        warn(`${this.path}:${i + 1}: line without a format version skipped`);
        return;
      }
      if (record.v > RECORD_FORMAT_VERSION) {
        throw new RecordFormatError(`${this.path}:${i + 1}: tuning log format v${record.v} is newer than this flexfarm reads (v${RECORD_FORMAT_VERSION}); upgrade flexfarm`);
      }
      const type = (record as { type?: unknown }).type;
      if (type === undefined || type === 'reference' || type === 'remeasure' || type === 'library') {
        try {
          checkRecordLine(record);
        } catch (err) {
          warn(`${this.path}:${i + 1}: line skipped: ${(err as Error).message}`);
          return;
        }
      }
      if (type === 'reference') this.referenceRecords.push(record as unknown as ReferenceRecord);
      else if (type === 'remeasure') this.remeasureRecords.push(record as unknown as RemeasureRecord);
      else if (type === 'library') this.libraryRecords.push(record as unknown as LibraryRecord);
      else if (type === undefined) this.records.push(record);
      else warn(`${this.path}:${i + 1}: line of unknown type ${quote(String(JSON.stringify(type)))} skipped`);
    });
  }

  /** Throws RecordLogPathError, naming the path and why, unless lines can be appended to
   *  the log now (its directory is made; a probe file is made and removed when there is no log yet). */
  assertAppendable(): void {
    const fail = (err: unknown): never => {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'EISDIR' ? 'it is a directory' : e.code === 'ENOTDIR' || e.code === 'EEXIST' ? 'a part of its path is a file, not a directory'
        : e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS' ? 'permission denied' : e.message;
      throw new RecordLogPathError(`cannot append to the tuning log ${this.path}: ${why}`, { cause: err });
    };
    try {
      mkdirSync(dirname(this.path), { recursive: true });
    } catch (err) { fail(err); }
    const existed = existsSync(this.path);
    let fd: number | undefined;
    try {
      if (existed && statSync(this.path).isDirectory()) fail(Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
      fd = openSync(this.path, 'a');
      writeSync(fd, ''); // a file that takes no writes (/proc/version) fails here
    } catch (err) {
      if (err instanceof RecordLogPathError) throw err;
      fail(err);
    } finally {
      if (fd !== undefined) closeSync(fd);
      if (!existed && fd !== undefined) unlinkSync(this.path);
    }
  }

  /** Append one measurement; it is on disk when this returns. */
  append(result: MeasureResult, extra: { explorer?: string } = {}): TuningRecord {
    const record: TuningRecord = { v: RECORD_FORMAT_VERSION, ...result, ...extra };
    this.writeLine(record);
    this.records.push(record);
    return record;
  }

  /** Append the reference kernel's timing on a device (a `type: "reference"` line). */
  appendReference(reference: Omit<ReferenceRecord, 'v' | 'type' | 'at'> & { at?: string }): ReferenceRecord {
    const record: ReferenceRecord = { v: RECORD_FORMAT_VERSION, type: 'reference', ...reference, at: reference.at ?? new Date().toISOString() };
    this.writeLine(record);
    this.referenceRecords.push(record);
    return record;
  }

  /** Append the vendor library's timing on a device (a `type: "library"` line). */
  appendLibrary(library: Omit<LibraryRecord, 'v' | 'type' | 'at'> & { at?: string }): LibraryRecord {
    const record: LibraryRecord = { v: RECORD_FORMAT_VERSION, type: 'library', ...library, at: library.at ?? new Date().toISOString() };
    this.writeLine(record);
    this.libraryRecords.push(record);
    return record;
  }

  /** Append a re-measurement of a config (a `type: "remeasure"` line); on disk when this returns. */
  appendRemeasure(result: MeasureResult, extra: { round: number; of: string }): RemeasureRecord {
    const record: RemeasureRecord = { v: RECORD_FORMAT_VERSION, type: 'remeasure', ...result, ...extra };
    this.writeLine(record);
    this.remeasureRecords.push(record);
    return record;
  }

  private writeLine(record: object): void {
    if (!this.records.length && !this.referenceRecords.length && !this.remeasureRecords.length && !this.libraryRecords.length && !existsSync(this.path)) mkdirSync(dirname(this.path), { recursive: true });
    if (this.needsNewline && fileEndsWithoutNewline(this.path)) appendFileSync(this.path, '\n');
    this.needsNewline = false;
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }

  /** Every measurement line of the search (reference and re-measurement lines are apart: see
   *  references() and remeasures()). */
  all(): readonly TuningRecord[] {
    return this.records;
  }

  /** Every reference-timing line. */
  references(): readonly ReferenceRecord[] {
    return this.referenceRecords;
  }

  /** Every library-timing line. */
  libraries(): readonly LibraryRecord[] {
    return this.libraryRecords;
  }

  /** Every re-measurement line. */
  remeasures(): readonly RemeasureRecord[] {
    return this.remeasureRecords;
  }

  /** Records of one workload on one target. */
  select(workload: string, target: string): TuningRecord[] {
    return this.records.filter((r) => r.workload === workload && r.target === target);
  }
}

/** The fastest valid record, or null when none is valid. */
export function bestRecord<T extends MeasureResult>(records: readonly T[]): T | null {
  let best: T | null = null;
  for (const r of records) {
    if (r.error || r.median === null) continue;
    if (!best || r.median < best.median!) best = r;
  }
  return best;
}

function fileEndsWithoutNewline(path: string): boolean {
  const size = statSync(path).size;
  if (size === 0) return false;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(1);
    readSync(fd, buf, 0, 1, size - 1);
    return buf[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}
