// Backends by device kind, as `--target` / `--device` select them: each kind's agent-side spec
// (backend-spec.ts: its flags and how its backend is made) lives in its own folder; the four
// built-in ones are listed here, others added by registerBackend from the module that defines
// the kind.
import type { Backend } from '../../contracts/backend.ts';
import { FlexfarmError } from '../../contracts/errors.ts';
import { TARGET_KINDS } from '../../contracts/targets.ts';
import type { AgentFlag, BackendOptions, BackendSpec, FlagValues, LocalDevice } from './backend-spec.ts';
import { cpuBackendSpec } from './cpu/cpu-target.ts';
import { fpgaBackendSpec } from './fpga/fpga-target.ts';
import { gpuBackendSpec } from './gpu/gpu-target.ts';
import { simBackendSpec } from './sim/sim-target.ts';

export type { AgentFlag, BackendOptions, BackendSpec, FlagValues, LocalDevice } from './backend-spec.ts';

export class UnknownTargetError extends FlexfarmError {
  override name = 'UnknownTargetError';
  readonly code = 'UNKNOWN_TARGET';
  constructor(readonly target: string) {
    super(`unknown target '${target}' (known: ${TARGET_KINDS.join(', ')})`);
  }
}

export class DuplicateBackendError extends FlexfarmError {
  override name = 'DuplicateBackendError';
  readonly code = 'DUPLICATE_BACKEND';
}

/** A kind's flag that cannot be: a malformed name, or one another kind declares with another type. */
export class AgentFlagError extends FlexfarmError {
  override name = 'AgentFlagError';
  readonly code = 'AGENT_FLAG';
}

const SPECS = new Map<string, BackendSpec>([cpuBackendSpec, simBackendSpec, gpuBackendSpec, fpgaBackendSpec].map((s) => [s.kind, s]));

/** Adds the agent-side spec of a kind (registered in contracts/targets.ts too); returns its remover. */
export function registerBackend(spec: BackendSpec): () => void {
  if (SPECS.has(spec.kind)) throw new DuplicateBackendError(`a backend for '${spec.kind}' is already registered`);
  for (const flag of spec.flags) checkFlag(spec.kind, flag);
  SPECS.set(spec.kind, spec);
  return () => { if (SPECS.get(spec.kind) === spec) SPECS.delete(spec.kind); };
}

function checkFlag(kind: string, flag: AgentFlag): void {
  if (!/^[a-z][a-z0-9-]*$/.test(flag.name)) throw new AgentFlagError(`${kind}: flag name '${flag.name}' must be lower-case letters, digits and '-'`);
  const other = agentFlags().find((f) => f.flag.name === flag.name && f.flag.type !== flag.type);
  if (other) throw new AgentFlagError(`${kind}: flag --${flag.name} is ${other.kind}'s already, as ${other.flag.type === 'integer' ? 'an integer' : 'a string'}`);
}

/** Every registered kind's flags, in the order of TARGET_KINDS (live: registered kinds join). */
export function agentFlags(): { kind: string; flag: AgentFlag }[] {
  return TARGET_KINDS.flatMap((kind) => SPECS.get(kind)?.flags.map((flag) => ({ kind, flag })) ?? []);
}

/** The backend of a kind; `flags` holds its agent flags' values by name (others are ignored),
 *  the declared defaults filling what is absent. */
export function createBackend(kind: string, options: BackendOptions, flags: FlagValues = {}): Backend {
  const spec = SPECS.get(kind);
  if (!spec) throw new UnknownTargetError(kind);
  const values: Record<string, number | string | undefined> = { ...flags };
  for (const f of spec.flags) values[f.name] ??= f.default;
  return spec.create(options, values);
}

/** What each registered kind found on this host, in the order of TARGET_KINDS; a kind that
 *  declares no detection is not found. */
export function localDevices(): { kind: string; device: LocalDevice }[] {
  return TARGET_KINDS.flatMap((kind) => {
    const spec = SPECS.get(kind);
    if (!spec) return [];
    return [{ kind, device: spec.detect?.() ?? { found: false, detail: `declares no detection: started only when named (--devices ${kind})` } }];
  });
}
