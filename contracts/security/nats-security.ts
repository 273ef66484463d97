// Credentials and TLS for the connection to nats-server: a user and password, a token, an nkey
// seed or a .creds file (one of them), and TLS with the lab CA (and a client certificate when the
// server verifies clients). Secrets come from files or the environment, never from the command
// line; every file is read and checked at start, so a wrong one is refused with its name and why.
import { credsAuthenticator, nkeyAuthenticator, nkeys, type Authenticator, type ConnectionOptions } from 'nats';
import { readCertificate, readPrivateKey, readSecretFile, type Sourced } from './pem-files.ts';
import { SecurityConfigError } from './security-error.ts';

/** Where the NATS credentials come from (the CLI fills this from flags and the environment). */
export interface NatsSecuritySettings {
  /** A user of the server's authorization block (not a secret). */
  user?: Sourced;
  /** The user's password in a file (a trailing newline is not part of it)… */
  passwordFile?: Sourced;
  /** …or in the environment. */
  password?: Sourced;
  /** A server token (authorization { token }) in a file, or itself from the environment. */
  tokenFile?: Sourced;
  token?: Sourced;
  /** An nkey user's seed (SU…), as `nk -gen user` writes it. */
  nkeyFile?: Sourced;
  /** A .creds file (a user JWT and its seed: operator mode, `nsc generate creds`). */
  credsFile?: Sourced;
  /** The CA that signed the server's certificate: the connection then requires TLS. */
  tlsCa?: Sourced;
  /** A client certificate and key, for a server that verifies clients (tls { verify: true }). */
  tlsCert?: Sourced;
  tlsKey?: Sourced;
}

export interface NatsSecurity {
  /** What goes into nats.js connect(). */
  connect: Pick<ConnectionOptions, 'user' | 'pass' | 'token' | 'authenticator' | 'tls'>;
  /** For log lines and errors: "user 'agent-1' over TLS". */
  description: string;
  tls: boolean;
}

export const NO_NATS_SECURITY: NatsSecurity = Object.freeze({ connect: {}, description: 'no credentials', tls: false });

/** Reads and checks every file; throws SecurityConfigError naming the setting and what is wrong. */
export function loadNatsSecurity(s: NatsSecuritySettings): NatsSecurity {
  const connect: NatsSecurity['connect'] = {};
  const words: string[] = [];
  const kinds = [
    s.user && 'a user', (s.tokenFile ?? s.token) && 'a token', s.nkeyFile && 'an nkey', s.credsFile && 'a .creds file',
  ].filter(Boolean);
  if (kinds.length > 1) {
    const given = [s.user, s.tokenFile ?? s.token, s.nkeyFile, s.credsFile].filter(Boolean).map((x) => x!.from);
    throw new SecurityConfigError(`${given.join(' and ')}: give one NATS credential, not ${kinds.join(' and ')}`);
  }
  const password = s.passwordFile ?? s.password;
  if (password && !s.user) throw new SecurityConfigError(`${password.from} is given without the user it is for (--nats-user NAME or FLEXFARM_NATS_USER)`);
  if (s.user) {
    if (!password) throw new SecurityConfigError(`${s.user.from} ${s.user.value}: no password for it (--nats-password-file FILE, or FLEXFARM_NATS_PASSWORD)`);
    if (!/^[\x21-\x7e]{1,256}$/.test(s.user.value)) throw new SecurityConfigError(`${s.user.from}: a NATS user is printable characters without spaces`);
    connect.user = s.user.value;
    connect.pass = s.passwordFile ? secretOfFile(s.passwordFile, 'password') : nonEmpty(s.password!, 'password');
    words.push(`user '${s.user.value}'`);
  }
  const token = s.tokenFile ? secretOfFile(s.tokenFile, 'token') : s.token ? nonEmpty(s.token, 'token') : undefined;
  if (token) { connect.token = token; words.push('a token'); }
  if (s.nkeyFile) {
    connect.authenticator = nkeyOfFile(s.nkeyFile);
    words.push(`the nkey of ${s.nkeyFile.value}`);
  }
  if (s.credsFile) {
    connect.authenticator = credsOfFile(s.credsFile);
    words.push(`the credentials of ${s.credsFile.value}`);
  }
  const tls = loadTls(s);
  if (tls) { connect.tls = tls; words.push('over TLS'); }
  return { connect, description: words.length ? words.join(' ') : 'no credentials', tls: Boolean(tls) };
}

function loadTls(s: NatsSecuritySettings): NonNullable<ConnectionOptions['tls']> | undefined {
  if (Boolean(s.tlsCert) !== Boolean(s.tlsKey)) {
    const given = s.tlsCert ?? s.tlsKey!;
    throw new SecurityConfigError(`${given.from} is given without ${s.tlsCert ? 'its key (--nats-tls-key FILE)' : 'its certificate (--nats-tls-cert FILE)'}: a certificate and its key go together`);
  }
  if (s.tlsCert && !s.tlsCa) throw new SecurityConfigError(`${s.tlsCert.from} needs the CA that signed the NATS server's certificate (--nats-tls-ca FILE or FLEXFARM_NATS_TLS_CA)`);
  if (!s.tlsCa) return undefined;
  const tls: NonNullable<ConnectionOptions['tls']> = { ca: readCertificate(s.tlsCa, 'CA certificate').pem.toString('utf8') };
  if (s.tlsCert && s.tlsKey) {
    const cert = readCertificate(s.tlsCert);
    tls.cert = cert.pem.toString('utf8');
    tls.key = readPrivateKey(s.tlsKey, { first: cert.first, from: s.tlsCert.from }).toString('utf8');
  }
  return tls;
}

function secretOfFile(file: Sourced, what: string): string {
  return nonEmpty({ value: readSecretFile(file).toString('utf8').replace(/\s+$/, ''), from: `${file.from} ${file.value}` }, what);
}

function nonEmpty(secret: Sourced, what: string): string {
  if (!secret.value) throw new SecurityConfigError(`${secret.from}: the ${what} is empty`);
  if (/[\s]/.test(secret.value)) throw new SecurityConfigError(`${secret.from}: the ${what} holds white space (NATS would not match it)`);
  return secret.value;
}

function nkeyOfFile(file: Sourced): Authenticator {
  const text = readSecretFile(file).toString('utf8');
  const seed = /\bSU[A-Z2-7]{50,}\b/.exec(text)?.[0];
  if (!seed) throw new SecurityConfigError(`${file.from} ${file.value}: no nkey user seed in it (a line SU…, as \`nk -gen user\` writes)`);
  try {
    nkeys.fromSeed(new TextEncoder().encode(seed));
  } catch (err) {
    throw new SecurityConfigError(`${file.from} ${file.value}: the nkey seed is not valid (${(err as Error).message})`, { cause: err });
  }
  return nkeyAuthenticator(new TextEncoder().encode(seed));
}

function credsOfFile(file: Sourced): Authenticator {
  const data = readSecretFile(file);
  const text = data.toString('utf8');
  if (!text.includes('BEGIN NATS USER JWT') || !text.includes('BEGIN USER NKEY SEED')) {
    throw new SecurityConfigError(`${file.from} ${file.value}: not a NATS .creds file (it needs a user JWT and a user nkey seed, as \`nsc generate creds\` writes)`);
  }
  return credsAuthenticator(new Uint8Array(data));
}
