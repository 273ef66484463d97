// What a device backend offers the agent: a description, a template and measurement.
import type { ComputeDef } from '../tensor/compute.ts';
import type { Config, DeviceLimits, Template } from '../tensor/templates/template.ts';
import type { Candidate, DeviceInfo, MeasureResult, TimingProtocol } from './result.ts';

export interface ReferenceTiming {
  /** Median seconds of the unscheduled reference kernel on this device. */
  seconds: number;
  gflops: number;
}

/** The vendor library at a workload's shape on this device (OpenBLAS, oneDNN, cuBLAS, …), or why
 *  there is no figure. */
export type LibraryTiming = { library: string; seconds: number } | { missing: string };

/** Times the vendor library at a workload's shape; supplied to a backend by whoever knows the
 *  host's libraries (the CLI wires bench/anchors for the host CPU). */
export type LibraryMeasure = (def: ComputeDef, protocol: TimingProtocol) => Promise<LibraryTiming>;

export interface Backend {
  kind: Candidate['target'];
  template: Template;
  limits: DeviceLimits;
  describe(): DeviceInfo;
  /** Measure one candidate. Never throws for a bad candidate: errors are result codes. */
  measure(candidate: Candidate, protocol: TimingProtocol): Promise<MeasureResult>;
  /** The unscheduled reference kernel's timing, for speedups (cached per workload). */
  reference(def: ComputeDef, protocol: TimingProtocol): Promise<ReferenceTiming>;
  /** The vendor library's timing at this shape on this device, under the same timing lock as
   *  candidates; absent: the backend knows no library (results then say so). */
  library?(def: ComputeDef, protocol: TimingProtocol): Promise<LibraryTiming>;
  /** Called once before the agent serves: e.g. the CPU's FP32 peak microbenchmark, after which
   *  describe() carries peakGflops and peakSource. */
  start?(log?: (line: string) => void): Promise<void>;
  /** The source the backend would compile for a config (what `flexfarm codegen` prints). */
  source(def: ComputeDef, config: Config): string;
  close?(): Promise<void>;
}
