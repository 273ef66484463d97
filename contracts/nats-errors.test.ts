// The errors nats.js raises (shapes as nats-server 2.10 answers: a publish with no stream, a
// stream created twice) are recognised by their codes, whatever their messages say.
import { ErrorCode, NatsError } from 'nats';
import { describe, expect, it } from 'vitest';
import { isStreamMissing, isStreamNameInUse, JS_API_ERROR } from './nats-errors.ts';

function apiError(message: string, code: number, errCode: number): NatsError {
  return Object.assign(new NatsError(message, String(code)), { api_error: { code, err_code: errCode, description: message } });
}

describe('NATS error codes', () => {
  it('a stream is missing on no responders or on the stream-not-found API error', () => {
    expect(isStreamMissing(new NatsError('503', ErrorCode.NoResponders))).toBe(true);
    expect(isStreamMissing(apiError('a reworded message', 404, JS_API_ERROR.STREAM_NOT_FOUND))).toBe(true);
    expect(isStreamMissing(new NatsError('TIMEOUT', ErrorCode.Timeout))).toBe(false);
    expect(isStreamMissing(apiError('consumer not found', 404, 10014))).toBe(false);
    // the message alone no longer decides
    expect(isStreamMissing(new Error('no responders: stream not found'))).toBe(false);
  });

  it('a stream name in use is the API error, not a message', () => {
    expect(isStreamNameInUse(apiError('stream name already in use with a different configuration', 400, JS_API_ERROR.STREAM_NAME_IN_USE))).toBe(true);
    expect(isStreamNameInUse(new Error('stream name already in use'))).toBe(false);
    expect(isStreamNameInUse(undefined)).toBe(false);
  });
});
