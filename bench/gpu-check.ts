// The GPU device check (run by bench/gpu-check.sh, which brings its own Node where there is none):
// tunes gemm 1024 and yolo-C9 briefly on an NVIDIA GPU, prints GFLOP/s, and — where PyTorch is
// installed — the ratio to torch.matmul (cuBLAS) and to cuDNN's conv2d, timed in the same run
// with CUDA events (agent/backends/gpu/torch-anchors.py). Our best config is measured again after the anchors,
// so that both sides see the same clocks.
//
// --dry-run needs no GPU: it renders a random valid config of each workload, compiles the whole
// program with nvcc when there is one, and runs the anchor script (which says whether PyTorch and
// CUDA are usable), so the parts that can run anywhere are checked before a GPU is at hand.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { archLimits } from '../agent/backends/gpu/arch.ts';
import { cudaProgram } from '../agent/backends/gpu/cuda-program.ts';
import { nvccInfo } from '../agent/backends/gpu/device-probe.ts';
import { createGpuBackend, GPU_FLAGS } from '../agent/backends/gpu/gpu-backend.ts';
import { runTorchAnchors, type AnchorReport } from '../agent/backends/gpu/torch-anchors.ts';
import { runChild } from '../agent/child-process.ts';
import { parseFlags, parseInteger, UsageError } from '../cli/args.ts';
import { tune } from '../cli/embedded-tune.ts';
import { median, type TimingProtocol } from '../contracts/result.ts';
import { Rng } from '../coordinator/explore/rng.ts';
import { Space } from '../coordinator/space.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { gpuTemplate } from '../tensor/templates/gpu.ts';
import { GPU_CHECK_WORKLOADS } from './gpu-check-workloads.ts';
import type { Config } from '../tensor/templates/template.ts';

const PROTOCOL: TimingProtocol = { repeat: 3, minRepeatMs: 100, buildTimeoutMs: 180_000, runTimeoutMs: 30_000 };

const USAGE = `usage: bench/gpu-check.sh [--trials N] [--explorer NAME] [--seed N] [--gpu-index N] [--out DIR] [--python CMD] [--dry-run]
  --trials N        measurements per workload (default 200; invalid configs are cheap: no compile)
  --explorer NAME   search method (default random)
  --gpu-index N     GPU to use, as nvidia-smi numbers them (default 0)
  --out DIR         tuning logs, best kernels and summary.json (default out/gpu-check)
  --python CMD      Python with PyTorch for the anchors (default python3)
  --dry-run         no GPU needed: render and nvcc-compile one config per workload, run the anchor script`;

function anchors(python: string, gpuIndex: number): Promise<AnchorReport> {
  return runTorchAnchors(GPU_CHECK_WORKLOADS, { python, gpuIndex, timeoutMs: 600_000 });
}

const gflops = (flops: number, seconds: number) => flops / seconds / 1e9;
const fmt = (x: number | undefined, digits = 1) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));

function randomValidConfig(op: string, shape: Record<string, number>, seed: number): Config {
  const def = defineWorkload(op, shape);
  const space = new Space(gpuTemplate.knobs(def));
  const rng = new Rng(seed);
  for (let i = 0; i < 10_000; i++) {
    const config = space.toConfig(space.randomPoint(rng));
    try { gpuTemplate.check(def, config, archLimits('sm_90')); return config; } catch { /* draw again */ }
  }
  throw new Error(`no valid config for ${def.key} in 10000 draws`);
}

async function dryRun(outDir: string, python: string): Promise<number> {
  process.stdout.write(`gpu-check dry run (no GPU needed): node ${process.version}, ${os.availableParallelism()} CPUs\n`);
  let nvcc: string | null = null;
  try { nvcc = nvccInfo().version; } catch { /* reported below */ }
  for (const w of GPU_CHECK_WORKLOADS) {
    const def = defineWorkload(w.op, w.shape);
    const config = randomValidConfig(w.op, w.shape, 1);
    const source = join(outDir, `${w.name}.cu`);
    writeFileSync(source, cudaProgram(def, gpuTemplate.lower(def, config), JSON.stringify(config)));
    if (!nvcc) { process.stdout.write(`${w.name}: rendered ${source} (nvcc not found: not compiled)\n`); continue; }
    const started = Date.now();
    const out = await runChild('nvcc', [...GPU_FLAGS, '-arch=sm_90', source, '-o', join(outDir, w.name)], { timeoutMs: 300_000 });
    if (out.code !== 0) throw new Error(`${w.name}: nvcc failed: ${out.stderr.slice(0, 1000)}`);
    process.stdout.write(`${w.name}: ${def.key} config ${JSON.stringify(config)} built with ${nvcc} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  const a = await anchors(python, 0);
  process.stdout.write(a.available ? `anchors: PyTorch ${a.torch} on ${a.device}\n` : `anchors: not available here (${a.reason})\n`);
  process.stdout.write('dry run ok\n');
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    trials: { type: 'string' }, explorer: { type: 'string' }, seed: { type: 'string' }, 'gpu-index': { type: 'string' },
    out: { type: 'string' }, python: { type: 'string' }, 'dry-run': { type: 'boolean' }, help: { type: 'boolean' },
  }, false);
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  const trials = parseInteger('--trials', values.trials, 200, 1);
  const seed = parseInteger('--seed', values.seed, 1);
  const gpuIndex = parseInteger('--gpu-index', values['gpu-index'], 0);
  const explorer = values.explorer ?? 'random';
  const python = values.python ?? 'python3';
  const outDir = resolve(values.out ?? join('out', 'gpu-check'));
  mkdirSync(outDir, { recursive: true });
  if (values['dry-run']) return dryRun(outDir, python);

  const backend = createGpuBackend({ cacheDir: join(outDir, 'cache'), gpuIndex });
  const device = backend.describe();
  process.stdout.write(`device: ${device.model}; ${(device.memoryBytes / 2 ** 30).toFixed(0)} GiB; peak ~${device.peakGflops} GFLOP/s FP32\n`);
  process.stdout.write(`toolchain: ${device.toolchain}; node ${process.version}; explorer ${explorer}, ${trials} trials per workload\n`);

  const rows: { name: string; key: string; flops: number; tuned: number; valid: number; trials: number; reference: number; config: Config; kernel: string | null }[] = [];
  for (const w of GPU_CHECK_WORKLOADS) {
    const def = defineWorkload(w.op, w.shape);
    const started = Date.now();
    let last = 0;
    const outcome = await tune({
      def, backend, trials, explorer, seed, protocol: PROTOCOL, batchSize: 8,
      recordsPath: join(outDir, `${w.name}.records.jsonl`), outDir: join(outDir, w.name),
      onProgress: (p) => {
        if (Date.now() - last < 5_000 && p.measured < p.budget) return;
        last = Date.now();
        process.stderr.write(`  ${w.name}: ${p.measured}/${p.budget} measured, ${p.valid} valid, best ${p.best ? `${p.best.gflops.toFixed(1)} GFLOP/s` : '-'}\n`);
      },
      warn: (m) => process.stderr.write(`warning: ${m}\n`),
    });
    if (!outcome.best) throw new Error(`${w.name}: no valid config in ${outcome.trials} trials`);
    process.stdout.write(`${w.name}: ${outcome.valid}/${outcome.trials} valid in ${((Date.now() - started) / 1000).toFixed(0)} s, best ${outcome.best.gflops.toFixed(1)} GFLOP/s ${JSON.stringify(outcome.best.config)}\n`);
    rows.push({
      name: w.name, key: def.key, flops: def.flops, tuned: outcome.best.seconds, valid: outcome.valid, trials: outcome.trials,
      reference: outcome.reference.seconds, config: outcome.best.config, kernel: outcome.kernel,
    });
  }

  const a = await anchors(python, gpuIndex);
  // Ours again, after the anchors: the same device state for both sides of the ratio.
  const again = await Promise.all(rows.map(async (r, i) => {
    const result = await backend.measure({ id: `again-${i}`, workload: r.key, target: 'gpu', config: r.config }, PROTOCOL);
    return result.median ?? NaN;
  }));

  process.stdout.write(`\n${'workload'.padEnd(11)} ${'ours GFLOP/s'.padStart(12)} ${'again'.padStart(8)} ${'unsched.'.padStart(9)}  ${'anchor'.padEnd(28)} ${'GFLOP/s'.padStart(8)} ${'ours/anchor'.padStart(11)}\n`);
  const summary = rows.map((r, i) => {
    const anchor = a.results?.find((x) => x.name === r.name);
    const ours = Math.min(r.tuned, Number.isFinite(again[i]) ? again[i] : Infinity);
    const ratio = anchor?.seconds ? anchor.seconds / ours : undefined;
    process.stdout.write(`${r.name.padEnd(11)} ${fmt(gflops(r.flops, r.tuned)).padStart(12)} ${fmt(gflops(r.flops, again[i])).padStart(8)} ${fmt(gflops(r.flops, r.reference)).padStart(9)}  `
      + `${(anchor?.library ?? anchor?.skipped ?? '-').padEnd(28)} ${fmt(anchor?.seconds ? gflops(r.flops, anchor.seconds) : undefined).padStart(8)} ${fmt(ratio, 2).padStart(11)}\n`);
    return { ...r, again: again[i], ours, anchor: anchor ?? null, ratio: ratio ?? null };
  });
  if (!a.available) process.stdout.write(`anchors: not available (${a.reason})\n`);
  else process.stdout.write(`anchors: PyTorch ${a.torch}, cuDNN ${a.cudnn}, ${a.device}; TF32 off on both sides; ratio = anchor seconds / ours (>1: ours faster)\n`);
  writeFileSync(join(outDir, 'summary.json'), `${JSON.stringify({ device, anchors: a, rows: summary, medianRatio: median(summary.flatMap((s) => (s.ratio ? [s.ratio] : []))) }, null, 2)}\n`);
  process.stdout.write(`summary: ${join(outDir, 'summary.json')}\n`);
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: Error) => {
  process.stderr.write(`gpu-check: ${err.message}\n`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
