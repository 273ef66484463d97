// The CPU backend: C + OpenMP rendered from the CPU template, built with gcc, timed in a child.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { ComputeDef } from '../../../tensor/compute.ts';
import { hasPrepare, type Stmt } from '../../../tensor/ir.ts';
import { cpuTemplate, DEFAULT_MAX_ACCUMULATOR } from '../../../tensor/templates/cpu.ts';
import { CompiledBackend, type CompiledBackendOptions, type RetimePolicy } from '../../measure.ts';
import type { DeviceInfo } from '../../../contracts/result.ts';
import { renderHarness } from '../../c-harness.ts';
import { CpuRenderer } from '../../cpu-renderer.ts';
import { compilerVersion } from '../../toolchain.ts';
import type { LibraryMeasure } from '../../../contracts/backend.ts';
import { measureFmaPeak } from './fma-peak.ts';
import { capSimd, hostCpuFlags, hostSimd } from './host-simd.ts';

// Where it was first defined; the C compiler check now serves every C backend (agent/toolchain.ts).
export { compilerVersion } from '../../toolchain.ts';

// No predictive commoning: it carries loads across reduce iterations through the stack when the
// register tile already holds the reuse (measured on a stride-2 convolution: 25 % slower with it).
export const CPU_FLAGS = ['-O3', '-march=native', '-fopenmp', '-std=gnu11', '-fno-predictive-commoning'];

export interface CpuBackendOptions {
  cacheDir: string;
  /** OpenMP threads for timing runs (default: all cores). */
  threads?: number;
  /** C compiler (default gcc). */
  compiler?: string;
  /** Address-space limit of each kernel run (default 8 GiB). */
  memoryBytes?: number;
  sourceFilter?: CompiledBackendOptions['sourceFilter'];
  /** Floats per explicit vector (default: the host's, from its CPU flags). */
  vectorWidth?: number;
  /** The widest vector ISA to use (capSimd), default the host's widest. */
  isa?: string;
  /** When a noisy timing is timed again (default RETIME in agent/measure.ts). */
  retime?: RetimePolicy;
  /** The host's vendor libraries at a workload's shape (the yardstick's library figure). */
  library?: LibraryMeasure;
  /** false: no FP32 peak microbenchmark at start() (default true). */
  measurePeak?: boolean;
}

/** The C program for a nest: the kernel followed by the harness. */
export function cpuProgram(def: ComputeDef, nest: Stmt, note?: string, vectorWidth = hostSimd().vectorWidth): string {
  const renderer = new CpuRenderer({ vectorWidth });
  return renderer.renderKernel(def, nest, note) + renderHarness(def, renderer.kernelName, hasPrepare(nest) ? renderer.prepareName : undefined);
}

export function createCpuBackend(options: CpuBackendOptions): CompiledBackend {
  const command = options.compiler ?? 'gcc';
  const version = compilerVersion(command);
  const threads = options.threads ?? os.availableParallelism();
  const capped = options.isa ? capSimd(hostCpuFlags(), options.isa) : null;
  const simd = capped?.simd ?? hostSimd();
  const flags = [...CPU_FLAGS, ...(capped?.compilerFlags ?? [])];
  const vectorWidth = options.vectorWidth ?? simd.vectorWidth;
  const limits = { maxAccumulator: DEFAULT_MAX_ACCUMULATOR, isa: simd.isa, vectorWidth, vectorRegisters: simd.vectorRegisters, threads };
  const device: DeviceInfo = {
    kind: 'cpu', name: os.hostname(), model: cpuModel(), cores: threads, memoryBytes: os.totalmem(),
    toolchain: `${version} ${flags.join(' ')}`, limits,
  };
  const compiler = { command, flags, libs: ['-lm'], extension: '.c', version };
  return new CompiledBackend({
    kind: 'cpu', template: cpuTemplate, limits, device, cacheDir: options.cacheDir,
    ...(options.library ? { library: options.library } : {}),
    ...(options.measurePeak === false ? {} : { peak: () => measureFmaPeak({ compiler, cacheDir: options.cacheDir, threads, vectorWidth, isa: simd.isa }) }),
    toolchain: {
      compiler,
      program: (def, nest, note) => cpuProgram(def, nest, note, vectorWidth),
      runEnv: { OMP_NUM_THREADS: String(threads) },
    },
    memoryBytes: options.memoryBytes ?? 8 * 1024 ** 3,
    maxParallelCompiles: Math.max(1, os.availableParallelism()),
    sourceFilter: options.sourceFilter,
    retime: options.retime,
  });
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    return line ? line.split(':')[1].trim() : os.cpus()[0]?.model ?? 'unknown CPU';
  } catch {
    return os.cpus()[0]?.model ?? 'unknown CPU';
  }
}
