// The anchors: library kernels measured in the same run as flexfarm's, on the same inputs, with
// the same timing protocol. Each program spot-checks its own output against naive sums, so a
// library called wrongly shows up as a failure instead of a flattering (or unflattering) ratio.
import { runChild } from '../../agent/child-process.ts';
import { median, type TimingProtocol } from '../../contracts/result.ts';
import type { ComputeDef } from '../../tensor/compute.ts';
import { tolerance } from '../../tensor/data.ts';
import { hostCpuFlags } from '../../agent/backends/cpu/host-simd.ts';
import { AnchorBuildError, buildAnchor, linksWith, type BuildOptions } from './build.ts';

export type AnchorLibrary = 'openblas' | 'onednn';

export interface LibrarySpec {
  name: string;
  libs: string[];
  /** Debian package that provides it. */
  debian: string;
  /** Compiles and links only when the library is installed. */
  probe: string;
}

export const LIBRARIES: Record<AnchorLibrary, LibrarySpec> = {
  openblas: {
    name: 'OpenBLAS', libs: ['-lopenblas'], debian: 'libopenblas-dev',
    probe: '#include <cblas.h>\nint main(void) { return openblas_get_corename() == 0; }\n',
  },
  onednn: {
    name: 'oneDNN', libs: ['-ldnnl'], debian: 'libdnnl-dev',
    probe: '#include <dnnl.h>\nint main(void) { return dnnl_version()->major < 1; }\n',
  },
};

export interface AnchorSpec {
  /** C source bench/anchors/<program>.c. */
  program: string;
  library: AnchorLibrary;
  /** Operators it computes, with flexfarm's layouts and shape parameter names. */
  ops: string[];
  label: string;
  /** The shape arguments it reads (default: the workload's own parameters). */
  shapeArgs?: (def: ComputeDef) => Record<string, number>;
  /** It reads per-axis strides and pads (stride_w, pad_h, …); others refuse such workloads. */
  perAxis?: boolean;
}

/** A per-axis stride or pad that differs from `stride` or `pad` (the 2-D convolutions' stride_w, …). */
export function hasPerAxisWindow(def: ComputeDef): boolean {
  return Object.entries(def.params).some(([name, value]) => /^(stride|pad)_[a-z]$/.test(name) && value !== def.params[name.split('_')[0]]);
}

/** Every convolution family as one generic shape (onednn-conv.c): rank, transposed, N, C, K,
 *  groups, stride, pad, dilation, input extents X0.., taps R0.., per-axis strides S0.. and pads
 *  P0.., read off the tensors and parameters. */
export function convArgs(def: ComputeDef): Record<string, number> {
  const [input, weights] = def.inputs;
  const [N, C, ...X] = input.shape;
  const rank = X.length;
  const Y = def.output.shape.slice(-rank);
  const K = def.output.shape.reduce((a, b) => a * b, 1) / (N * Y.reduce((a, b) => a * b, 1));
  const transposed = def.op.startsWith('conv_transpose');
  const taps = weights.shape.slice(-rank);
  // W[G, K/G, C/G, R..] grouped, W[K, C, R..] ungrouped, W[K, R..] depthwise (one channel a group).
  const extra = weights.shape.length - rank;
  const groups = transposed ? 1 : extra === 3 ? weights.shape[0] : extra === 2 ? C / weights.shape[1] : C;
  const args: Record<string, number> = {
    rank, transposed: transposed ? 1 : 0, N, C, K, groups,
    stride: def.params.stride ?? 1, pad: def.params.pad ?? 0, dilation: def.params.dilation ?? 1,
  };
  // Per-axis strides and pads (stride_w, pad_h, … of the 2-D families), where the workload has them.
  const axisNames = ['d', 'h', 'w'].slice(3 - rank);
  X.forEach((x, d) => {
    args[`X${d}`] = x; args[`R${d}`] = taps[d];
    args[`S${d}`] = (rank > 1 ? def.params[`stride_${axisNames[d]}`] : undefined) ?? args.stride;
    args[`P${d}`] = (rank > 1 ? def.params[`pad_${axisNames[d]}`] : undefined) ?? args.pad;
  });
  return args;
}

const CONV_FAMILIES = ['conv1d', 'conv2d', 'conv3d', 'grouped_conv2d', 'depthwise_conv2d', 'dilated_conv2d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d'];

export const ANCHORS: readonly AnchorSpec[] = [
  { program: 'openblas-sgemm', library: 'openblas', ops: ['gemm'], label: 'OpenBLAS sgemm' },
  { program: 'onednn-sgemm', library: 'onednn', ops: ['gemm'], label: 'oneDNN dnnl_sgemm' },
  { program: 'openblas-conv2d', library: 'openblas', ops: ['conv2d'], label: 'OpenBLAS im2col+sgemm' },
  { program: 'onednn-conv', library: 'onednn', ops: CONV_FAMILIES, label: 'oneDNN convolution', shapeArgs: convArgs, perAxis: true },
];

/** SkylakeX's kernels on a CPU with the AVX-512 subsets they use (OpenBLAS 0.3.21 does not
 *  recognise CPUs newer than itself and would fall back to slower ones); otherwise none, and
 *  OpenBLAS detects the core itself. Forcing SkylakeX on an AVX2-only CPU kills it with SIGILL. */
export function openblasCoretypeFor(flags: readonly string[]): string | undefined {
  const set = new Set(flags);
  return ['avx512f', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => set.has(f)) ? 'SkylakeX' : undefined;
}

/** The libraries' own caps for an ISA cap of ours (capSimd): oneDNN's dispatcher limit and the
 *  OpenBLAS kernel set of a CPU with that ISA, so that both sides run code of the same width. */
const LIBRARY_ISA_CAPS: Record<string, { ONEDNN_MAX_CPU_ISA: string; OPENBLAS_CORETYPE: string }> = {
  avx512f: { ONEDNN_MAX_CPU_ISA: 'AVX512_CORE', OPENBLAS_CORETYPE: 'SkylakeX' },
  avx2: { ONEDNN_MAX_CPU_ISA: 'AVX2', OPENBLAS_CORETYPE: 'Haswell' },
  avx: { ONEDNN_MAX_CPU_ISA: 'AVX', OPENBLAS_CORETYPE: 'SandyBridge' },
  sse2: { ONEDNN_MAX_CPU_ISA: 'SSE41', OPENBLAS_CORETYPE: 'Nehalem' },
};

export function libraryIsaCaps(isa: string): { ONEDNN_MAX_CPU_ISA: string; OPENBLAS_CORETYPE: string } {
  const caps = LIBRARY_ISA_CAPS[isa];
  if (!caps) throw new RangeError(`no library caps for ISA '${isa}' (known: ${Object.keys(LIBRARY_ISA_CAPS).join(', ')})`);
  return caps;
}

export function anchorsFor(op: string): AnchorSpec[] {
  return ANCHORS.filter((a) => a.ops.includes(op));
}

export type AnchorOutcome =
  | {
    status: 'ok'; spec: AnchorSpec;
    /** What the program reports about itself: library, version, core or ISA, layouts. */
    library: string; detail: string;
    seconds: number[]; median: number; gflops: number; number: number;
    /** Output elements compared with naive sums, and the largest difference. */
    checked: number; maxAbsErr: number;
  }
  | { status: 'not-installed'; spec: AnchorSpec; message: string }
  | { status: 'failed'; spec: AnchorSpec; message: string };

export interface AnchorRunnerOptions extends BuildOptions {
  /** Threads for every library (OpenMP and OpenBLAS). */
  threads: number;
  /** Environment the programs start from (the bench entry passes its own). */
  baseEnv: NodeJS.ProcessEnv;
  /** OpenBLAS kernel set (OPENBLAS_CORETYPE). Default: the environment's, else one the CPU's
   *  flags can run (openblasCoretypeFor), else OpenBLAS's own detection. */
  openblasCoretype?: string;
  /** The host's CPU flags (default: /proc/cpuinfo), for the default core type. */
  cpuFlags?: readonly string[];
  /** Caps both libraries at this ISA (libraryIsaCaps), as ours is capped (capSimd). */
  isa?: string;
  runTimeoutMs?: number;
  /** Output elements each anchor checks. */
  samples?: number;
  /** Replaces entries of LIBRARIES (tests: a library that is not installed). */
  libraries?: Partial<Record<AnchorLibrary, LibrarySpec>>;
}

interface AnchorReport {
  ok: boolean; code?: string; message?: string; library?: string; detail?: string;
  checked?: number; maxAbsErr?: number; number?: number; seconds?: number[];
}

export class AnchorRunner {
  private readonly installed = new Map<AnchorLibrary, Promise<boolean>>();
  private readonly binaries = new Map<string, Promise<string>>();

  constructor(private readonly options: AnchorRunnerOptions) {}

  /** The environment anchors run in: the thread count for every runtime, the OpenBLAS core. */
  env(): NodeJS.ProcessEnv {
    const threads = String(this.options.threads);
    const coretype = this.options.openblasCoretype ?? this.options.baseEnv.OPENBLAS_CORETYPE
      ?? openblasCoretypeFor(this.options.cpuFlags ?? hostCpuFlags());
    const env: NodeJS.ProcessEnv = { ...this.options.baseEnv, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads };
    if (coretype) env.OPENBLAS_CORETYPE = coretype;
    else delete env.OPENBLAS_CORETYPE;
    return this.options.isa ? { ...env, ...libraryIsaCaps(this.options.isa) } : env;
  }

  library(library: AnchorLibrary): LibrarySpec {
    return this.options.libraries?.[library] ?? LIBRARIES[library];
  }

  isInstalled(library: AnchorLibrary): Promise<boolean> {
    let found = this.installed.get(library);
    if (!found) {
      const spec = this.library(library);
      found = linksWith(spec.probe, spec.libs, library, this.options);
      this.installed.set(library, found);
    }
    return found;
  }

  async measure(spec: AnchorSpec, def: ComputeDef, protocol: TimingProtocol): Promise<AnchorOutcome> {
    if (!spec.ops.includes(def.op)) throw new TypeError(`anchor ${spec.program} does not compute ${def.op}`);
    if (!spec.perAxis && hasPerAxisWindow(def)) return { status: 'failed', spec, message: `${spec.label} takes one stride and pad for all axes` };
    const lib = this.library(spec.library);
    if (!(await this.isInstalled(spec.library))) {
      return { status: 'not-installed', spec, message: `${lib.name} not installed (Debian: apt-get install -y ${lib.debian})` };
    }
    let binary: string;
    try {
      binary = await this.binary(spec);
    } catch (err) {
      if (err instanceof AnchorBuildError) return { status: 'failed', spec, message: err.message };
      throw err;
    }
    const { atol, rtol } = tolerance(def.reduce.reduce((n, a) => n * a.extent, 1));
    const args = [
      '--repeat', String(protocol.repeat), '--min-repeat-ms', String(protocol.minRepeatMs),
      '--atol', String(atol), '--rtol', String(rtol), '--samples', String(this.options.samples ?? 256),
      ...Object.entries(spec.shapeArgs?.(def) ?? def.params).map(([name, value]) => `${name}=${value}`),
    ];
    const timeoutMs = this.options.runTimeoutMs ?? 120_000;
    const outcome = await runChild(binary, args, { timeoutMs, env: this.env() });
    if (outcome.timedOut) return { status: 'failed', spec, message: `did not finish within ${timeoutMs} ms` };
    if (outcome.signal) return { status: 'failed', spec, message: `crashed with ${outcome.signal}` };
    let report: AnchorReport | undefined;
    try { report = JSON.parse(outcome.stdout.trim().split('\n').pop() ?? '') as AnchorReport; } catch { /* below */ }
    if (!report) {
      return { status: 'failed', spec, message: `exit ${outcome.code}, no report${outcome.stderr.trim() ? `: ${outcome.stderr.trim().slice(-300)}` : ''}` };
    }
    if (!report.ok || !report.seconds?.length) {
      return { status: 'failed', spec, message: `${report.code ?? 'RUNTIME'}: ${report.message ?? 'no timing'}` };
    }
    const seconds = median(report.seconds)!;
    return {
      status: 'ok', spec, library: report.library ?? spec.label, detail: report.detail ?? '',
      seconds: report.seconds, median: seconds, gflops: def.flops / seconds / 1e9, number: report.number ?? 0,
      checked: report.checked ?? 0, maxAbsErr: report.maxAbsErr ?? NaN,
    };
  }

  private binary(spec: AnchorSpec): Promise<string> {
    let built = this.binaries.get(spec.program);
    if (!built) {
      built = buildAnchor(spec.program, this.library(spec.library).libs, this.options);
      this.binaries.set(spec.program, built);
    }
    return built;
  }
}
