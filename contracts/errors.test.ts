import { describe, expect, it } from 'vitest';
import { NatsUnavailableError } from './bus-nats.ts';
import { BusClosedError } from './bus.ts';
import { FlexfarmError } from './errors.ts';

describe('FlexfarmError', () => {
  it('gives each error class a name and a stable code, and keeps the cause', () => {
    const closed = new BusClosedError();
    expect(closed).toBeInstanceOf(FlexfarmError);
    expect(closed).toBeInstanceOf(Error);
    expect([closed.name, closed.code, closed.message]).toEqual(['BusClosedError', 'BUS_CLOSED', 'the bus is closed']);
    const cause = new Error('connection refused');
    const down = new NatsUnavailableError('cannot reach NATS', { cause });
    expect([down.name, down.code, down.cause]).toEqual(['NatsUnavailableError', 'NATS_UNAVAILABLE', cause]);
    expect(String(down)).toBe('NatsUnavailableError: cannot reach NATS');
  });
});
