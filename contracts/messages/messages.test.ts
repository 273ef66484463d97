// The contract layer's validators: what the bus hands over is typed and bounded, and what is
// refused names the field and the reason the drop metric counts.
import { describe, expect, it } from 'vitest';
import { fitForBus } from './fit-result.ts';
import { readHeartbeat } from './heartbeat.ts';
import { MessageError } from './message-error.ts';
import { decodeResultEnvelope, readResult } from './result.ts';

const device = { kind: 'sim', name: 'h', model: 'm', cores: 1, memoryBytes: 1, toolchain: 't', limits: {} };
const result = { candidateId: 'c1/sim/0', campaign: 'c1', workload: 'w', target: 'sim', config: { 'split.m': [1, 2] }, seconds: [1e-3, 2e-3], median: 1.5e-3, error: null, device, toolchain: 't', at: 'now' };
const heartbeat = { name: 'a-1', address: '127.0.0.1:1', device, capacity: 2, maxBatch: 8, load: { queued: 0, measuring: 0, unpublished: 0 }, held: [], startedAt: 's', intervalMs: 1000 };

function refusal(fn: () => unknown): MessageError {
  try { fn(); } catch (err) { if (err instanceof MessageError) return err; throw err; }
  throw new Error('accepted');
}

describe('results', () => {
  it('accepts a well-formed result', () => expect(readResult(result)).toMatchObject(result));
  it.each([
    [{ seconds: [0], median: 0 }, 'bad_time', /result.seconds\[0\]: must be a time above 0 s/],
    [{ seconds: [-1], median: -1 }, 'bad_time', /above 0 s/],
    [{ median: 5 }, 'bad_time', /outside its seconds/],
    [{ median: null }, 'bad_time', /needs a median/],
    [{ config: null }, 'malformed', /result.config: must be an object, got null/],
    [{ device: null }, 'malformed', /result.device: must be an object, got null/],
    [{ campaign: 'a b' }, 'malformed', /result.campaign: 'a b' is not allowed/],
    [{ target: 'tpu' }, 'malformed', /unknown device class 'tpu'/],
    [{ error: { code: 'NOPE', message: '' } }, 'malformed', /unknown error code/],
  ])('refuses %j', (overrides, reason, message) => {
    const err = refusal(() => readResult({ ...result, ...overrides }));
    expect(err.reason).toBe(reason);
    expect(err.message).toMatch(message);
  });
  it('refuses what is not JSON, too large or not an envelope', () => {
    expect(refusal(() => decodeResultEnvelope(new TextEncoder().encode('{'))).reason).toBe('not_json');
    expect(refusal(() => decodeResultEnvelope(new Uint8Array(600 * 1024))).reason).toBe('too_large');
    expect(refusal(() => decodeResultEnvelope(new TextEncoder().encode('null'))).message).toMatch(/envelope: must be an object, got null/);
  });
});

describe('heartbeats', () => {
  it('accepts a well-formed heartbeat', () => expect(readHeartbeat(heartbeat)).toEqual(heartbeat));
  it.each([
    [{ held: 5 }, /heartbeat.held: must be an array/],
    [{ address: 42 }, /heartbeat.address: must be a string/],
    [{ device: {} }, /heartbeat.device.kind: must be a string/],
    [{ capacity: 'abc' }, /heartbeat.capacity: must be a finite number, got a string 'abc'/],
    [{ intervalMs: 1e300 }, /heartbeat.intervalMs: must be from 10 to 60000/],
    [{ name: 'x'.repeat(200) }, /heartbeat.name: is 200 characters long/],
  ])('refuses %j', (overrides, message) => expect(refusal(() => readHeartbeat({ ...heartbeat, ...overrides })).message).toMatch(message));
});

describe('fitForBus', () => {
  it('cuts a long error message and keeps the result otherwise', () => {
    const fitted = fitForBus({ ...result, seconds: [], median: null, error: { code: 'COMPILE', message: 'e'.repeat(1e6) } } as never, 'a');
    expect(fitted.error!.code).toBe('COMPILE');
    expect(fitted.error!.message.length).toBeLessThanOrEqual(4096);
  });
  it('turns a result the coordinator would refuse into an error result it accepts', () => {
    const fitted = fitForBus({ ...result, seconds: [0], median: 0 } as never, 'a');
    expect(fitted.error).toMatchObject({ code: 'UNKNOWN', message: expect.stringMatching(/not published as measured: the result is not valid/) });
    expect(readResult(JSON.parse(JSON.stringify(fitted)))).toBeTruthy();
  });
});
