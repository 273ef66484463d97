// What a NATS failure means, read from the codes nats.js puts on its errors (NatsError.code, and
// for JetStream API errors api_error.err_code, the server's stable per-kind number) rather than
// from their messages.
import { ErrorCode, NatsError } from 'nats';

/** JetStream API error numbers (nats-server's errors.json) flexfarm acts on. */
export const JS_API_ERROR = { STREAM_NAME_IN_USE: 10058, STREAM_NOT_FOUND: 10059 } as const;

const apiErrorCode = (err: unknown): number | undefined =>
  err instanceof NatsError ? err.api_error?.err_code : undefined;

/** A publish found no stream to take it: none listens on the subject (no responders) or the
 *  server says the stream is gone. The stream must then be made again. */
export function isStreamMissing(err: unknown): boolean {
  return (err instanceof NatsError && err.code === ErrorCode.NoResponders)
    || apiErrorCode(err) === JS_API_ERROR.STREAM_NOT_FOUND;
}

/** Creating a stream whose name another process took first (with another configuration). */
export function isStreamNameInUse(err: unknown): boolean {
  return apiErrorCode(err) === JS_API_ERROR.STREAM_NAME_IN_USE;
}

/** A publish the server will refuse however often it is tried: a payload over its max_payload, a
 *  subject it cannot take, or one this client may not publish on. */
export function isPublishRefused(err: unknown): boolean {
  return err instanceof NatsError && ([ErrorCode.MaxPayloadExceeded, ErrorCode.BadSubject, ErrorCode.PermissionsViolation, ErrorCode.BadPayload] as string[]).includes(err.code);
}

/** The server refused this connection's credentials (wrong password, token or key, an unknown
 *  user) or found them expired. */
export function isAuthRefused(err: unknown): boolean {
  return err instanceof NatsError && ([ErrorCode.AuthorizationViolation, ErrorCode.AuthenticationExpired] as string[]).includes(err.code);
}

/** The server's permissions for this user do not let it publish (or subscribe) there. */
export function isPermissionRefused(err: unknown): boolean {
  return err instanceof NatsError && err.code === ErrorCode.PermissionsViolation;
}
