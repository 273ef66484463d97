// Finding and describing an NVIDIA GPU: nvidia-smi says whether one is there (and its driver and
// clocks), a small probe program built with nvcc reads its compute capability, SMs, memory and
// limits through the CUDA runtime. Every step has a timeout, and every failure is a
// GpuUnavailableError or GpuToolchainError with a message that says what to do.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlexfarmError } from '../../../contracts/errors.ts';
import { DEFAULT_GPU_LIMITS, type GpuLimits } from '../../../tensor/templates/gpu.ts';

/** No usable NVIDIA GPU: no driver, no device, a wrong index, or a device that does not answer. */
export class GpuUnavailableError extends FlexfarmError {
  override name = 'GpuUnavailableError';
  readonly code = 'GPU_UNAVAILABLE';
}
/** nvcc is missing or cannot compile for the device. */
export class GpuToolchainError extends FlexfarmError {
  override name = 'GpuToolchainError';
  readonly code = 'GPU_TOOLCHAIN';
}

export interface SmiInfo { index: number; name: string; memoryMiB: number; maxSmClockMHz: number; driver: string }

export interface ProbeInfo {
  name: string;
  /** e.g. '9.0' */
  computeCapability: string;
  sms: number;
  memoryBytes: number;
  clockMHz: number;
  /** CUDA versions as the runtime reports them, e.g. 12080 for 12.8. */
  driverVersion: number;
  runtimeVersion: number;
  limits: GpuLimits;
}

export interface NvccInfo { command: string; version: string; archs: string[] }

/** CUDA numbers devices fastest first; nvidia-smi by PCI bus. This makes --gpu-index mean the same to both. */
export function deviceEnv(index: number): Record<string, string> {
  return { CUDA_DEVICE_ORDER: 'PCI_BUS_ID', CUDA_VISIBLE_DEVICES: String(index) };
}

const SMI_FIELDS = 'index,name,memory.total,clocks.max.sm,driver_version';

/** Parses `nvidia-smi --query-gpu=${SMI_FIELDS} --format=csv,noheader,nounits` output. */
export function parseNvidiaSmi(text: string): SmiInfo[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== 5 || !/^\d+$/.test(cells[0])) throw new GpuUnavailableError(`cannot read nvidia-smi output line '${line}'`);
    const number = (c: string) => (/^\d+(\.\d+)?$/.test(c) ? Number(c) : 0); // "[N/A]" on some boards
    return { index: Number(cells[0]), name: cells[1], memoryMiB: number(cells[2]), maxSmClockMHz: number(cells[3]), driver: cells[4] };
  });
}

/** The GPU at `index` as nvidia-smi lists it; GpuUnavailableError when there is none. */
export function queryNvidiaSmi(index: number, options: { command?: string; timeoutMs?: number } = {}): SmiInfo {
  const command = options.command ?? 'nvidia-smi';
  const timeoutMs = options.timeoutMs ?? 15_000;
  let text: string;
  try {
    text = execFileSync(command, [`--query-gpu=${SMI_FIELDS}`, '--format=csv,noheader,nounits'], {
      encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string; signal?: string };
    if (e.code === 'ENOENT') {
      throw new GpuUnavailableError(`no NVIDIA GPU found: ${command} is not installed (it comes with the NVIDIA driver)`);
    }
    if (e.code === 'ETIMEDOUT' || e.signal === 'SIGKILL') {
      throw new GpuUnavailableError(`no NVIDIA GPU found: ${command} did not answer within ${timeoutMs} ms`);
    }
    const said = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n')[0] || e.message;
    throw new GpuUnavailableError(`no NVIDIA GPU found: ${command} failed: ${said}`);
  }
  const gpus = parseNvidiaSmi(text);
  if (!gpus.length) throw new GpuUnavailableError(`no NVIDIA GPU found: ${command} lists no GPU`);
  const gpu = gpus.find((g) => g.index === index);
  if (!gpu) {
    throw new GpuUnavailableError(`no NVIDIA GPU with index ${index}: ${command} lists ${gpus.map((g) => `${g.index} (${g.name})`).join(', ')}`);
  }
  return gpu;
}

/** nvcc's version and the architectures it compiles for; GpuToolchainError when it is missing. */
export function nvccInfo(command = 'nvcc'): NvccInfo {
  try {
    const version = execFileSync(command, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    const release = /release [\d.]+, V([\d.]+)/.exec(version)?.[1] ?? version.trim().split('\n').pop() ?? 'unknown';
    const list = execFileSync(command, ['--list-gpu-arch'], { encoding: 'utf8', timeout: 30_000 });
    const archs = [...list.matchAll(/compute_(\d+)/g)].map((m) => m[1]);
    return { command, version: `nvcc ${release}`, archs };
  } catch (err) {
    throw new GpuToolchainError(`nvcc '${command}' cannot be run (${(err as Error).message.split('\n')[0]}): install the CUDA toolkit and put nvcc on PATH`);
  }
}

/** `-arch` flags for a compute capability: native code when nvcc knows it, else PTX of the newest it knows. */
export function archFlags(nvcc: NvccInfo, computeCapability: string): string[] {
  const [major, minor] = computeCapability.split('.');
  const want = `${major}${minor}`;
  if (nvcc.archs.includes(want)) return [`-arch=sm_${want}`];
  const newest = nvcc.archs.map(Number).sort((a, b) => b - a)[0];
  if (newest !== undefined && Number(want) > newest) return [`-arch=compute_${newest}`]; // the driver JIT-compiles PTX
  throw new GpuToolchainError(`${nvcc.version} cannot compile for compute capability ${computeCapability} (it supports ${nvcc.archs.map((a) => `sm_${a}`).join(', ')}); install a CUDA toolkit that does`);
}

/** The probe: one JSON line with the properties of CUDA device 0 (the one CUDA_VISIBLE_DEVICES leaves). */
export const PROBE_SOURCE = `#include <cuda_runtime.h>
#include <stdio.h>
int main(void) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e == cudaSuccess && count == 0) e = cudaErrorNoDevice;
  cudaDeviceProp p;
  if (e == cudaSuccess) e = cudaGetDeviceProperties(&p, 0);
  if (e != cudaSuccess) {
    printf("{\\"ok\\":false,\\"message\\":\\"%s: %s\\"}\\n", cudaGetErrorName(e), cudaGetErrorString(e));
    return 1;
  }
  int clock_khz = 0, driver = 0, runtime = 0;
  cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, 0);
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  printf("{\\"ok\\":true,\\"name\\":\\"%s\\",\\"major\\":%d,\\"minor\\":%d,\\"sms\\":%d,\\"memoryBytes\\":%zu,"
         "\\"sharedMemPerBlock\\":%zu,\\"maxThreadsPerBlock\\":%d,\\"maxThreadsDim\\":[%d,%d,%d],\\"maxGridSize\\":[%d,%d,%d],"
         "\\"clockKHz\\":%d,\\"driverVersion\\":%d,\\"runtimeVersion\\":%d}\\n",
         p.name, p.major, p.minor, p.multiProcessorCount, p.totalGlobalMem, p.sharedMemPerBlock, p.maxThreadsPerBlock,
         p.maxThreadsDim[0], p.maxThreadsDim[1], p.maxThreadsDim[2], p.maxGridSize[0], p.maxGridSize[1], p.maxGridSize[2],
         clock_khz, driver, runtime);
  return 0;
}
`;

/** Reads the probe's JSON line; GpuUnavailableError when it reports a failure or is unreadable. */
export function parseProbe(text: string): ProbeInfo {
  const line = text.trim().split('\n').pop() ?? '';
  let r: Record<string, unknown>;
  try { r = JSON.parse(line) as Record<string, unknown>; } catch {
    throw new GpuUnavailableError(`no usable NVIDIA GPU: the device probe printed '${text.trim().slice(0, 200)}'`);
  }
  if (r.ok !== true) throw new GpuUnavailableError(`no usable NVIDIA GPU: ${String(r.message ?? 'the device probe failed')}`);
  const num = (k: string) => {
    if (typeof r[k] !== 'number') throw new GpuUnavailableError(`device probe output lacks '${k}': ${line}`);
    return r[k] as number;
  };
  const triple = (k: string) => {
    const a = r[k];
    if (!Array.isArray(a) || a.length !== 3 || !a.every((x) => typeof x === 'number')) throw new GpuUnavailableError(`device probe output lacks '${k}': ${line}`);
    return a as [number, number, number];
  };
  return {
    name: String(r.name), computeCapability: `${num('major')}.${num('minor')}`, sms: num('sms'), memoryBytes: num('memoryBytes'),
    clockMHz: Math.round(num('clockKHz') / 1000), driverVersion: num('driverVersion'), runtimeVersion: num('runtimeVersion'),
    limits: {
      maxThreadsPerBlock: num('maxThreadsPerBlock'), maxThreadsDim: triple('maxThreadsDim'), maxGridSize: triple('maxGridSize'),
      maxSharedMemoryPerBlock: num('sharedMemPerBlock'), maxRegistersPerThread: DEFAULT_GPU_LIMITS.maxRegistersPerThread,
    },
  };
}

/** Builds the probe once per nvcc version (cached in cacheDir) and runs it on GPU `index`. */
export function runProbe(options: { nvcc: NvccInfo; cacheDir: string; index: number; timeoutMs?: number }): ProbeInfo {
  const { nvcc, index } = options;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const dir = join(options.cacheDir, 'gpu-probe');
  const hash = createHash('sha256').update(PROBE_SOURCE).update(nvcc.version).digest('hex').slice(0, 16);
  const binary = join(dir, `probe-${hash}`);
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    const source = join(dir, `probe-${hash}.cu`), tmp = `${binary}.${process.pid}.tmp`;
    writeFileSync(source, PROBE_SOURCE);
    try {
      execFileSync(nvcc.command, ['-O2', source, '-o', tmp], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new GpuToolchainError(`${nvcc.version} cannot build the device probe: ${(e.stderr || e.message).trim().split('\n')[0]}`);
    }
    renameSync(tmp, binary);
  }
  let text: string;
  try {
    text = execFileSync(binary, [], {
      encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', env: { ...process.env, ...deviceEnv(index) }, stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; signal?: string };
    if (e.code === 'ETIMEDOUT' || e.signal === 'SIGKILL') throw new GpuUnavailableError(`no usable NVIDIA GPU: the device probe did not answer within ${timeoutMs} ms`);
    text = e.stdout ?? '';
  }
  return parseProbe(text);
}
