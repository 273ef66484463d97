// Plain-text tables for the benchmarks: one block per workload, one row per implementation.
import { formatSeconds } from '../cli/progress.ts';

export interface BenchRow {
  label: string;
  /** Median seconds and GFLOP/s when measured; otherwise `status` says why not. */
  seconds?: number;
  gflops?: number;
  /** Ours / this row (GFLOP/s ratio); null for our own row. */
  ratio?: number | null;
  /** (max - min) / median of repeated measurements, when repeated. */
  spread?: number;
  /** How the row's output was verified. */
  check?: string;
  status?: string;
}

const WIDTH = { label: 44, median: 12, gflops: 10, spread: 8, ratio: 11 };

export function tableHeader(): string {
  return [
    'implementation'.padEnd(WIDTH.label), 'median'.padStart(WIDTH.median), 'GFLOP/s'.padStart(WIDTH.gflops),
    'spread'.padStart(WIDTH.spread), 'ours/this'.padStart(WIDTH.ratio), '  check',
  ].join('');
}

export function formatRow(row: BenchRow): string {
  const label = fit(row.label, WIDTH.label);
  if (row.seconds === undefined || row.gflops === undefined) return `${label}${row.status ?? 'not measured'}`;
  const ratio = row.ratio === null || row.ratio === undefined ? '—' : `${formatRatio(row.ratio)}x`;
  return [
    label, formatSeconds(row.seconds).padStart(WIDTH.median), row.gflops.toFixed(1).padStart(WIDTH.gflops),
    (row.spread === undefined ? '—' : `${(row.spread * 100).toFixed(0)}%`).padStart(WIDTH.spread),
    ratio.padStart(WIDTH.ratio), row.check ? `  ${row.check}` : '',
  ].join('');
}

export function formatBlock(title: string, rows: BenchRow[], notes: string[] = []): string {
  const rule = '-'.repeat(WIDTH.label + WIDTH.median + WIDTH.gflops + WIDTH.spread + WIDTH.ratio + 40);
  return [title, rule, tableHeader(), ...rows.map(formatRow), ...notes.map((n) => `  * ${n}`), ''].join('\n');
}

function formatRatio(r: number): string {
  if (r >= 100) return r.toFixed(0);
  if (r >= 10) return r.toFixed(1);
  return r.toFixed(2);
}

function fit(text: string, width: number): string {
  return text.length < width ? text.padEnd(width) : `${text.slice(0, width - 2)}… `;
}
