// `npm run bench:fpga [-- --trials N] [--explorer NAME] [--seed N] [--part NAME] [--clock-mhz F]
//                       [--workloads a,b] [--no-csim] [--out DIR]`
//
// Tunes gemm 1024 and YOLO layer C9 for an FPGA part on the analytical model (FlexTensor's FPGA
// figures were model estimates too; a C synthesis per candidate takes minutes to hours), then
// prints the best estimated GFLOP/s, the DSP-bound peak of the part at its clock (every DSP busy
// in a 5-DSP fp32 multiply-add each cycle) and the fraction of that peak reached. The best config
// of each workload is then proven correct by C simulation at full size.
// Environment: FLEXFARM_WORKLOADS (folder of workload lists, default bench/workloads).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { createFpgaBackend, FpgaOptionError, type FpgaBackend } from '../agent/backends/fpga/fpga-backend.ts';
import { estimateReference } from '../agent/backends/fpga/model.ts';
import { DEFAULT_FPGA_PART, fpgaPart } from '../agent/backends/fpga/parts.ts';
import { parseFlags, parseInteger, UsageError } from '../cli/args.ts';
import { tune } from '../cli/embedded-tune.ts';
import { progressWriter } from '../cli/progress.ts';
import { DEFAULT_PROTOCOL } from '../contracts/result.ts';
import { explorerNames } from '../coordinator/explore/index.ts';
import { NoValidScheduleError } from '../coordinator/tune.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { DSP_PER_MAC } from '../tensor/templates/fpga-resources.ts';
import { findWorkloads, type NamedWorkload } from './workloads.ts';
import { write } from './entry.ts';

const WORKLOADS = ['gemm-1024', 'yolo-C9'];
const DEFAULT_TRIALS = 3000;
const DEFAULT_EXPLORER = 'flextensor';

const USAGE = `usage: npm run bench:fpga -- [--trials N] [--explorer NAME] [--seed N] [--part NAME] [--clock-mhz F]
                             [--workloads a,b,...] [--no-csim] [--out DIR]
  --trials N        model estimates per workload (default ${DEFAULT_TRIALS})
  --explorer NAME   search method (default ${DEFAULT_EXPLORER})
  --part NAME       FPGA part (default ${DEFAULT_FPGA_PART}); --clock-mhz F its kernel clock
  --workloads LIST  workload names from the shared lists (default ${WORKLOADS.join(',')})
  --no-csim         skip the C simulation of each best config
  --out DIR         keep the tuning log and best kernels here (default: a temp folder, removed)`;

interface WorkloadOutcome { name: string; gflops: number | null; failed: boolean }

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    trials: { type: 'string' }, explorer: { type: 'string' }, seed: { type: 'string' }, part: { type: 'string' },
    'clock-mhz': { type: 'string' }, workloads: { type: 'string' }, 'no-csim': { type: 'boolean' }, out: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n${USAGE}`);
  const trials = parseInteger('--trials', values.trials, DEFAULT_TRIALS, 1);
  const seed = parseInteger('--seed', values.seed, 1);
  const explorer = values.explorer ?? DEFAULT_EXPLORER;
  if (!explorerNames().includes(explorer)) throw new UsageError(`--explorer: '${explorer}' is not one of ${explorerNames().join(', ')}`);
  const clockMhz = values['clock-mhz'] === undefined ? undefined : Number(values['clock-mhz']);
  if (clockMhz !== undefined && !(clockMhz > 0)) throw new UsageError(`--clock-mhz: expected a positive number, got '${values['clock-mhz']}'`);
  const names = values.workloads?.split(',').map((n) => n.trim()).filter(Boolean) ?? WORKLOADS;
  const workloads = findWorkloads(names);
  const part = fpgaPart(values.part ?? DEFAULT_FPGA_PART);
  const workDir = values.out ? resolve(values.out) : mkdtempSync(join(os.tmpdir(), 'flexfarm-bench-fpga-'));
  const cleanUp = () => { if (!values.out) rmSync(workDir, { recursive: true, force: true }); };
  try {
    const model = createFpgaBackend({ cacheDir: join(workDir, 'cache'), part: part.name, clockMhz, estimator: 'model', csim: false });
    const csim = values['no-csim'] ? null : createFpgaBackend({ cacheDir: join(workDir, 'cache'), part: part.name, clockMhz, estimator: 'model' });
    const peak = model.describe().peakGflops!;
    write([
      `flexfarm bench:fpga — ${model.describe().model}`,
      `search: ${explorer}, ${trials} model estimates per workload, seed ${seed}; estimator ${model.describe().toolchain}`,
      `DSP-bound peak of ${part.name} at ${model.clockMhz} MHz: ${peak.toFixed(1)} GFLOP/s ` +
        `(${Math.floor(part.dsp / DSP_PER_MAC)} fp32 multiply-adds per cycle at ${DSP_PER_MAC} DSPs each, ${part.dsp} DSPs)`,
      'every figure below is an ESTIMATE of the analytical model, not a measurement on an FPGA',
      '',
    ]);
    const outcomes: WorkloadOutcome[] = [];
    for (const w of workloads) outcomes.push(await benchWorkload(w, model, csim, { trials, explorer, seed, workDir, peak }));
    write([
      'summary: ' + outcomes.map((o) => `${o.name} ${o.gflops === null ? 'no valid schedule' : `${o.gflops.toFixed(1)} GFLOP/s = ${(o.gflops / peak).toFixed(3)} of peak`}`).join('; '),
      ...(values.out ? [`records and best kernels: ${workDir}`] : []),
    ]);
    return outcomes.some((o) => o.failed) ? 1 : 0;
  } finally {
    cleanUp();
  }
}

async function benchWorkload(
  w: NamedWorkload, model: FpgaBackend, csim: FpgaBackend | null,
  o: { trials: number; explorer: string; seed: number; workDir: string; peak: number },
): Promise<WorkloadOutcome> {
  const def = defineWorkload(w.op, w.shape);
  write([`${w.name}  ${def.key}  (${(def.flops / 1e9).toFixed(3)} GFLOP)`]);
  const progress = progressWriter(process.stderr);
  const started = Date.now();
  let outcome;
  try {
    outcome = await tune({
      def, backend: model, trials: o.trials, explorer: o.explorer, seed: o.seed, batchSize: 64,
      recordsPath: join(o.workDir, 'records.jsonl'), outDir: join(o.workDir, w.name),
      onProgress: (p) => progress.update(p), warn: (m) => process.stderr.write(`warning: ${m}\n`),
    }).finally(() => progress.finish());
  } catch (err) {
    if (!(err instanceof NoValidScheduleError)) throw err;
    write([`  no valid schedule: ${err.message}`, '']);
    return { name: w.name, gflops: null, failed: true };
  }
  const best = outcome.best!;
  const check = await model.measure({ id: `${w.name}-best`, workload: def.key, target: 'fpga', config: best.config }, DEFAULT_PROTOCOL);
  const e = check.estimate!;
  const part = model.part;
  const reference = estimateReference(def, { part, clockMhz: model.clockMhz });
  const lines = [
    `  search: ${outcome.trials} estimates (${outcome.valid} valid) in ${((Date.now() - started) / 1000).toFixed(1)} s${outcome.stopReason ? `, stopped: ${outcome.stopReason}` : ''}`,
    `  best (estimated): ${(best.seconds * 1e3).toFixed(3)} ms, ${best.gflops.toFixed(1)} GFLOP/s; ${e.cycles} cycles at ${e.clockMhz} MHz, II ${e.ii}`,
    `  resources: DSP ${e.dsp}/${part.dsp}, BRAM18 ${e.bram18}/${part.bram18}, LUT ${e.lut}/${part.lut}, FF ${e.ff}/${part.ff}`,
    `  DSP-bound peak ${o.peak.toFixed(1)} GFLOP/s → fraction reached ${(best.gflops / o.peak).toFixed(3)}`,
    `  unscheduled HLS reference (model): ${(reference.seconds * 1e3).toFixed(1)} ms, ${(def.flops / reference.seconds / 1e9).toFixed(2)} GFLOP/s → best is ${(reference.seconds / best.seconds).toFixed(0)}x faster`,
    `  config: ${JSON.stringify(best.config)}`,
  ];
  let failed = false;
  if (csim) {
    process.stderr.write(`${w.name}: C simulation of the best config at full size…\n`);
    const simStarted = Date.now();
    const r = await csim.measure({ id: `${w.name}-csim`, workload: def.key, target: 'fpga', config: best.config },
      { ...DEFAULT_PROTOCOL, runTimeoutMs: 600_000, buildTimeoutMs: 120_000 });
    failed = r.error !== null;
    lines.push(`  C simulation of the best config: ${r.error ? `FAILED ${r.error.code}: ${r.error.message}` : 'pass (every output element vs the unscheduled reference)'} in ${((Date.now() - simStarted) / 1000).toFixed(1)} s`);
  }
  write([...lines, '']);
  return { name: w.name, gflops: best.gflops, failed };
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: Error) => {
  const known = err instanceof UsageError || err instanceof FpgaOptionError || err.name === 'UnknownPartError' || err.name === 'UnknownWorkloadError';
  process.stderr.write(`bench:fpga: ${known ? err.message : err.stack ?? err.message}\n`);
  process.exitCode = known ? 2 : 1;
});
