// `flexfarm report`: read tuning logs, write one self-contained HTML file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { FlexfarmError } from '../../contracts/errors.ts';
import { openLog } from '../best.ts';
import { renderReport } from './render-html.ts';
import { buildReportData, type ReportData } from './report-data.ts';

export interface WriteReportOptions {
  recordsPaths: string[];
  outFile: string;
  warn?: (message: string) => void;
  /** Shown in the page (default: now). */
  generatedAt?: string;
}

export function writeReport(options: WriteReportOptions): ReportData {
  const inputs = options.recordsPaths.map((path) => {
    const log = openLog(path, { warn: options.warn });
    return { path, records: log.all(), references: log.references(), remeasures: log.remeasures(), libraries: log.libraries() };
  });
  const data = buildReportData(inputs);
  const html = renderReport(data, { generatedAt: options.generatedAt ?? new Date().toISOString() });
  try {
    mkdirSync(dirname(options.outFile), { recursive: true });
    writeFileSync(options.outFile, html);
  } catch (err) {
    // `--out /` used to end in a raw "EISDIR: illegal operation on a directory" (found by fuzzing).
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EISDIR' ? 'it is a directory' : e.code === 'ENOTDIR' || e.code === 'EEXIST' ? 'a part of its path is a file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new ReportWriteError(`cannot write the report to ${options.outFile}: ${why}`, { cause: err });
  }
  return data;
}

/** The report's file cannot be written (a directory, a file in its path, no permission). */
export class ReportWriteError extends FlexfarmError {
  override name = 'ReportWriteError';
  readonly code = 'REPORT_WRITE';
}
