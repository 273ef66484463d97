// The GPU's vendor libraries, cuBLAS (gemm) and cuDNN (conv2d), through PyTorch: torch-anchors.py
// times them with CUDA events on one GPU, TF32 off. bench/gpu-check runs it for its table; the GPU
// agent's yardstick (torchLibrary) runs it once per workload it serves. Without Python, PyTorch,
// CUDA in PyTorch or an anchor for the operator, the figure is missing and says why.
import { fileURLToPath } from 'node:url';
import type { LibraryMeasure } from '../../../contracts/backend.ts';
import type { ComputeDef } from '../../../tensor/compute.ts';
import { runChild } from '../../child-process.ts';
import { deviceEnv } from './device-probe.ts';

const SCRIPT = fileURLToPath(new URL('./torch-anchors.py', import.meta.url));
/** Importing PyTorch and cuDNN's benchmark mode take seconds; a hung driver must not hang the agent. */
const DEFAULT_TIMEOUT_MS = 300_000;

export interface AnchorWorkload { name: string; op: string; shape: Record<string, number> }

export interface AnchorReport {
  available: boolean;
  reason?: string;
  device?: string;
  torch?: string;
  cudnn?: number;
  results?: { name: string; library?: string; seconds?: number; skipped?: string }[];
}

export interface TorchAnchorOptions {
  /** Python with PyTorch (default python3). */
  python?: string;
  /** nvidia-smi's index of the GPU to time on. */
  gpuIndex: number;
  timeoutMs?: number;
}

/** Runs torch-anchors.py on `workloads`; never throws: a failure is `available: false` with why. */
export async function runTorchAnchors(workloads: AnchorWorkload[], options: TorchAnchorOptions): Promise<AnchorReport> {
  const python = options.python ?? 'python3';
  try {
    const out = await runChild(python, [SCRIPT, '--workloads', JSON.stringify(workloads)], {
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, env: { ...process.env, ...deviceEnv(options.gpuIndex) },
    });
    if (out.timedOut) return { available: false, reason: `${python} torch-anchors.py took longer than ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms` };
    const line = out.stdout.trim().split('\n').pop() ?? '';
    if (out.code !== 0 || !line) return { available: false, reason: `${python} torch-anchors.py failed (status ${out.code}): ${(out.stderr || out.stdout).trim().slice(-300)}` };
    const report = JSON.parse(line) as AnchorReport;
    if (typeof report !== 'object' || report === null || typeof report.available !== 'boolean') throw new Error('no "available" field');
    return report;
  } catch (err) {
    return { available: false, reason: `${python} torch-anchors.py gave no report (${(err as Error).message})` };
  }
}

/** The GPU agent's library yardstick: PyTorch's cuBLAS or cuDNN call at the workload's shape. */
export function torchLibrary(options: TorchAnchorOptions): LibraryMeasure {
  return async (def: ComputeDef) => {
    const report = await runTorchAnchors([{ name: def.key, op: def.op, shape: def.params }], options);
    if (!report.available) return { missing: report.reason ?? 'PyTorch anchors unavailable' };
    const result = report.results?.find((r) => r.name === def.key);
    if (!result) return { missing: `torch-anchors.py reported nothing for ${def.key}` };
    if (result.skipped) return { missing: result.skipped };
    if (typeof result.seconds !== 'number' || !Number.isFinite(result.seconds) || result.seconds <= 0) {
      return { missing: `torch-anchors.py gave no time for ${def.key}` };
    }
    return { library: `${result.library ?? 'PyTorch'}, PyTorch ${report.torch ?? '?'}`, seconds: result.seconds };
  };
}
