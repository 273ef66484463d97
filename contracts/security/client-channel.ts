// A gRPC client's side of the credentials: TLS verified against the lab CA (and this side's
// certificate for servers that require one), and the bearer token on every call.
import { credentials, InterceptingCall, Metadata, type ChannelCredentials, type ClientOptions, type Interceptor } from '@grpc/grpc-js';
import type { GrpcSecurity } from './grpc-security.ts';
import { bearer } from './token.ts';

export interface ClientChannel {
  credentials: ChannelCredentials;
  /** Merged into the client's options (the token's interceptor on a plaintext channel). */
  options: ClientOptions;
  /** Whether the channel speaks TLS (for explaining failures). */
  tls: boolean;
}

/** TLS when a CA or a client certificate is given; the token, when there is one, on every call. */
export function clientChannel(sec: GrpcSecurity): ClientChannel {
  const tls = Boolean(sec.ca || sec.identity);
  if (tls) {
    const ssl = credentials.createSsl(sec.ca ?? null, sec.identity?.key ?? null, sec.identity?.cert ?? null);
    if (!sec.token) return { credentials: ssl, options: {}, tls };
    const value = bearer(sec.token);
    const callCredentials = credentials.createFromMetadataGenerator((_params, callback) => {
      const metadata = new Metadata();
      metadata.set('authorization', value);
      callback(null, metadata);
    });
    return { credentials: credentials.combineChannelCredentials(ssl, callCredentials), options: {}, tls };
  }
  // grpc-js attaches call credentials only to TLS channels; on plaintext (loopback) an interceptor does it.
  return { credentials: credentials.createInsecure(), options: sec.token ? { interceptors: [tokenInterceptor(sec.token)] } : {}, tls };
}

function tokenInterceptor(token: string): Interceptor {
  const value = bearer(token);
  return (options, nextCall) => new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      metadata.set('authorization', value);
      next(metadata, listener);
    },
  });
}
