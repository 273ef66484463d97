// What a gRPC server (agent or coordinator) does with its security options, in one place: the
// listen decision (refused beyond loopback without credentials, or logged under --insecure), its
// credentials and interceptors, and refusals sent to its metrics and, throttled, its log.
import type { AuthRefusal } from './auth-refusals.ts';
import { NO_SECURITY, type GrpcSecurity } from './grpc-security.ts';
import { assertListenAllowed } from './listen-policy.ts';
import { throttledRefusalLog } from './refusal-log.ts';
import { serverAuth, type ServerAuth } from './server-auth.ts';

export interface ServerSecurityOptions {
  /** host:port to bind. */
  listen: string;
  /** TLS, mTLS and the token; default: plaintext, no authentication. */
  security?: GrpcSecurity;
  /** Listen beyond loopback without credentials anyway. */
  insecure?: boolean;
  /** Every call refused for its credentials (metrics count them). */
  authRefused?: (refusal: AuthRefusal) => void;
  log?: (line: string) => void;
}

/** Throws InsecureListenError when the listen address is refused. */
export function prepareServerAuth(options: ServerSecurityOptions): ServerAuth {
  const security = options.security ?? NO_SECURITY;
  const warning = assertListenAllowed(options.listen, security, options.insecure ?? false);
  if (warning) options.log?.(`warning: ${warning}`);
  const logRefusal = options.log ? throttledRefusalLog(options.log) : undefined;
  return serverAuth(security, (refusal) => {
    options.authRefused?.(refusal);
    logRefusal?.(refusal);
  });
}
