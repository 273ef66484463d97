// The FPGA backend: HLS C++ from the FPGA template, proven correct by C simulation (the same
// source compiled with g++, pragmas ignored, run against the unscheduled reference), timed by an
// estimate — Vitis HLS C synthesis when `vitis_hls` is installed, else the analytical model.
// Every result says `estimated: true` and names its estimator; seconds = cycles / clock.
import type { Backend, ReferenceTiming } from '../../../contracts/backend.ts';
import { FlexfarmError } from '../../../contracts/errors.ts';
import type { Candidate, DeviceInfo, ErrorCode, MeasureResult, TimingProtocol } from '../../../contracts/result.ts';
import type { ComputeDef } from '../../../tensor/compute.ts';
import { InstantiationError } from '../../../tensor/errors.ts';
import { defineFromKey } from '../../../tensor/ops/registry.ts';
import { checkPlan, fpgaTemplate } from '../../../tensor/templates/fpga.ts';
import { planFpga, type FpgaPlan } from '../../../tensor/templates/fpga-plan.ts';
import { DSP_PER_MAC, overBudget, type FpgaBudget } from '../../../tensor/templates/fpga-resources.ts';
import type { Config, DeviceLimits } from '../../../tensor/templates/template.ts';
import { lower } from '../../../tensor/lower.ts';
import type { Stmt } from '../../../tensor/ir.ts';
import { CompiledBackend, type CompiledBackendOptions } from '../../measure.ts';
import { renderHarness } from '../../c-harness.ts';
import { compilerVersion, ToolchainMissingError } from '../../toolchain.ts';
import type { Estimator, FpgaEstimate } from './estimate.ts';
import { estimateFromReports } from './hls-report.ts';
import { hlsKernel } from './hls-renderer.ts';
import { computeLoopLabel, estimatePlan, estimateReference, MODEL_VERSION } from './model.ts';
import { DEFAULT_FPGA_PART, fpgaPart, peakGflops, type FpgaPart } from './parts.ts';
import { synthesise, SynthesisError, vitisHlsVersion } from './vitis-hls.ts';

export const CSIM_FLAGS = ['-O2', '-std=c++14', '-w'];
const CSIM_MIN_TIMEOUT_MS = 120_000;
/** A C synthesis takes minutes to hours: its own limit, not the compile timeout of the protocol. */
export const DEFAULT_SYNTHESIS_TIMEOUT_MS = 3_600_000;
export const MAX_CLOCK_MHZ = 1000;

export interface FpgaBackendOptions {
  /** C simulation binaries, reference outputs and HLS projects are cached here. */
  cacheDir: string;
  /** Part name (`xcvu9p`, …) or full part number. */
  part?: string;
  clockMhz?: number;
  /** `auto` (default): vitis_hls when installed, else the model. */
  estimator?: 'auto' | Estimator;
  /** The Vitis HLS command (default `vitis_hls`). */
  vitisHls?: string;
  /** false: skip C simulation (estimates only, e.g. for model benchmarks on large shapes). */
  csim?: boolean;
  /** C++ compiler of the C simulation (default g++). */
  compiler?: string;
  memoryBytes?: number;
  /** Time allowed to one C synthesis (default 1 hour). */
  synthesisTimeoutMs?: number;
  sourceFilter?: CompiledBackendOptions['sourceFilter'];
}

/** An option value that cannot work (a clock out of range). */
export class FpgaOptionError extends FlexfarmError {
  override name = 'FpgaOptionError';
  readonly code = 'FPGA_OPTION';
}

export class FpgaBackend implements Backend {
  readonly kind = 'fpga' as const;
  readonly template = fpgaTemplate;
  readonly limits: DeviceLimits;
  readonly estimator: Estimator;
  private readonly csim: CompiledBackend | null;
  private readonly device: DeviceInfo;

  constructor(
    readonly part: FpgaPart,
    readonly clockMhz: number,
    private readonly options: FpgaBackendOptions & { estimator: Estimator; compilerVersion: string; vitisVersion: string | null },
  ) {
    this.estimator = options.estimator;
    const budget: FpgaBudget = { dsp: part.dsp, bram18: part.bram18, lut: part.lut, ff: part.ff, uram: part.uram };
    this.limits = { ...budget, clockMhz };
    const estimatorName = this.estimator === 'vitis_hls' ? options.vitisVersion ?? 'vitis_hls' : MODEL_VERSION;
    const toolchain = `${options.csim === false ? 'no C simulation' : `${options.compilerVersion} (C simulation)`} + ${estimatorName}`;
    this.device = {
      kind: 'fpga', name: part.name,
      model: `${part.description} (${part.partNumber}) at ${clockMhz} MHz, estimated by ${this.estimator === 'vitis_hls' ? 'Vitis HLS synthesis' : 'the analytical model'}`,
      // cores: DSP slices (the FPGA's arithmetic units); memory: the board's off-chip memory.
      cores: part.dsp, memoryBytes: part.memoryBytes, peakGflops: peakGflops(part, clockMhz, DSP_PER_MAC),
      peakSource: `spec: DSP bound of ${part.partNumber} (${part.dsp} DSPs ÷ ${DSP_PER_MAC} per FP32 MAC × 2 FLOP × ${clockMhz} MHz)`,
      toolchain, limits: { ...this.limits },
    };
    this.csim = options.csim === false ? null : new CompiledBackend({
      kind: 'fpga', template: fpgaTemplate, limits: this.limits, device: this.device, cacheDir: options.cacheDir,
      toolchain: {
        compiler: { command: options.compiler ?? 'g++', flags: CSIM_FLAGS, libs: ['-lm'], extension: '.cpp', version: options.compilerVersion },
        program: csimProgram,
      },
      memoryBytes: options.memoryBytes ?? 8 * 1024 ** 3,
      maxParallelCompiles: 2,
      sourceFilter: options.sourceFilter,
      timing: false,
    });
  }

  describe(): DeviceInfo { return this.device; }

  /** The HLS C++ of a config: the top function alone (what `codegen` prints and synthesis reads). */
  source(def: ComputeDef, config: Config): string {
    return hlsKernel(def, lower(def, this.template, config, this.limits), `config: ${JSON.stringify(config)}`).source;
  }

  async measure(candidate: Candidate, protocol: TimingProtocol): Promise<MeasureResult> {
    const base = {
      candidateId: candidate.id, ...(candidate.campaign ? { campaign: candidate.campaign } : {}),
      workload: candidate.workload, target: candidate.target, config: candidate.config,
      device: this.device, toolchain: this.device.toolchain, estimated: true, estimator: this.estimator,
    };
    const failed = (code: ErrorCode, message: string): MeasureResult =>
      ({ ...base, seconds: [], median: null, error: { code, message }, at: new Date().toISOString() });
    let def: ComputeDef, plan: FpgaPlan;
    try {
      if (candidate.target !== this.kind) throw new InstantiationError(`this agent measures 'fpga', not '${candidate.target}'`);
      def = defineFromKey(candidate.workload);
      plan = planFpga(def, candidate.config);
      checkPlan(plan, this.limits);
    } catch (err) {
      return failed('INSTANTIATION', (err as Error).message);
    }
    if (this.csim) {
      // C simulation runs the kernel once on the host, far slower than the FPGA would: a hang, not
      // a slow kernel, is what its timeout must catch.
      const checked = await this.csim.measure(candidate, { ...protocol, runTimeoutMs: Math.max(protocol.runTimeoutMs, CSIM_MIN_TIMEOUT_MS) });
      if (checked.error) return failed(checked.error.code, `C simulation: ${checked.error.message}`);
    }
    let estimate: FpgaEstimate;
    try {
      estimate = await this.estimate(def, plan, candidate.config);
    } catch (err) {
      if (err instanceof InstantiationError) return failed('INSTANTIATION', err.message);
      if (err instanceof SynthesisError) return failed(err.timedOut ? 'BUILD_TIMEOUT' : 'COMPILE', err.message);
      return failed('UNKNOWN', `estimate failed: ${(err as Error).message}`);
    }
    const r = estimate.resources;
    return {
      ...base, seconds: [estimate.seconds], median: estimate.seconds, number: 1, error: null,
      estimator: estimate.estimator,
      estimate: { cycles: estimate.cycles, clockMhz: estimate.clockMhz, ii: estimate.ii, dsp: r.dsp, bram18: r.bram18, lut: r.lut, ff: r.ff, uram: r.uram },
      at: new Date().toISOString(),
    };
  }

  /** The estimate of a valid plan: synthesis (over budget → InstantiationError) or the model. */
  async estimate(def: ComputeDef, plan: FpgaPlan, config: Config): Promise<FpgaEstimate> {
    if (this.estimator === 'model') return estimatePlan(plan, { part: this.part, clockMhz: this.clockMhz });
    const { source, top } = hlsKernel(def, fpgaTemplate.lower(def, config), `config: ${JSON.stringify(config)}`);
    const reports = await synthesise(source, top, {
      command: this.options.vitisHls ?? 'vitis_hls', partNumber: this.part.partNumber, clockMhz: this.clockMhz,
      cacheDir: this.options.cacheDir, timeoutMs: this.options.synthesisTimeoutMs ?? DEFAULT_SYNTHESIS_TIMEOUT_MS,
    });
    const estimate = estimateFromReports(reports, this.clockMhz, computeLoopLabel(plan));
    const problem = overBudget(estimate.resources, this.limits as Partial<FpgaBudget>);
    if (problem) throw new InstantiationError(`synthesised design over the FPGA budget: ${problem}`);
    return estimate;
  }

  /** The unscheduled operator's estimated time on this part (the model; nothing is run). */
  async reference(def: ComputeDef, _protocol: TimingProtocol): Promise<ReferenceTiming> {
    const { seconds } = estimateReference(def, { part: this.part, clockMhz: this.clockMhz });
    return { seconds, gflops: def.flops / seconds / 1e9 };
  }
}

/** C simulation program: the HLS top function, then the shared harness, compiled as C++. */
export function csimProgram(def: ComputeDef, nest: Stmt, note?: string): string {
  const { source, top } = hlsKernel(def, nest, note);
  return source + renderHarness(def, top);
}

export function createFpgaBackend(options: FpgaBackendOptions): FpgaBackend {
  const part = fpgaPart(options.part ?? DEFAULT_FPGA_PART);
  const clockMhz = options.clockMhz ?? part.defaultClockMhz;
  if (!Number.isFinite(clockMhz) || clockMhz <= 0 || clockMhz > MAX_CLOCK_MHZ) {
    throw new FpgaOptionError(`--clock-mhz must be a number in (0, ${MAX_CLOCK_MHZ}], got ${options.clockMhz}`);
  }
  const csim = options.csim !== false;
  let gxx = 'none';
  if (csim) {
    try {
      gxx = compilerVersion(options.compiler ?? 'g++');
    } catch (err) {
      if (!(err instanceof ToolchainMissingError)) throw err;
      throw new ToolchainMissingError(`C simulation needs a C++ compiler: '${options.compiler ?? 'g++'}' not found (Debian: apt-get install -y g++)`);
    }
  }
  const wanted = options.estimator ?? 'auto';
  const vitisVersion = wanted === 'model' ? null : vitisHlsVersion(options.vitisHls ?? 'vitis_hls');
  if (wanted === 'vitis_hls' && !vitisVersion) {
    throw new FpgaOptionError(`estimator vitis_hls asked for, but '${options.vitisHls ?? 'vitis_hls'}' is not installed (or not on PATH)`);
  }
  const estimator: Estimator = wanted === 'model' ? 'model' : vitisVersion ? 'vitis_hls' : 'model';
  return new FpgaBackend(part, clockMhz, { ...options, estimator, compilerVersion: gxx, vitisVersion });
}
