// gRPC errors with a status code and a message that names what is wrong.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

export function grpcError(code: status, message: string): ServiceError {
  return Object.assign(new Error(message), { code, details: message, metadata: new Metadata() }) as ServiceError;
}

/** True for an error carrying a gRPC status code (what a client call rejects with). */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';
}
