// `flexfarm model report FILE.onnx --input … --records FILE [--target T] [--html OUT] [--json]`:
// per layer, the best kernel in the log against oneDNN at the same shape and the unscheduled
// reference, all measured now; the model's total for its tunable layers against oneDNN's.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { createBackend } from '../../agent/backends/index.ts';
import { TARGET_KINDS, targetSpec } from '../../contracts/targets.ts';
import { importModelLayers } from '../../coordinator/model-import/model-layers.ts';
import { reportModel, type ModelReport } from '../../coordinator/model-import/model-report.ts';
import { renderModelReport } from '../../coordinator/model-import/report-html.ts';
import { oneOf, parseFlags, parseInteger, UsageError } from '../args.ts';
import { cacheDir } from '../cache-dir.ts';
import { formatSeconds } from '../progress.ts';
import { modelPath, parseInputBindings } from './args.ts';
import { onednnTiming } from './library-timing.ts';

export const REPORT_USAGE = `usage: flexfarm model report FILE.onnx --records FILE [--input NAME=DIMS] [--target ${TARGET_KINDS.join('|')}]
                       [--html OUT.html] [--threads N] [--json]
  --records FILE   the model's tuning log (from flexfarm model tune)
  --html OUT       also write a self-contained HTML report with a per-layer bar chart
  Every figure is measured now on this host: each layer's best from the log, oneDNN at the same
  shape (cpu) and the unscheduled reference, with one timing protocol.`;

export async function runReport(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    input: { type: 'string', multiple: true }, records: { type: 'string' }, target: { type: 'string' },
    html: { type: 'string' }, threads: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
  });
  if (values.help) { process.stdout.write(`${REPORT_USAGE}\n`); return 0; }
  const path = modelPath(positionals, REPORT_USAGE);
  if (!values.records) throw new UsageError(`--records is required\n${REPORT_USAGE}`);
  const target = oneOf('--target', values.target, TARGET_KINDS, 'cpu');
  const threads = values.threads === undefined ? undefined : parseInteger('--threads', values.threads, 1, 1);
  const seed = parseInteger('--seed', values.seed, 0);
  const model = importModelLayers(path, parseInputBindings(values.input));
  const backend = createBackend(target, { cacheDir: cacheDir() }, { seed, threads });
  const loadBefore = os.loadavg()[0];
  const report = await reportModel({
    model, recordsPath: values.records, backend, library: onednnTiming(target, cacheDir(), threads),
    onLayer: (done, total) => process.stderr.write(`measuring layer ${done}/${total} (ours, oneDNN, reference)\n`),
  });
  const simulated = targetSpec(target)?.simulated ?? false;
  const cores = os.availableParallelism(), loadAfter = os.loadavg()[0];
  // Every figure is one fresh measurement: on a busy host they say more about the host than the kernels.
  const host = `load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after, on ${cores} cores`;
  if (!simulated && Math.max(loadBefore, loadAfter) > cores) process.stderr.write(`warning: the host was busy while measuring (${host}): the figures are noisy\n`);
  if (values.html) {
    writeFileSync(values.html, renderModelReport(report, { generatedAt: new Date().toISOString(), simulated, host }));
    process.stderr.write(`wrote ${values.html}\n`);
  }
  process.stdout.write(values.json ? `${JSON.stringify({ ...report, host: { loadBefore, loadAfter, cores }, ...(simulated ? { simulated: true } : {}) })}\n` : `${formatReport(report, simulated)}${host}\n`);
  return 0;
}

function formatReport(r: ModelReport, simulated: boolean): string {
  const lib = r.totals.libraryName ?? 'oneDNN';
  const f = (s: number | null) => (s === null ? '-' : formatSeconds(s));
  const lines = [
    simulated ? 'SIMULATED (sim target: an analytical landscape, not a device measurement)' : '',
    `${r.model} on ${r.target} (${r.device}): ${r.rows.length} layers, measured now`,
    `${'#'.padStart(3)}  ${'count'.padStart(5)}  ${'ours'.padStart(11)}  ${lib.padStart(11)}  ${`${lib}/ours`.padStart(11)}  ${'reference'.padStart(11)}  workload`,
    ...r.rows.map((row, i) => {
      const libSeconds = 'seconds' in row.library ? row.library.seconds : null;
      return [String(i + 1).padStart(3), String(row.layer.count).padStart(5), f(row.ours).padStart(11), f(libSeconds).padStart(11),
        (libSeconds && row.ours ? `${(libSeconds / row.ours).toFixed(2)}x` : '-').padStart(11), f(row.reference).padStart(11),
        `${row.layer.workload}${'missing' in row.library ? `  (${lib}: ${row.library.missing})` : ''}${row.error ? `  [${row.error}]` : ''}`].join('  ');
    }),
    r.compared
      ? `model total (tunable layers, time x count) over the ${r.compared} of ${r.rows.length} layers with every figure: ours ${formatSeconds(r.comparedTotals.ours)}, ` +
        `${lib} ${formatSeconds(r.comparedTotals.library)}, ours / ${lib} = ${r.comparedTotals.library ? (r.comparedTotals.ours / r.comparedTotals.library).toFixed(2) : '-'}; ` +
        `unscheduled reference ${formatSeconds(r.comparedTotals.reference)}`
      : `model total (tunable layers, time x count): ours ${formatSeconds(r.totals.ours)}, unscheduled reference ${formatSeconds(r.totals.reference)}; no layer has a ${lib} figure`,
  ].filter(Boolean);
  return `${lines.join('\n')}\n`;
}
