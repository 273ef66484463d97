// `flexfarm report`: read tuning logs, write one self-contained HTML file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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
  mkdirSync(dirname(options.outFile), { recursive: true });
  writeFileSync(options.outFile, html);
  return data;
}
