// What a device backend offers the agent: a description, a template and measurement.
import type { ComputeDef } from '../tensor/compute.ts';
import type { Config, DeviceLimits, Template } from '../tensor/templates/template.ts';
import type { Candidate, DeviceInfo, MeasureResult, TimingProtocol } from './result.ts';

export interface ReferenceTiming {
  /** Median seconds of the unscheduled reference kernel on this device. */
  seconds: number;
  gflops: number;
}

export interface Backend {
  kind: Candidate['target'];
  template: Template;
  limits: DeviceLimits;
  describe(): DeviceInfo;
  /** Measure one candidate. Never throws for a bad candidate: errors are result codes. */
  measure(candidate: Candidate, protocol: TimingProtocol): Promise<MeasureResult>;
  /** The unscheduled reference kernel's timing, for speedups (cached per workload). */
  reference(def: ComputeDef, protocol: TimingProtocol): Promise<ReferenceTiming>;
  /** The source the backend would compile for a config (what `flexfarm codegen` prints). */
  source(def: ComputeDef, config: Config): string;
  close?(): Promise<void>;
}
