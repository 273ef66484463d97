// A campaign's measurements as CSV for the live page's download: one row per search measurement
// from the tuning log, in log order, with a column per knob (arrays as JSON text), as Optuna's
// trials_dataframe and Kernel Tuner's cache files offer them for analysis elsewhere.
import type { TuningRecord } from '../records.ts';

const FIXED = ['n', 'target', 'device', 'model', 'explorer', 'candidate', 'median_s', 'gflops', 'error', 'simulated', 'at'];

export function measurementsCsv(records: readonly TuningRecord[], flops: number): string {
  const knobs = [...new Set(records.flatMap((r) => Object.keys(r.config)))].sort();
  const counts = new Map<string, number>();
  const rows = records.map((r) => {
    const n = (counts.get(r.target) ?? 0) + 1;
    counts.set(r.target, n);
    const valid = !r.error && r.median !== null && r.median > 0;
    return [
      n, r.target, r.device.name, r.device.model, r.explorer ?? '', r.candidateId,
      valid ? r.median : '', valid && flops > 0 ? flops / r.median! / 1e9 : '', r.error?.code ?? '', r.simulated ? 'true' : '', r.at,
      ...knobs.map((k) => (r.config[k] === undefined ? '' : typeof r.config[k] === 'number' ? r.config[k] : JSON.stringify(r.config[k]))),
    ];
  });
  return [[...FIXED, ...knobs.map((k) => `knob.${k}`)], ...rows].map((row) => row.map(cell).join(',')).join('\n') + '\n';
}

function cell(value: unknown): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
