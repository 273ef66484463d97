// A gRPC server's side of the credentials: TLS from the PEM files and an interceptor that checks
// every call (every service, health included) before its handler or its request is touched.
//
// Under mTLS the TLS layer asks for a client certificate and verifies it against the lab CA, but
// does not end the handshake when there is none or it does not verify: the interceptor refuses the
// call instead, so the client reads UNAUTHENTICATED with the reason (not a bare "connection
// reset") and the refusal is counted. No handler runs for such a client.
import type { SecureContextOptions } from 'node:tls';
import type { SecureServerOptions } from 'node:http2';
import {
  Metadata, ServerCredentials, ServerInterceptingCall, status,
  type ServerInterceptingCallInterface, type ServerInterceptor, type ServerMethodDefinition,
} from '@grpc/grpc-js';
import type { AuthRefusal, AuthRefusalReason } from './auth-refusals.ts';
import type { GrpcSecurity } from './grpc-security.ts';
import { sameToken, tokenOfBearer } from './token.ts';

export interface ServerAuth {
  credentials: ServerCredentials;
  /** For `new Server({ interceptors })`. */
  interceptors: ServerInterceptor[];
}

/** `refused` hears of every call refused (metrics, a log line); it must not throw. */
export function serverAuth(sec: GrpcSecurity, refused: (refusal: AuthRefusal) => void = () => {}): ServerAuth {
  return {
    credentials: serverCredentials(sec),
    interceptors: sec.mtls || sec.token ? [authInterceptor(sec, refused)] : [],
  };
}

/** TLS that requests a client certificate and lets the interceptor decide on it. */
class ClientCertificateCredentials extends ServerCredentials {
  constructor(ca: Buffer, identity: { cert: Buffer; key: Buffer }) {
    const constructorOptions: SecureServerOptions = { requestCert: true, rejectUnauthorized: false };
    const contextOptions: SecureContextOptions = { ca, cert: identity.cert, key: identity.key };
    super(constructorOptions, contextOptions);
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

function serverCredentials(sec: GrpcSecurity): ServerCredentials {
  if (!sec.identity) return ServerCredentials.createInsecure();
  if (sec.mtls) return new ClientCertificateCredentials(sec.ca!, sec.identity);
  return ServerCredentials.createSsl(null, [{ cert_chain: sec.identity.cert, private_key: sec.identity.key }], false);
}

const MESSAGES: Record<AuthRefusalReason, string> = {
  no_client_certificate: 'no client certificate signed by the lab CA was presented (this server requires one: mTLS)',
  missing_token: 'no bearer token: this server needs the lab token in the call metadata (--token-file FILE or FLEXFARM_TOKEN)',
  wrong_token: 'the bearer token is not this server\'s',
};

function authInterceptor(sec: GrpcSecurity, refused: (refusal: AuthRefusal) => void): ServerInterceptor {
  return (method: ServerMethodDefinition<unknown, unknown>, call: ServerInterceptingCallInterface) => new ServerInterceptingCall(call, {
    start: (next) => next({
      onReceiveMetadata: (metadata, mdNext) => {
        const reason = refusalOf(sec, call, metadata);
        if (!reason) {
          mdNext(metadata);
          return;
        }
        const refusal = { reason, method: method.path, peer: call.getPeer(), message: MESSAGES[reason] };
        try { refused(refusal); } catch { /* an observer's failure must not let the call through */ }
        call.sendStatus({ code: status.UNAUTHENTICATED, details: refusal.message, metadata: new Metadata() });
      },
    }),
  });
}

function refusalOf(sec: GrpcSecurity, call: ServerInterceptingCallInterface, metadata: Metadata): AuthRefusalReason | null {
  // grpc-js gives a peer certificate only when the TLS layer verified it against the CA.
  if (sec.mtls && !call.getAuthContext().sslPeerCertificate) return 'no_client_certificate';
  if (!sec.token) return null;
  const value = metadata.get('authorization')[0];
  if (value === undefined) return 'missing_token';
  const given = typeof value === 'string' ? tokenOfBearer(value) : null;
  return given !== null && sameToken(sec.token, given) ? null : 'wrong_token';
}
