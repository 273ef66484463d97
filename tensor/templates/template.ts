// A template turns a config (one choice per knob) into a loop nest for one kind of target.
import type { ComputeDef } from '../compute.ts';
import type { Stmt } from '../ir.ts';

/** A config as it travels: knob name → chosen entity (factors, an index, a pair). */
export type Config = Record<string, number | number[]>;

/** One sub-space: a named list of choices the explorer moves through. */
export interface Knob {
  name: string;
  /** `split`: factor lists (directions move a factor between two parts); others: ±1 cyclic. */
  kind: 'split' | 'choice';
  entities: (number | number[])[];
  /** For split knobs: the axis it splits and that axis's extent. */
  axis?: { name: string; extent: number; reduce: boolean };
}

/** Limits an agent reports for its device; templates check configs against them. */
export interface DeviceLimits {
  /** CPU: largest register-tile accumulator (floats) the template may allocate. */
  maxAccumulator?: number;
  /** CPU: floats per vector register and the number of vector registers (from the host's flags).
   *  With them, explorers look only at register tiles of whole vectors that fit the registers. */
  vectorWidth?: number;
  vectorRegisters?: number;
  isa?: string;
  /** CPU: threads that run each kernel (the parallel level needs at least that many tiles). */
  threads?: number;
  /** GPU */
  maxThreadsPerBlock?: number;
  maxThreadsDim?: [number, number, number];
  maxSharedMemoryPerBlock?: number;
  maxRegistersPerThread?: number;
  /** Further limits of other targets (FPGA budgets, …). */
  [name: string]: unknown;
}

export interface TemplateOptions {
  /** FlexTensor's original space: split factors divide the extent exactly (no guarded tails). */
  exactSplits?: boolean;
}

export interface Template {
  target: string;
  knobs(def: ComputeDef, options?: TemplateOptions): Knob[];
  /** Throws InstantiationError naming the knob when the config is outside the space or the limits. */
  check(def: ComputeDef, config: Config, limits: DeviceLimits): void;
  lower(def: ComputeDef, config: Config): Stmt;
  /** Why a valid config is not worth measuring on a device with these limits (it runs, but a rule
   *  of the hardware says it is slow: a register tile that spills, idle threads), or null. Explorers
   *  skip such configs; agents still measure them when asked. */
  unpromising?(def: ComputeDef, config: Config, limits: DeviceLimits): string | null;
}
