// One side's gRPC credentials, loaded once from files and the environment and used both ways: a
// server presents its certificate and checks its clients; the same side dialling out (the
// coordinator calling agents, the CLI calling the coordinator) verifies the server against the
// CA and presents the same certificate and token. One lab CA and one lab token serve the farm.
import { readCertificate, readPrivateKey, type Sourced } from './pem-files.ts';
import { SecurityConfigError } from './security-error.ts';
import { checkToken, readTokenFile } from './token.ts';

/** Where the credentials come from (the CLI fills this from flags and the environment). */
export interface SecuritySettings {
  /** This side's certificate chain, PEM: the server's identity, the client certificate when dialling. */
  tlsCert?: Sourced;
  tlsKey?: Sourced;
  /** The lab CA, PEM: verifies servers when dialling, and client certificates under mTLS. */
  tlsCa?: Sourced;
  /** As a server: accept only clients whose certificate the CA signed. */
  mtls?: { from: string };
  tokenFile?: Sourced;
  /** The token itself (from the environment), when no file is named. */
  token?: Sourced;
}

export interface GrpcSecurity {
  identity?: { cert: Buffer; key: Buffer };
  ca?: Buffer;
  mtls: boolean;
  token?: string;
}

export const NO_SECURITY: GrpcSecurity = Object.freeze({ mtls: false });

/** Reads and checks every file; throws SecurityConfigError naming the setting and what is wrong. */
export function loadGrpcSecurity(s: SecuritySettings): GrpcSecurity {
  if (Boolean(s.tlsCert) !== Boolean(s.tlsKey)) {
    const [given, missing] = s.tlsCert ? [s.tlsCert.from, 'the key (--tls-key FILE or FLEXFARM_TLS_KEY)'] : [s.tlsKey!.from, 'the certificate (--tls-cert FILE or FLEXFARM_TLS_CERT)'];
    throw new SecurityConfigError(`${given} is given without ${missing}: a certificate and its key go together`);
  }
  if (s.mtls && !s.tlsCa) throw new SecurityConfigError(`${s.mtls.from} needs the CA that signs client certificates (--tls-ca FILE or FLEXFARM_TLS_CA)`);
  if (s.mtls && !s.tlsCert) throw new SecurityConfigError(`${s.mtls.from} needs TLS: the server's certificate and key (--tls-cert FILE, --tls-key FILE)`);
  let identity: GrpcSecurity['identity'];
  if (s.tlsCert && s.tlsKey) {
    const cert = readCertificate(s.tlsCert);
    identity = { cert: cert.pem, key: readPrivateKey(s.tlsKey, { first: cert.first, from: s.tlsCert.from }) };
  }
  const ca = s.tlsCa ? readCertificate(s.tlsCa, 'CA certificate').pem : undefined;
  const token = s.tokenFile ? readTokenFile(s.tokenFile) : s.token ? checkToken(s.token.value, s.token.from) : undefined;
  return { ...(identity ? { identity } : {}), ...(ca ? { ca } : {}), mtls: Boolean(s.mtls), ...(token ? { token } : {}) };
}

/** What a server with these credentials requires, in words (for its start-up log line). */
export function describeSecurity(sec: GrpcSecurity): string {
  if (!sec.identity && !sec.token) return 'plaintext, no authentication';
  const parts = [sec.identity ? 'TLS' : 'plaintext'];
  if (sec.mtls) parts.push('client certificates signed by the lab CA');
  if (sec.token) parts.push('a bearer token on every call');
  return parts.join(', ');
}
