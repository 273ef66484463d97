// DeviceInfo and Config as they arrive in messages: every field typed and bounded.
import type { Config } from '../../tensor/templates/template.ts';
import type { DeviceInfo } from '../result.ts';
import { isTargetKind, TARGET_KINDS } from '../targets.ts';
import { integer, number, object, optional, string, type JsonObject } from './fields.ts';
import { LIMITS, quote } from './limits.ts';
import { MessageError } from './message-error.ts';

export function readTarget(value: unknown, field: string): DeviceInfo['kind'] {
  const kind = string(value, field, 64);
  if (!isTargetKind(kind)) throw new MessageError(field, `unknown device class ${quote(kind)} (known: ${TARGET_KINDS.join(', ')})`);
  return kind;
}

export function readDevice(value: unknown, field: string): DeviceInfo {
  const d = object(value, field);
  const text = (key: string) => string(d[key], `${field}.${key}`, LIMITS.textChars);
  const peakGflops = optional(d, 'peakGflops', (v) => number(v, `${field}.peakGflops`, 0, 1e9));
  const peakSource = optional(d, 'peakSource', (v) => string(v, `${field}.peakSource`, LIMITS.textChars));
  const limits = d.limits === undefined ? {} : object(d.limits, `${field}.limits`);
  if (JSON.stringify(limits).length > LIMITS.configJsonBytes) throw new MessageError(`${field}.limits`, `is over ${LIMITS.configJsonBytes} bytes`, 'too_large');
  return {
    kind: readTarget(d.kind, `${field}.kind`), name: text('name'), model: text('model'),
    cores: integer(d.cores, `${field}.cores`, 0, 1e7), memoryBytes: number(d.memoryBytes, `${field}.memoryBytes`, 0, 2 ** 64),
    ...(peakGflops === undefined ? {} : { peakGflops }), ...(peakSource === undefined ? {} : { peakSource }), toolchain: text('toolchain'), limits,
  };
}

/** A config: knob name → a finite number or an array of them, within the size limits. */
export function readConfig(value: unknown, field: string): Config {
  const c: JsonObject = object(value, field);
  const knobs = Object.keys(c);
  if (knobs.length > LIMITS.configKnobs) throw new MessageError(field, `has ${knobs.length} knobs (at most ${LIMITS.configKnobs})`, 'too_large');
  for (const knob of knobs) {
    const entity = c[knob];
    if (knob.length > 128) throw new MessageError(field, `knob name ${quote(knob)} is too long`);
    const ok = (typeof entity === 'number' && Number.isFinite(entity))
      || (Array.isArray(entity) && entity.length <= LIMITS.configEntityLength && entity.every((x) => typeof x === 'number' && Number.isFinite(x)));
    if (!ok) throw new MessageError(`${field}.${knob}`, 'must be a finite number or an array of them');
  }
  return c as Config;
}
