// bench:cpu's verdicts: one line per workload (ours against the stronger library, how fast the
// search got there), and the CPU-speed issue's targets, from this run's results or from saved
// runs pooled with --summarise. A saved run is one JSON line per workload, so runs of part of
// the list (a long list takes more than one sitting) add up.
import { appendFileSync, readFileSync } from 'node:fs';

export interface WorkloadSummary {
  name: string;
  op: string;
  /** Median GFLOP/s over the interleaved rounds; null when the search found nothing valid. */
  oursGflops: number | null;
  /** The stronger library at this shape, measured in the same run (null: none ran). */
  library: { label: string; gflops: number } | null;
  measurements: number;
  /** Measurements and wall seconds until the search first reached 90 % of its final best. */
  to90: { measurements: number; seconds: number } | null;
  tuneSeconds: number;
  /** Compiler time (summed over parallel compiles) over the search's wall time. */
  compileShare: number;
  /** The config behind `oursGflops` (absent in runs saved before it was recorded): a saved
   *  figure can be re-timed or exported. */
  config?: Record<string, unknown> | null;
  cpu: string;
  isa: string;
  loadAverage: string;
  at: string;
}

/** The acceptance: yolo conv2d layers as a set, every other family and gemm one by one. */
const TARGETS = {
  yoloGeomean: 0.8, yoloFloor: 0.5, family: 0.7, gemm: 0.95,
};

const ratio = (s: WorkloadSummary): number | null =>
  s.oursGflops !== null && s.library ? s.oursGflops / s.library.gflops : null;

export function saveSummaries(path: string, summaries: WorkloadSummary[]): void {
  appendFileSync(path, summaries.map((s) => `${JSON.stringify(s)}\n`).join(''));
}

/** Saved lines from several files; a workload measured more than once keeps its latest line. */
export function loadSummaries(paths: string[]): WorkloadSummary[] {
  const latest = new Map<string, WorkloadSummary>();
  for (const path of paths) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const s = JSON.parse(line) as WorkloadSummary;
      const earlier = latest.get(s.name);
      if (!earlier || earlier.at <= s.at) latest.set(s.name, s);
    }
  }
  return [...latest.values()];
}

const pad = (text: string, width: number) => (text.length >= width ? `${text.slice(0, width - 1)} ` : text.padEnd(width));
const fixed = (x: number | null, digits = 1) => (x === null ? '—' : x.toFixed(digits));

export function summaryLines(summaries: WorkloadSummary[]): string[] {
  const cpus = [...new Set(summaries.map((s) => `${s.cpu} (${s.isa})`))];
  const lines = [
    `summary: ours against the stronger library at each shape (${cpus.join('; ')})`,
    `${pad('workload', 28)}${pad('ours GFLOP/s', 14)}${pad('library', 44)}${pad('ratio', 8)}${pad('meas.', 7)}${pad('to 90%', 16)}compile`,
  ];
  for (const s of summaries) {
    const lib = s.library ? `${s.library.label} ${s.library.gflops.toFixed(1)}` : 'none ran';
    const to90 = s.to90 ? `${s.to90.measurements} / ${s.to90.seconds.toFixed(0)} s` : '—';
    lines.push(`${pad(s.name, 28)}${pad(fixed(s.oursGflops), 14)}${pad(lib, 44)}${pad(fixed(ratio(s), 2), 8)}${pad(String(s.measurements), 7)}${pad(to90, 16)}${(s.compileShare * 100).toFixed(0)}%`);
  }
  return [...lines, '', ...targetLines(summaries)];
}

function targetLines(summaries: WorkloadSummary[]): string[] {
  const lines: string[] = [];
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const yolo = summaries.filter((s) => s.name.startsWith('yolo-'));
  if (yolo.length) {
    const ratios = yolo.map(ratio);
    const known = ratios.filter((r): r is number => r !== null);
    const geomean = known.length ? Math.exp(known.reduce((a, r) => a + Math.log(r), 0) / known.length) : null;
    const floor = known.length ? Math.min(...known) : null;
    const complete = known.length === yolo.length;
    lines.push(`target conv2d (${known.length} of 15 yolo layers${complete ? '' : ', some without a ratio'}): geomean ≥ ${TARGETS.yoloGeomean}x oneDNN → ${fixed(geomean, 2)}x ${verdict(geomean !== null && geomean >= TARGETS.yoloGeomean && complete)}; no layer below ${TARGETS.yoloFloor}x → lowest ${fixed(floor, 2)}x ${verdict(floor !== null && floor >= TARGETS.yoloFloor && complete)}`);
  }
  for (const s of summaries.filter((x) => !x.name.startsWith('yolo-'))) {
    const want = s.op === 'gemm' ? TARGETS.gemm : TARGETS.family;
    const r = ratio(s);
    lines.push(`target ${s.name}: ≥ ${want}x the stronger library → ${fixed(r, 2)}x ${verdict(r !== null && r >= want)}`);
  }
  return lines;
}
