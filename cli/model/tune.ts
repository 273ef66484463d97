// `flexfarm model tune FILE.onnx --input … --trials N [--target T] [--records FILE]`: tunes every
// distinct layer of the model in this process (embedded agent), the budget spread by FLOP share,
// in one tuning log; run again after an interruption, it goes on where it stopped.
import { basename, join } from 'node:path';
import { createBackend } from '../../agent/backends/index.ts';
import { TARGET_KINDS, targetSpec } from '../../contracts/targets.ts';
import { DEFAULT_EXPLORER, explorerNames } from '../../coordinator/explore/index.ts';
import { deviceKey } from '../../coordinator/keys.ts';
import { importModelLayers } from '../../coordinator/model-import/model-layers.ts';
import { summarizeModel, type ModelSummary } from '../../coordinator/model-import/model-summary.ts';
import { tuneModel, type LayerEvent } from '../../coordinator/model-import/model-tune.ts';
import { oneOf, parseFlags, parseInteger } from '../args.ts';
import { cacheDir } from '../cache-dir.ts';
import { tune } from '../embedded-tune.ts';
import { formatSeconds, progressWriter, type ProgressWriter } from '../progress.ts';
import { CoordinatorClient, coordinatorAddress } from '../coordinator-client.ts';
import { modelPath, parseInputBindings } from './args.ts';
import { tuneModelOnFarm } from './farm-tune.ts';
import type { ModelLayers } from '../../coordinator/model-import/model-layers.ts';

const DEFAULT_TRIALS = 200;
const DEFAULT_MIN_TRIALS = 2;
/** Fewer than `tune`'s 5: a model has tens of layers, and every re-measure is 3 fresh runs. */
const DEFAULT_MODEL_REMEASURE = 2;

export const TUNE_USAGE = `usage: flexfarm model tune FILE.onnx [--input NAME=DIMS] [--trials N] [--min-trials N]
                     [--target ${TARGET_KINDS.join('|')}] [--records FILE] [--out DIR] [--explorer NAME]
                     [--seed N] [--remeasure K] [--coordinator ADDR] [--json]
  --trials N       measurements for the whole model, spread over its layers by FLOP share (${DEFAULT_TRIALS})
  --min-trials N   measurements every layer gets at least (${DEFAULT_MIN_TRIALS})
  --records FILE   the model's tuning log (default <out>/records.jsonl); measurements already in it
                   count against each layer's share, so an interrupted run resumes
  --out DIR        where each layer's best kernel goes (default out/model-<file name>)
  --remeasure K    re-measure each layer's best K configs in fresh processes (${DEFAULT_MODEL_REMEASURE}; 0: off)
  --coordinator ADDR  tune on a farm: a campaign per layer on that coordinator (its log holds the
                   results; run again, it goes on from the coordinator's campaigns); --records and
                   --out are for embedded runs`;

export async function runTune(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    input: { type: 'string', multiple: true }, trials: { type: 'string' }, 'min-trials': { type: 'string' },
    target: { type: 'string' }, records: { type: 'string' }, out: { type: 'string' }, explorer: { type: 'string' },
    seed: { type: 'string' }, remeasure: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
    coordinator: { type: 'string' },
  });
  if (values.help) { process.stdout.write(`${TUNE_USAGE}\n`); return 0; }
  const path = modelPath(positionals, TUNE_USAGE);
  const trials = parseInteger('--trials', values.trials, DEFAULT_TRIALS, 1);
  const minTrials = parseInteger('--min-trials', values['min-trials'], DEFAULT_MIN_TRIALS, 1);
  const target = oneOf('--target', values.target, TARGET_KINDS, 'cpu');
  const explorer = oneOf('--explorer', values.explorer, explorerNames(), DEFAULT_EXPLORER);
  const seed = parseInteger('--seed', values.seed, 0);
  const remeasure = parseInteger('--remeasure', values.remeasure, DEFAULT_MODEL_REMEASURE, 0);
  const threads = values.threads === undefined ? undefined : parseInteger('--threads', values.threads, 1, 1);
  const model = importModelLayers(path, parseInputBindings(values.input));
  if (values.coordinator !== undefined) {
    return runOnFarm(model, { coordinator: values.coordinator, target, trials, minTrials, explorer: values.explorer === undefined ? '' : explorer, seed, remeasure, json: values.json ?? false });
  }
  const outDir = values.out ?? join('out', `model-${basename(path).replace(/\.onnx$/i, '')}`);
  const recordsPath = values.records ?? join(outDir, 'records.jsonl');
  const json = values.json ?? false;
  const backend = createBackend(target, { cacheDir: cacheDir() }, { seed, threads });
  const device = deviceKey({ target, device: backend.describe() });
  const say = (line: string) => process.stderr.write(`${line}\n`);

  say(`tuning ${model.layers.length} layers of ${path} on ${target} (${backend.describe().model}): ${trials} measurements, at least ${minTrials} a layer`);
  let bar: ProgressWriter | undefined;
  const outcome = await tuneModel({
    model, backend, trials, minTrials, recordsPath, outDir, explorer, seed, remeasure,
    warn: (m) => say(`warning: ${m}`),
    onLayerStart: (e) => {
      say(`${layerHead(e)}: ${e.planned - e.logged} measurements${e.logged ? ` (${e.logged} in the log before)` : ''}`);
      bar = progressWriter(process.stderr, { forcePlain: json });
    },
    onProgress: (_e, p) => bar?.update(p),
    onLayerEnd: (e) => {
      bar?.finish();
      bar = undefined;
      const o = e.outcome;
      const what = o.status === 'done-before' ? `done before (${e.logged} of ${e.planned} in the log)`
        : o.status === 'failed' ? `FAILED: ${o.message}`
          : `best ${o.tune.best ? formatSeconds(o.tune.best.seconds) : '-'} after ${o.measured} measurements`;
      say(`${o.status === 'done-before' ? `${layerHead(e)}:` : '  '} ${what}; overall ${e.overallDone}/${e.overallPlanned}`);
    },
  }, tune);
  const summary = summarizeModel(model.layers, recordsPath, target, device);
  const measuredNow = outcome.layers.reduce((s, l) => s + l.outcome.measured, 0);
  const failed = outcome.layers.filter((l) => l.outcome.status === 'failed').length;
  const simulated = targetSpec(target)?.simulated ?? false;
  if (json) {
    process.stdout.write(`${JSON.stringify({
      model: path, target, trials, measuredNow, records: recordsPath, ...(simulated ? { simulated: true } : {}),
      layers: summary.rows.map((r, i) => ({
        op: r.layer.op, workload: r.layer.workload, count: r.layer.count, share: r.layer.share,
        planned: outcome.layers[i].planned, measurements: r.measurements, status: outcome.layers[i].outcome.status,
        best: r.best ? { seconds: r.best.seconds, gflops: r.best.gflops, config: r.best.config } : null,
        reference: r.best?.reference ? { seconds: r.best.reference.seconds } : null,
      })),
      total: { seconds: summary.totalSeconds, referenceSeconds: summary.referenceSeconds, complete: summary.complete },
    })}\n`);
  } else {
    if (simulated) process.stdout.write('SIMULATED (sim target: an analytical landscape, not a device measurement)\n');
    process.stdout.write(formatSummary(summary, outcome.layers.map((l) => l.planned), { path, target, measuredNow, recordsPath }));
  }
  return failed ? 1 : 0;
}

function layerHead(e: LayerEvent): string {
  return `[layer ${e.index + 1}/${e.layers}] ${e.layer.workload} x${e.layer.count}, ${(100 * e.layer.share).toFixed(1)}% of FLOPs`;
}

export function formatSummary(s: ModelSummary, planned: number[], info: { path: string; target: string; measuredNow: number; recordsPath: string }): string {
  const lines = [
    `${info.path} on ${info.target}: ${s.rows.length} layers, ${info.measuredNow} measurements in this run`,
    `${'count'.padStart(5)}  ${'share'.padStart(6)}  ${'trials'.padStart(6)}  ${'best'.padStart(11)}  ${'GFLOP/s'.padStart(8)}  ${'x ref'.padStart(6)}  workload`,
    ...s.rows.map((r, i) => [
      String(r.layer.count).padStart(5), `${(100 * r.layer.share).toFixed(1)}%`.padStart(6), `${r.measurements}/${planned[i]}`.padStart(6),
      (r.best ? formatSeconds(r.best.seconds) : '-').padStart(11), (r.best?.gflops ? r.best.gflops.toFixed(1) : '-').padStart(8),
      (r.best?.speedup ? `${r.best.speedup.toFixed(1)}x` : '-').padStart(6), r.layer.workload,
    ].join('  ')),
    `model total (tunable layers, best x count): ${formatSeconds(s.totalSeconds)}${s.complete ? '' : ' (some layers have no valid schedule yet)'}` +
      (s.referenceSeconds ? `; unscheduled reference ${formatSeconds(s.referenceSeconds)}${s.referenceComplete ? '' : ' (partial)'}` : ''),
    `records: ${info.recordsPath}`,
  ];
  return `${lines.join('\n')}\n`;
}

interface FarmFlags { coordinator: string; target: string; trials: number; minTrials: number; explorer: string; seed: number; remeasure: number; json: boolean }

async function runOnFarm(model: ModelLayers, f: FarmFlags): Promise<number> {
  const client = new CoordinatorClient(coordinatorAddress(f.coordinator));
  const say = (line: string) => process.stderr.write(`${line}\n`);
  try {
    say(`tuning ${model.layers.length} layers of ${model.path} on the farm at ${client.address} (${f.target}): ${f.trials} measurements, at least ${f.minTrials} a layer`);
    const rows = await tuneModelOnFarm({ model, client, ...f, say });
    const total = rows.reduce((s, r) => s + (r.best ? r.best.seconds * r.layer.count : 0), 0);
    const complete = rows.every((r) => r.best);
    if (f.json) {
      process.stdout.write(`${JSON.stringify({
        model: model.path, target: f.target, trials: f.trials, coordinator: client.address,
        layers: rows.map((r) => ({ op: r.layer.op, workload: r.layer.workload, count: r.layer.count, share: r.layer.share, planned: r.planned, measurements: r.measured, status: r.status, campaigns: r.campaigns, best: r.best, ...(r.message ? { message: r.message } : {}) })),
        total: { seconds: total, complete },
      })}\n`);
    } else {
      const lines = [
        `${model.path} on the farm (${f.target}): ${rows.length} layers`,
        ...rows.map((r) => `${String(r.layer.count).padStart(5)}  ${`${r.measured}/${r.planned}`.padStart(7)}  ${(r.best ? formatSeconds(r.best.seconds) : '-').padStart(11)}  ${r.layer.workload}  ${r.campaigns.join(',')}`),
        `model total (tunable layers, best x count): ${formatSeconds(total)}${complete ? '' : ' (some layers have no valid schedule)'}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return rows.some((r) => r.status === 'failed') ? 1 : 0;
  } finally {
    client.close();
  }
}
