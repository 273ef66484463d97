// The gRPC credential flags every networked command shares, each with its environment variable
// (flags win). Secrets are never taken on the command line, where `ps` shows them: flags name
// files; the token itself may come only from a file or FLEXFARM_TOKEN.
import { resolve } from 'node:path';
import type { Sourced } from '../contracts/security/pem-files.ts';
import { loadGrpcSecurity, type GrpcSecurity, type SecuritySettings } from '../contracts/security/grpc-security.ts';

type Role = 'server' | 'client';

const FILE_FLAGS = [
  ['tls-cert', 'FLEXFARM_TLS_CERT', 'tlsCert'],
  ['tls-key', 'FLEXFARM_TLS_KEY', 'tlsKey'],
  ['tls-ca', 'FLEXFARM_TLS_CA', 'tlsCa'],
  ['token-file', 'FLEXFARM_TOKEN_FILE', 'tokenFile'],
] as const;

/** parseArgs options of a client command (campaign, agents): the file flags. */
export const CLIENT_SECURITY_FLAGS = {
  'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'tls-ca': { type: 'string' }, 'token-file': { type: 'string' },
} as const;

/** parseArgs options of a server (coordinator, agent, farm up): the file flags, --mtls and --insecure. */
export const SERVER_SECURITY_FLAGS = { ...CLIENT_SECURITY_FLAGS, mtls: { type: 'boolean' }, insecure: { type: 'boolean' } } as const;

/** Said after "did you mean" for a flag that would put a secret on the command line. */
export const SECRET_FLAG_NOTES: Readonly<Record<string, string>> = {
  token: 'a token is never taken on the command line, where ps shows it: --token-file FILE or FLEXFARM_TOKEN',
};

/** Flag, else its variable, for each setting; FLEXFARM_TOKEN only when no token file is named. */
export function readSecuritySettings(values: Record<string, unknown>, env: NodeJS.ProcessEnv, role: Role): SecuritySettings {
  const settings: SecuritySettings = {};
  for (const [flag, variable, key] of FILE_FLAGS) {
    const given = values[flag] as string | undefined;
    const found: Sourced | undefined = given !== undefined ? { value: given, from: `--${flag}` } : env[variable] ? { value: env[variable]!, from: variable } : undefined;
    if (found) settings[key] = found;
  }
  if (!settings.tokenFile && env.FLEXFARM_TOKEN !== undefined) settings.token = { value: env.FLEXFARM_TOKEN, from: 'FLEXFARM_TOKEN' };
  if (role === 'server') {
    if (values.mtls) settings.mtls = { from: '--mtls' };
    else if (/^(1|true|yes)$/i.test(env.FLEXFARM_MTLS ?? '')) settings.mtls = { from: 'FLEXFARM_MTLS' };
  }
  return settings;
}

/** Reads and checks the credential files (SecurityConfigError on a bad one). */
export function readSecurity(values: Record<string, unknown>, env: NodeJS.ProcessEnv, role: Role): GrpcSecurity {
  return loadGrpcSecurity(readSecuritySettings(values, env, role));
}

/** Usage lines, laid out as the commands' other flags. */
export function securityUsage(role: Role): string[] {
  const lines = role === 'server'
    ? [
      '  --tls-cert FILE      TLS: this server\'s certificate chain, PEM (FLEXFARM_TLS_CERT); also its client',
      '                       certificate when it dials out',
      '  --tls-key FILE       the certificate\'s private key, PEM (FLEXFARM_TLS_KEY)',
      '  --tls-ca FILE        the lab CA, PEM (FLEXFARM_TLS_CA): verifies the servers it dials, and clients under --mtls',
      '  --mtls               accept only clients with a certificate the CA signed (FLEXFARM_MTLS=1)',
      '  --token-file FILE    the lab token, required on every call and sent when dialling (FLEXFARM_TOKEN_FILE;',
      '                       or the token itself in FLEXFARM_TOKEN)',
      '  --insecure           listen beyond loopback without TLS and client authentication anyway',
    ]
    : [
      '  --tls-ca FILE        speak TLS, verifying the coordinator against this CA (FLEXFARM_TLS_CA)',
      '  --tls-cert FILE, --tls-key FILE  client certificate for a coordinator under mTLS',
      '                       (FLEXFARM_TLS_CERT, FLEXFARM_TLS_KEY)',
      '  --token-file FILE    the lab token (FLEXFARM_TOKEN_FILE; or the token itself in FLEXFARM_TOKEN)',
    ];
  return lines;
}

/** The settings as the variables of a child process (`farm up`'s coordinator and agents): file
 *  paths made absolute; the token itself is never copied (FLEXFARM_TOKEN is inherited as is). */
export function securityEnv(settings: SecuritySettings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, variable, key] of FILE_FLAGS) {
    const found = settings[key];
    if (found) env[variable] = resolve(found.value);
  }
  if (settings.mtls) env.FLEXFARM_MTLS = '1';
  return env;
}
