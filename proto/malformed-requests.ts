// grpc-js answers a request body it cannot decode with INTERNAL. A client that sends bytes that
// are not the declared message made a bad request, not the server: this wrapper decodes leniently
// and answers INVALID_ARGUMENT naming the message type, before the handler runs.
import { status, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { grpcError } from './grpc-status.ts';

const MALFORMED = Symbol('malformed request');
interface Malformed { [MALFORMED]: string }

function isMalformed(value: unknown): value is Malformed {
  return typeof value === 'object' && value !== null && MALFORMED in value;
}

/** The definition and implementation to pass to `server.addService`, with lenient decoding. */
export function withMalformedRequestCheck<D extends ServiceDefinition, I extends UntypedServiceImplementation>(
  definition: D,
  implementation: I,
): [D, I] {
  const def: Record<string, unknown> = {};
  const impl: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(definition)) {
    const decode = method.requestDeserialize;
    const typeName = method.path.split('/')[2] ? `${method.path.split('/')[1]}.${method.path.split('/')[2]} request` : method.path;
    def[key] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decode(bytes);
        } catch (err) {
          return { [MALFORMED]: `malformed ${typeName}: ${(err as Error).message}` } satisfies Malformed;
        }
      },
    };
    const handler = implementation[key] as (call: { request: unknown; emit?: (e: string, err: Error) => void }, cb?: (err: Error) => void) => void;
    impl[key] = (call: { request: unknown; emit: (e: string, err: Error) => void }, callback?: (err: Error) => void) => {
      if (isMalformed(call.request)) {
        const err = grpcError(status.INVALID_ARGUMENT, call.request[MALFORMED]);
        if (callback) callback(err);
        else call.emit('error', err);
        return;
      }
      handler.call(implementation, call, callback);
    };
  }
  return [def as D, impl as I];
}
