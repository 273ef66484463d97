// The target registry: one spec per device kind, read by every list of kinds and by shared code
// wherever it used to branch on a kind's name (tinygrad's Renderer: the backend declares what it
// can do, shared code only reads it). The backends themselves are created on the agent side
// (agent/backends/index.ts).
import { cpuClassicTemplate, cpuTemplate } from '../tensor/templates/cpu.ts';
import { fpgaTemplate } from '../tensor/templates/fpga.ts';
import { gpuTemplate } from '../tensor/templates/gpu.ts';
import type { Template } from '../tensor/templates/template.ts';

export interface TargetSpec {
  /** The name of `--target`, `--device`, the wire's `target` and the log's `target`. */
  kind: string;
  /** The template the coordinator explores for this kind. */
  template: Template;
  /** Of the kernel source `flexfarm tune` writes. */
  sourceExtension: string;
  /** Candidates an agent asks to keep in flight, and measures at once, unless told otherwise. */
  defaultCapacity: { capacity: number; concurrency: number };
  /** How long the coordinator waits for a dispatched candidate before requeueing it. */
  inflightTimeoutMs: number;
  /** `flexfarm export` can write its best kernel as standalone C. */
  exportable: boolean;
  /** An analytical landscape, not a device: its figures are marked simulated. */
  simulated: boolean;
}

const C_AGENT = { capacity: 4, concurrency: 2 };

/** In the order the command line lists them. */
export const TARGETS = [
  { kind: 'cpu', template: cpuTemplate, sourceExtension: '.c', defaultCapacity: C_AGENT, inflightTimeoutMs: 300_000, exportable: true, simulated: false },
  // sim models a CPU: it explores the classic CPU template (FlexTensor's space, without layout
  // knobs), and exports the CPU kernel of its config.
  { kind: 'sim', template: cpuClassicTemplate, sourceExtension: '.c', defaultCapacity: { capacity: 16, concurrency: 1 }, inflightTimeoutMs: 60_000, exportable: true, simulated: true },
  { kind: 'gpu', template: gpuTemplate, sourceExtension: '.cu', defaultCapacity: C_AGENT, inflightTimeoutMs: 300_000, exportable: false, simulated: false },
  // An FPGA candidate may be a C synthesis: hours, not minutes.
  { kind: 'fpga', template: fpgaTemplate, sourceExtension: '.cpp', defaultCapacity: C_AGENT, inflightTimeoutMs: 3_600_000, exportable: false, simulated: false },
] as const satisfies readonly TargetSpec[];

/** Device kinds an agent can serve. */
export type TargetKind = (typeof TARGETS)[number]['kind'];

export const TARGET_KINDS: readonly TargetKind[] = TARGETS.map((t) => t.kind);

export function isTargetKind(value: string): value is TargetKind {
  return (TARGET_KINDS as readonly string[]).includes(value);
}

/** The spec of a kind; undefined for a name that is none (records and wire input are untrusted). */
export function targetSpec(kind: string): TargetSpec | undefined {
  return TARGETS.find((t) => t.kind === kind);
}
