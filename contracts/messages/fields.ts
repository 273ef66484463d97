// Typed readers over an untrusted JSON value: each returns the field with its type or throws
// MessageError naming the field. The message validators are written with these alone.
import { quote } from './limits.ts';
import { MessageError, type DropReason } from './message-error.ts';

export type JsonObject = Record<string, unknown>;

const decoder = new TextDecoder();

/** The JSON value of a message's bytes, at most `maxBytes` of them. */
export function parseJson(data: Uint8Array, field: string, maxBytes: number): unknown {
  if (data.length > maxBytes) throw new MessageError(field, `is ${data.length} bytes (at most ${maxBytes})`, 'too_large');
  try {
    return JSON.parse(decoder.decode(data));
  } catch (err) {
    throw new MessageError(field, `is not JSON (${(err as Error).message})`, 'not_json');
  }
}

export function object(value: unknown, field: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MessageError(field, `must be an object, got ${kindOf(value)}`);
  return value as JsonObject;
}

export function string(value: unknown, field: string, maxChars: number, pattern?: RegExp): string {
  if (typeof value !== 'string') throw new MessageError(field, `must be a string, got ${kindOf(value)}`);
  if (value.length > maxChars) throw new MessageError(field, `is ${value.length} characters long (at most ${maxChars})`);
  if (pattern && !pattern.test(value)) throw new MessageError(field, `${quote(value)} is not allowed (${pattern.source})`);
  return value;
}

export function boolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new MessageError(field, `must be true or false, got ${kindOf(value)}`);
  return value;
}

/** A finite number in [min, max]; `reason` labels the drop (times are 'bad_time'). */
export function number(value: unknown, field: string, min: number, max: number, reason: DropReason = 'malformed'): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new MessageError(field, `must be a finite number, got ${kindOf(value)}`, reason);
  if (value < min || value > max) throw new MessageError(field, `must be from ${min} to ${max}, got ${value}`, reason);
  return value;
}

export function integer(value: unknown, field: string, min: number, max: number): number {
  const n = number(value, field, min, max);
  if (!Number.isInteger(n)) throw new MessageError(field, `must be an integer, got ${n}`);
  return n;
}

/** A time in seconds: finite and above zero, at most `max`. */
export function seconds(value: unknown, field: string, max: number): number {
  const s = number(value, field, -Infinity, max, 'bad_time');
  if (s <= 0) throw new MessageError(field, `must be a time above 0 s, got ${s}`, 'bad_time');
  return s;
}

export function array(value: unknown, field: string, maxLength: number): unknown[] {
  if (!Array.isArray(value)) throw new MessageError(field, `must be an array, got ${kindOf(value)}`);
  if (value.length > maxLength) throw new MessageError(field, `has ${value.length} entries (at most ${maxLength})`);
  return value;
}

/** Reads `obj[key]` with `read` when present (not undefined); undefined otherwise. */
export function optional<T>(obj: JsonObject, key: string, read: (value: unknown) => T): T | undefined {
  return obj[key] === undefined ? undefined : read(obj[key]);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `a string ${quote(value)}`;
  if (typeof value === 'number') return String(value);
  return typeof value === 'object' ? 'an object' : typeof value;
}
