// The GPU backend: CUDA rendered from the GPU template, built with nvcc for the device's compute
// capability, each candidate run in a child process that times it with CUDA events and checks it
// against the reference output (the unscheduled nest computed on the host CPU, cuda-program.ts);
// speedups are over the unscheduled kernel timed on the same GPU, and the library yardstick is
// cuBLAS or cuDNN through PyTorch where it is installed (torch-anchors.ts).
//
// Created with a probe (default) it refuses at once, with a GpuUnavailableError, on a machine
// without a usable NVIDIA GPU. Created with `probe: false` it only renders (`flexfarm codegen`):
// configs are checked against the limits of a named architecture and nothing is measured.
// After a failed run it asks nvidia-smi whether the device still answers; if not, that result and
// every later one is DEVICE_LOST and the backend reports itself unhealthy.
import os from 'node:os';
import type { Backend, LibraryTiming, ReferenceTiming } from '../../../contracts/backend.ts';
import type { Candidate, DeviceInfo, ErrorCode, MeasureResult, TimingProtocol } from '../../../contracts/result.ts';
import type { ComputeDef } from '../../../tensor/compute.ts';
import { lower } from '../../../tensor/lower.ts';
import { gpuTemplate, type GpuLimits } from '../../../tensor/templates/gpu.ts';
import type { Config, DeviceLimits } from '../../../tensor/templates/template.ts';
import { runChild } from '../../child-process.ts';
import { CompiledBackend, type CompiledBackendOptions } from '../../measure.ts';
import { archLimits, computeCapability, DEFAULT_GPU_ARCH, fp32LanesPerSm } from './arch.ts';
import { cudaProgram } from './cuda-program.ts';
import { torchLibrary } from './torch-anchors.ts';
import {
  archFlags, deviceEnv, GpuUnavailableError, nvccInfo, queryNvidiaSmi, runProbe,
  type NvccInfo, type ProbeInfo, type SmiInfo,
} from './device-probe.ts';

export interface GpuBackendOptions {
  /** Binaries, reference outputs and the device probe are cached here. */
  cacheDir: string;
  /** Which GPU (nvidia-smi's index; default 0). */
  gpuIndex?: number;
  /** false: render only, for the limits of `arch`; no GPU, driver or nvcc needed. Default true. */
  probe?: boolean;
  /** Architecture whose limits a render-only backend checks (default sm_90). */
  arch?: string;
  /** nvcc command (default 'nvcc'). */
  nvcc?: string;
  /** nvidia-smi command (default 'nvidia-smi'). */
  nvidiaSmi?: string;
  /** Host address-space limit of each kernel run. Default none: the CUDA runtime reserves a large
   *  virtual address space at start-up and fails under a limit; host buffers are the tensors'. */
  memoryBytes?: number;
  sourceFilter?: CompiledBackendOptions['sourceFilter'];
  /** Python with PyTorch for the library yardstick, cuBLAS and cuDNN through PyTorch (default
   *  python3; without PyTorch the yardstick says the library is missing and why). */
  python?: string;
}

/** A device as the probe described it, with the compiler set up for it. */
export interface GpuDevice {
  index: number;
  smi: SmiInfo;
  probe: ProbeInfo;
  nvcc: NvccInfo;
  archFlags: string[];
}

/** Answers null while the device answers, else what is wrong with it. */
export type GpuHealthCheck = () => Promise<string | null>;

export const GPU_FLAGS = ['-O3', '-std=c++17'];
const HEALTH_TIMEOUT_MS = 15_000;
/** Failures after which the device itself is suspect. */
const SUSPECT: ErrorCode[] = ['RUNTIME', 'RUN_TIMEOUT', 'DEVICE_LOST'];

export function createGpuBackend(options: GpuBackendOptions): GpuBackend {
  if (options.probe === false) return renderOnlyGpuBackend(options.arch ?? DEFAULT_GPU_ARCH);
  const index = options.gpuIndex ?? 0;
  const smi = queryNvidiaSmi(index, { command: options.nvidiaSmi });
  const nvcc = nvccInfo(options.nvcc);
  const probe = runProbe({ nvcc, cacheDir: options.cacheDir, index });
  const device: GpuDevice = { index, smi, probe, nvcc, archFlags: archFlags(nvcc, probe.computeCapability) };
  return gpuBackendFor(device, options, nvidiaSmiHealth(index, options.nvidiaSmi ?? 'nvidia-smi'));
}

/** The backend for a described device (createGpuBackend probes; tests describe one themselves). */
export function gpuBackendFor(device: GpuDevice, options: GpuBackendOptions, health: GpuHealthCheck): GpuBackend {
  const { probe, smi, nvcc } = device;
  const peakGflops = probe.sms * fp32LanesPerSm(probe.computeCapability) * 2 * (smi.maxSmClockMHz || probe.clockMHz) / 1000;
  const flags = [...GPU_FLAGS, ...device.archFlags];
  const info: DeviceInfo = {
    kind: 'gpu',
    name: `${os.hostname()}-gpu${device.index}`,
    model: `${probe.name} (compute ${probe.computeCapability}, ${probe.sms} SMs, ${smi.maxSmClockMHz || probe.clockMHz} MHz, driver ${smi.driver})`,
    cores: probe.sms,
    memoryBytes: probe.memoryBytes,
    peakGflops: Math.round(peakGflops),
    peakSource: `spec: ${probe.sms} SMs × ${fp32LanesPerSm(probe.computeCapability)} FP32 lanes × 2 FLOP × ${smi.maxSmClockMHz || probe.clockMHz} MHz`,
    toolchain: `${nvcc.version} ${flags.join(' ')}; driver ${smi.driver}`,
    limits: { ...probe.limits, computeCapability: probe.computeCapability },
  };
  const inner = new CompiledBackend({
    kind: 'gpu', template: gpuTemplate, limits: probe.limits, device: info, cacheDir: options.cacheDir,
    toolchain: {
      compiler: { command: nvcc.command, flags, libs: [], extension: '.cu', version: nvcc.version },
      program: cudaProgram,
      runEnv: deviceEnv(device.index),
    },
    memoryBytes: options.memoryBytes,
    // nvcc is slow (seconds per kernel): use the host's cores, leaving one for timing runs.
    maxParallelCompiles: Math.max(2, Math.min(8, os.availableParallelism() - 1)),
    sourceFilter: options.sourceFilter,
    library: torchLibrary({ python: options.python, gpuIndex: device.index }),
  });
  return new GpuBackend(info, probe.limits, inner, health);
}

function renderOnlyGpuBackend(arch: string): GpuBackend {
  const limits = archLimits(arch);
  const info: DeviceInfo = {
    kind: 'gpu', name: 'render-only', model: `NVIDIA compute ${computeCapability(arch)} (not probed: render only)`,
    cores: 0, memoryBytes: 0, toolchain: `nvcc ${GPU_FLAGS.join(' ')} -arch=${arch} (not probed)`,
    limits: { ...limits, computeCapability: computeCapability(arch) },
  };
  return new GpuBackend(info, limits, null, async () => 'render-only GPU backend (created with probe: false): there is no device to measure on');
}

/** nvidia-smi still lists the GPU within a timeout. */
export function nvidiaSmiHealth(index: number, command: string): GpuHealthCheck {
  return async () => {
    try {
      const out = await runChild(command, ['--query-gpu=name', '--format=csv,noheader', '-i', String(index)], { timeoutMs: HEALTH_TIMEOUT_MS });
      if (out.timedOut) return `GPU ${index} stopped answering: ${command} took longer than ${HEALTH_TIMEOUT_MS} ms`;
      if (out.code !== 0) return `GPU ${index} stopped answering: ${command} says ${(out.stdout + out.stderr).trim().split('\n')[0]}`;
      return null;
    } catch (err) {
      return `GPU ${index} stopped answering: ${command} cannot be run (${(err as Error).message})`;
    }
  };
}

export class GpuBackend implements Backend {
  readonly kind = 'gpu' as const;
  readonly template = gpuTemplate;
  readonly limits: DeviceLimits;
  private lost: string | null = null;

  constructor(private readonly info: DeviceInfo, limits: GpuLimits, private readonly inner: CompiledBackend | null, private readonly health: GpuHealthCheck) {
    this.limits = { ...limits };
  }

  describe(): DeviceInfo { return this.info; }

  /** False once the device stopped answering (or when nothing can be measured: render only). */
  get healthy(): boolean { return this.inner !== null && this.lost === null; }
  get unhealthyReason(): string | null { return this.inner ? this.lost : 'render only (probe: false)'; }

  source(def: ComputeDef, config: Config): string {
    return cudaProgram(def, lower(def, gpuTemplate, config, this.limits), `config: ${JSON.stringify(config)}`);
  }

  async measure(candidate: Candidate, protocol: TimingProtocol): Promise<MeasureResult> {
    if (!this.inner) return this.failure(candidate, 'DEVICE_LOST', (await this.health()) ?? 'no device');
    if (this.lost) return this.failure(candidate, 'DEVICE_LOST', this.lost);
    const result = await this.inner.measure(candidate, protocol);
    if (result.error && SUSPECT.includes(result.error.code)) {
      const problem = await this.health();
      if (problem) {
        this.lost = problem;
        return { ...result, error: { code: 'DEVICE_LOST', message: `${problem} (the run said: ${result.error.message})` } };
      }
    }
    return result;
  }

  async reference(def: ComputeDef, protocol: TimingProtocol): Promise<ReferenceTiming> {
    if (!this.inner || this.lost) throw new GpuUnavailableError(this.unhealthyReason ?? 'no device');
    return this.inner.reference(def, protocol);
  }

  async library(def: ComputeDef, protocol: TimingProtocol): Promise<LibraryTiming> {
    if (!this.inner || this.lost) return { missing: `no GPU to time the library on: ${this.unhealthyReason ?? 'no device'}` };
    return this.inner.library(def, protocol);
  }

  private failure(candidate: Candidate, code: ErrorCode, message: string): MeasureResult {
    return {
      candidateId: candidate.id, ...(candidate.campaign ? { campaign: candidate.campaign } : {}),
      workload: candidate.workload, target: candidate.target, config: candidate.config,
      seconds: [], median: null, error: { code, message }, device: this.info, toolchain: this.info.toolchain,
      at: new Date().toISOString(),
    };
  }
}
