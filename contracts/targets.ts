// The target registry: one spec per device kind, read by every list of kinds and by shared code
// wherever it used to branch on a kind's name (tinygrad's Renderer: the backend declares what it
// can do, shared code only reads it). The backends themselves, and the agent flags they take, are
// declared on the agent side (agent/backends/<kind>/<kind>-target.ts). A kind beyond the built-in
// four is added with registerTarget (and registerBackend on the agent side) by the module that
// defines it, touching no shared file.
import { FlexfarmError } from './errors.ts';
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

/** The built-in kinds, in the order the command line lists them. */
const BUILTIN_TARGETS = [
  { kind: 'cpu', template: cpuTemplate, sourceExtension: '.c', defaultCapacity: C_AGENT, inflightTimeoutMs: 300_000, exportable: true, simulated: false },
  // sim models a CPU: it explores the classic CPU template (FlexTensor's space, without layout
  // knobs), and exports the CPU kernel of its config.
  { kind: 'sim', template: cpuClassicTemplate, sourceExtension: '.c', defaultCapacity: { capacity: 16, concurrency: 1 }, inflightTimeoutMs: 60_000, exportable: true, simulated: true },
  { kind: 'gpu', template: gpuTemplate, sourceExtension: '.cu', defaultCapacity: C_AGENT, inflightTimeoutMs: 300_000, exportable: false, simulated: false },
  // An FPGA candidate may be a C synthesis: hours, not minutes.
  { kind: 'fpga', template: fpgaTemplate, sourceExtension: '.cpp', defaultCapacity: C_AGENT, inflightTimeoutMs: 3_600_000, exportable: false, simulated: false },
] as const satisfies readonly TargetSpec[];

/**
 * Names of kinds registered beyond the built-in ones, for the type checker: the module that
 * registers a kind adds it by declaration merging,
 *   declare module '…/contracts/targets.ts' { interface RegisteredTargetKinds { abacus: true } }
 */
export interface RegisteredTargetKinds {}

/** Device kinds an agent can serve. */
export type TargetKind = (typeof BUILTIN_TARGETS)[number]['kind'] | Extract<keyof RegisteredTargetKinds, string>;

const targets: TargetSpec[] = [...BUILTIN_TARGETS];
const kinds: TargetKind[] = BUILTIN_TARGETS.map((t) => t.kind);

/** Every kind's spec, built-in first, then as registered; live (registerTarget adds to it). */
export const TARGETS: readonly TargetSpec[] = targets;

/** Every kind's name, in the order of TARGETS; live. */
export const TARGET_KINDS: readonly TargetKind[] = kinds;

export function isTargetKind(value: string): value is TargetKind {
  return (TARGET_KINDS as readonly string[]).includes(value);
}

/** The spec of a kind; undefined for a name that is none (records and wire input are untrusted). */
export function targetSpec(kind: string): TargetSpec | undefined {
  return targets.find((t) => t.kind === kind);
}

export class TargetRegistrationError extends FlexfarmError {
  override name = 'TargetRegistrationError';
  readonly code = 'TARGET_REGISTRATION';
}

/** Adds a device kind; returns the function that removes it again (tests). Its name is what
 *  `--target`, the wire and the log carry, so it must be new and look like the others. */
export function registerTarget(spec: TargetSpec & { kind: TargetKind }): () => void {
  if (!/^[a-z][a-z0-9-]*$/.test(spec.kind)) throw new TargetRegistrationError(`target name '${spec.kind}' must be lower-case letters, digits and '-'`);
  if (targetSpec(spec.kind)) throw new TargetRegistrationError(`target '${spec.kind}' is already registered`);
  targets.push(spec);
  kinds.push(spec.kind);
  return () => {
    const i = targets.indexOf(spec);
    if (i < 0) return;
    targets.splice(i, 1);
    kinds.splice(kinds.indexOf(spec.kind), 1);
  };
}
