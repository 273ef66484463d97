// What a device kind declares on the agent side, in its own folder: the flags `flexfarm agent`
// takes for it and how its backend is made. The agent CLI reads the flags for parsing and for its
// usage text; createBackend (index.ts) calls `create`. What both sides know of the kind (template,
// capacity, timeouts) is its TargetSpec in contracts/targets.ts, under the same name.
import type { Backend, LibraryMeasure } from '../../contracts/backend.ts';
import type { TargetKind } from '../../contracts/targets.ts';

export interface AgentFlag {
  /** Without its dashes (`gpu-index`); its environment variable is envName(name). */
  name: string;
  type: 'integer' | 'string';
  /** integer: the smallest value accepted (default 0). */
  min?: number;
  /** What the value is called in the usage text (default N for an integer, VALUE else). */
  metavar?: string;
  /** One line for the usage text, after `<kind>: `. */
  help: string;
  /** The value when neither the flag nor its variable is given; undefined: the backend decides. */
  default?: number | string;
  /** How the usage text names a default the backend decides (`all cores`). */
  defaultText?: string;
}

/** Flag values by flag name (`threads`, `gpu-index`), defaults filled in; absent ones undefined. */
export type FlagValues = Readonly<Record<string, number | string | undefined>>;

/** What every kind's backend is made with, whatever its flags. */
export interface BackendOptions {
  /** Binaries and reference outputs are cached here. */
  cacheDir: string;
  /** Only render and check configs (codegen): no device, driver or compiler is needed. */
  renderOnly?: boolean;
  /** The host CPU's vendor libraries at a workload's shape (the CLI wires bench/anchors): a
   *  backend whose kernels run on the host CPU offers them as its yardstick's library figure. */
  hostCpuLibrary?: LibraryMeasure;
}

/** Whether this host has a device of the kind (`flexfarm farm up` starts an agent for each one
 *  found), and what was found or why none was, in a few words. */
export interface LocalDevice { found: boolean; detail: string }

export interface BackendSpec {
  kind: TargetKind;
  /** The flags `flexfarm agent` accepts for this kind, in usage order. */
  flags: readonly AgentFlag[];
  create(options: BackendOptions, flags: FlagValues): Backend;
  /** Looks for the device on this host, quickly; absent: never started unless asked for. */
  detect?(): LocalDevice;
}

/** The environment variable a flag can come from: `gpu-index` → FLEXFARM_GPU_INDEX. */
export const envName = (flag: string): string => `FLEXFARM_${flag.toUpperCase().replace(/-/g, '_')}`;

/** An integer flag's value; undefined when absent. */
export function integerFlag(values: FlagValues, name: string): number | undefined {
  const value = values[name];
  if (value !== undefined && typeof value !== 'number') throw new TypeError(`flag '${name}' must be a number, got ${JSON.stringify(value)}`);
  return value;
}

/** A string flag's value; undefined when absent. */
export function stringFlag(values: FlagValues, name: string): string | undefined {
  const value = values[name];
  if (value !== undefined && typeof value !== 'string') throw new TypeError(`flag '${name}' must be a string, got ${JSON.stringify(value)}`);
  return value;
}
