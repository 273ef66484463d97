// The records that travel: a candidate to measure and its result. A failed candidate is a
// result with an error code, never an exception.
import type { Config } from '../tensor/templates/template.ts';
import type { TargetKind } from './targets.ts';
import type { TimingSpread } from './timing-spread.ts';
import type { Yardstick } from './yardstick.ts';

export const ERROR_CODES = [
  'INSTANTIATION', 'COMPILE', 'RUNTIME', 'WRONG_ANSWER', 'BUILD_TIMEOUT', 'RUN_TIMEOUT', 'DEVICE_LOST', 'UNKNOWN',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Device kinds an agent can serve (contracts/targets.ts); `sim` is an analytical landscape, never a real device. */
export type { TargetKind };

export interface Candidate {
  /** Unique per campaign; results are applied once per id. */
  id: string;
  campaign?: string;
  /** Canonical workload key (tensor/ops/registry.ts). */
  workload: string;
  target: TargetKind;
  config: Config;
}

export interface DeviceInfo {
  kind: TargetKind;
  name: string;
  model: string;
  cores: number;
  memoryBytes: number;
  /** Peak FP32 GFLOP/s, when known. */
  peakGflops?: number;
  /** Where `peakGflops` comes from: "measured: …" (a microbenchmark at start-up) or "spec: …"
   *  (a datasheet or model figure). */
  peakSource?: string;
  toolchain: string;
  limits: Record<string, unknown>;
}

/** TVM's protocol: one discarded warm-up, then `repeat` repeats of `number` runs each, with
 *  `number` raised until a repeat lasts `minRepeatMs`. */
export interface TimingProtocol {
  repeat: number;
  minRepeatMs: number;
  /** Limits: a build and a run that take longer are BUILD_TIMEOUT and RUN_TIMEOUT. */
  buildTimeoutMs: number;
  runTimeoutMs: number;
}

export const DEFAULT_PROTOCOL: TimingProtocol = { repeat: 3, minRepeatMs: 100, buildTimeoutMs: 60_000, runTimeoutMs: 10_000 };

export interface MeasureResult {
  candidateId: string;
  campaign?: string;
  workload: string;
  target: TargetKind;
  config: Config;
  /** Mean seconds of one run, per repeat. Empty on error. */
  seconds: number[];
  median: number | null;
  /** Runs per repeat that the protocol settled on. */
  number?: number;
  /** Spread of `seconds` (min, median, max, coefficient of variation); absent on error. */
  spread?: TimingSpread;
  /** The host's 1-minute load average just before the candidate was timed; absent where nothing
   *  was timed on a host (sim, FPGA estimates). */
  loadAverage?: number;
  /** Present when the first timing's spread was above the agent's threshold and the candidate
   *  was timed again with more repeats (`seconds` above): that first timing. */
  retimed?: { seconds: number[]; cv: number };
  error: null | { code: ErrorCode; message: string };
  device: DeviceInfo;
  toolchain: string;
  /** True for the `sim` target: an analytical landscape, not a device measurement. */
  simulated?: boolean;
  /** True when the figure is an estimate (FPGA model or HLS report), with the estimator named. */
  estimated?: boolean;
  estimator?: string;
  /** FPGA: what the estimate behind `seconds` consists of. */
  estimate?: HardwareEstimate;
  /** The agent's reference and library timings for this workload (contracts/yardstick.ts). */
  yardstick?: Yardstick;
  /** ISO timestamp. */
  at: string;
}

/** An FPGA estimate in flat numbers: cycles at a clock, the compute pipeline's achieved II, and
 *  the resources used (DSP slices, 18 Kb block RAMs, LUTs, flip-flops, UltraRAMs). */
export interface HardwareEstimate {
  cycles: number; clockMhz: number; ii: number;
  dsp: number; bram18: number; lut: number; ff: number; uram: number;
}

export function median(values: number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
