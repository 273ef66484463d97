// gRPC errors with a status code and a message that names what is wrong.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

/** Longest status message sent: the rest of a message is cut (it travels in a header). */
const MAX_MESSAGE_CHARS = 4_096;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A status whose message is well-formed text: a lone UTF-16 surrogate (a client's string cut in
 *  the middle of a character, as JSON.parse's errors quote it) made grpc-js fail to encode the
 *  grpc-message header and answer UNKNOWN "Unknown error" instead (found by fuzzing, issue 15). */
export function grpcError(code: status, message: string): ServiceError {
  const text = message.slice(0, MAX_MESSAGE_CHARS).replace(LONE_SURROGATE, '\uFFFD');
  return Object.assign(new Error(text), { code, details: text, metadata: new Metadata() }) as ServiceError;
}

/** True for an error carrying a gRPC status code (what a client call rejects with). */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';
}
