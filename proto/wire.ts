// Conversions between the records the code works with (contracts/result.ts) and the generated wire
// messages. Hand-written, unlike its neighbours. Decoding validates: a malformed field throws
// WireError naming it, which servers turn into INVALID_ARGUMENT.
import { FlexfarmError } from '../contracts/errors.ts';
import { CAMPAIGN_ID_PATTERN, CANDIDATE_ID_PATTERN, LIMITS, PROTOCOL_LIMITS, quote } from '../contracts/messages/limits.ts';
import type { Candidate, DeviceInfo, MeasureResult, TimingProtocol } from '../contracts/result.ts';
import { isTargetKind, TARGET_KINDS } from '../contracts/targets.ts';
import type { Config } from '../tensor/templates/template.ts';
import type * as pb from './flexfarm/v1/common.ts';

export class WireError extends FlexfarmError {
  override name = 'WireError';
  readonly code = 'WIRE';
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

export function candidateToWire(c: Candidate): pb.Candidate {
  return { id: c.id, campaign: c.campaign ?? '', workload: c.workload, target: c.target, configJson: JSON.stringify(c.config) };
}

/** `where` names the candidate in errors, e.g. `candidates[3]`. */
export function candidateFromWire(c: pb.Candidate, where = 'candidate'): Candidate {
  if (!c.id) throw new WireError(`${where}.id`, 'is empty');
  if (c.id.length > LIMITS.candidateIdChars) throw new WireError(`${where}.id`, `is ${c.id.length} characters long (at most ${LIMITS.candidateIdChars})`);
  if (!CANDIDATE_ID_PATTERN.test(c.id)) throw new WireError(`${where}.id`, `${quote(c.id)} holds whitespace or control characters`);
  // The campaign becomes a NATS subject token when the result is published: checked before it is measured.
  if (c.campaign && !CAMPAIGN_ID_PATTERN.test(c.campaign)) {
    throw new WireError(`${where}.campaign`, `${quote(c.campaign)} is not a campaign id (letters, digits, - and _, at most 64)`);
  }
  if (!c.workload) throw new WireError(`${where}.workload`, 'is empty');
  if (c.workload.length > LIMITS.workloadChars) throw new WireError(`${where}.workload`, `is ${c.workload.length} characters long (at most ${LIMITS.workloadChars})`);
  if (!isTargetKind(c.target)) {
    throw new WireError(`${where}.target`, `unknown device class ${quote(c.target)} (expected one of ${TARGET_KINDS.join(', ')})`);
  }
  if (c.configJson.length > LIMITS.configJsonBytes) throw new WireError(`${where}.config_json`, `is ${c.configJson.length} bytes (at most ${LIMITS.configJsonBytes})`);
  return {
    id: c.id, ...(c.campaign ? { campaign: c.campaign } : {}), workload: c.workload, target: c.target,
    config: configFromJson(c.configJson, `${where}.config_json`),
  };
}

export function configFromJson(text: string, field: string): Config {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new WireError(field, `is not JSON (${(err as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new WireError(field, 'must be a JSON object (knob → entity)');
  for (const [knob, entity] of Object.entries(value)) {
    const ok = typeof entity === 'number' || (Array.isArray(entity) && entity.every((x) => typeof x === 'number'));
    if (!ok) throw new WireError(field, `knob '${knob}' must be a number or an array of numbers`);
  }
  return value as Config;
}

/** Zero fields of a wire protocol take the defaults' values. */
export function protocolFromWire(p: pb.TimingProtocol | undefined, defaults: TimingProtocol): TimingProtocol {
  if (!p) return defaults;
  const pick = (value: number, fallback: number, field: string, { min, max }: { min: number; max: number }): number => {
    if (!Number.isFinite(value) || value < 0) throw new WireError(`protocol.${field}`, `must be a finite number >= 0, got ${value}`);
    if (value && (value < min || value > max)) throw new WireError(`protocol.${field}`, `must be from ${min} to ${max} (0: the default), got ${value}`);
    return value || fallback;
  };
  return {
    repeat: pick(p.repeat, defaults.repeat, 'repeat', PROTOCOL_LIMITS.repeat),
    minRepeatMs: pick(p.minRepeatMs, defaults.minRepeatMs, 'min_repeat_ms', PROTOCOL_LIMITS.minRepeatMs),
    buildTimeoutMs: pick(p.buildTimeoutMs, defaults.buildTimeoutMs, 'build_timeout_ms', PROTOCOL_LIMITS.buildTimeoutMs),
    runTimeoutMs: pick(p.runTimeoutMs, defaults.runTimeoutMs, 'run_timeout_ms', PROTOCOL_LIMITS.runTimeoutMs),
  };
}

export function protocolToWire(p: Partial<TimingProtocol> | undefined): pb.TimingProtocol | undefined {
  if (!p) return undefined;
  return { repeat: p.repeat ?? 0, minRepeatMs: p.minRepeatMs ?? 0, buildTimeoutMs: p.buildTimeoutMs ?? 0, runTimeoutMs: p.runTimeoutMs ?? 0 };
}

export function deviceToWire(d: DeviceInfo): pb.DeviceInfo {
  return {
    kind: d.kind, name: d.name, model: d.model, cores: d.cores, memoryBytes: d.memoryBytes,
    ...(d.peakGflops !== undefined ? { peakGflops: d.peakGflops } : {}),
    toolchain: d.toolchain, limitsJson: JSON.stringify(d.limits ?? {}),
  };
}

export function deviceFromWire(d: pb.DeviceInfo | undefined): DeviceInfo {
  if (!d) throw new WireError('device', 'is missing');
  let limits: Record<string, unknown> = {};
  try { limits = d.limitsJson ? JSON.parse(d.limitsJson) as Record<string, unknown> : {}; } catch { throw new WireError('device.limits_json', 'is not JSON'); }
  return {
    kind: isTargetKind(d.kind) ? d.kind : 'sim', name: d.name, model: d.model, cores: d.cores, memoryBytes: d.memoryBytes,
    ...(d.peakGflops !== undefined ? { peakGflops: d.peakGflops } : {}),
    toolchain: d.toolchain, limits,
  };
}

export function resultToWire(r: MeasureResult, agent = ''): pb.MeasureResult {
  return {
    candidateId: r.candidateId, campaign: r.campaign ?? '', workload: r.workload, target: r.target,
    configJson: JSON.stringify(r.config), seconds: r.seconds,
    ...(r.median !== null ? { median: r.median } : {}),
    ...(r.number !== undefined ? { number: r.number } : {}),
    ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : {}),
    device: deviceToWire(r.device), toolchain: r.toolchain, simulated: !!r.simulated, estimated: !!r.estimated,
    estimator: r.estimator ?? '', at: r.at, agent,
    ...(r.spread ? { spread: r.spread } : {}),
    ...(r.loadAverage !== undefined ? { loadAverage: r.loadAverage } : {}),
    ...(r.retimed ? { retimed: r.retimed } : {}),
  };
}
