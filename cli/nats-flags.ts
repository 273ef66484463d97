// The NATS connection flags of `flexfarm coordinator` and `flexfarm agent`, each with its
// environment variable (flags win). Secrets are never taken on the command line, where `ps` shows
// them: flags name files; a password or token itself may come only from the environment, and a
// URL given with --nats may not carry one.
import { loadNatsSecurity, type NatsSecurity, type NatsSecuritySettings } from '../contracts/security/nats-security.ts';
import type { Sourced } from '../contracts/security/pem-files.ts';
import { UsageError } from './args.ts';

const FLAGS = [
  ['nats-user', 'FLEXFARM_NATS_USER', 'user'],
  ['nats-password-file', 'FLEXFARM_NATS_PASSWORD_FILE', 'passwordFile'],
  ['nats-token-file', 'FLEXFARM_NATS_TOKEN_FILE', 'tokenFile'],
  ['nats-nkey', 'FLEXFARM_NATS_NKEY', 'nkeyFile'],
  ['nats-creds', 'FLEXFARM_NATS_CREDS', 'credsFile'],
  ['nats-tls-ca', 'FLEXFARM_NATS_TLS_CA', 'tlsCa'],
  ['nats-tls-cert', 'FLEXFARM_NATS_TLS_CERT', 'tlsCert'],
  ['nats-tls-key', 'FLEXFARM_NATS_TLS_KEY', 'tlsKey'],
] as const;

/** parseArgs options: --nats and its credential files. */
export const NATS_FLAGS = {
  nats: { type: 'string' },
  ...Object.fromEntries(FLAGS.map(([flag]) => [flag, { type: 'string' }])) as Record<(typeof FLAGS)[number][0], { type: 'string' }>,
} as const;

/** Said after "did you mean" for a flag that would put a NATS secret on the command line. */
export const NATS_SECRET_FLAG_NOTES: Readonly<Record<string, string>> = {
  'nats-password': 'a password is never taken on the command line, where ps shows it: --nats-password-file FILE or FLEXFARM_NATS_PASSWORD',
  'nats-pass': 'a password is never taken on the command line, where ps shows it: --nats-password-file FILE or FLEXFARM_NATS_PASSWORD',
  'nats-token': 'a token is never taken on the command line, where ps shows it: --nats-token-file FILE or FLEXFARM_NATS_TOKEN',
};

export interface NatsConnectionSettings {
  url: string;
  security: NatsSecurity;
}

/** The server URL (flag, variable, default) and the credentials, read and checked. `defaultUser`:
 *  the user when a password is given without one (an agent's user is its name). */
export function readNatsConnection(values: Record<string, unknown>, env: NodeJS.ProcessEnv, defaultUser?: string): NatsConnectionSettings {
  const flagUrl = values.nats as string | undefined;
  const url = flagUrl ?? env.FLEXFARM_NATS ?? 'nats://127.0.0.1:4222';
  const inUrl = url.split(',').some((u) => /^[a-z]+:\/\/[^/]*@/i.test(u.trim()));
  if (inUrl && flagUrl !== undefined) {
    throw new UsageError('--nats: the URL carries credentials (user:password@), which ps shows to every user: give --nats-user NAME with --nats-password-file FILE or FLEXFARM_NATS_PASSWORD instead');
  }
  const settings = readNatsSettings(values, env);
  if (!settings.user && defaultUser && (settings.passwordFile ?? settings.password)) settings.user = { value: defaultUser, from: '--name' };
  if (inUrl && Object.keys(settings).some((k) => !k.startsWith('tls'))) {
    throw new UsageError('FLEXFARM_NATS carries credentials (user:password@) and other NATS credentials are given too: keep one');
  }
  return { url, security: loadNatsSecurity(settings) };
}

function readNatsSettings(values: Record<string, unknown>, env: NodeJS.ProcessEnv): NatsSecuritySettings {
  const settings: NatsSecuritySettings = {};
  for (const [flag, variable, key] of FLAGS) {
    const given = values[flag] as string | undefined;
    const found: Sourced | undefined = given !== undefined ? { value: given, from: `--${flag}` } : env[variable] ? { value: env[variable]!, from: variable } : undefined;
    if (found) settings[key] = found;
  }
  if (!settings.passwordFile && env.FLEXFARM_NATS_PASSWORD !== undefined) settings.password = { value: env.FLEXFARM_NATS_PASSWORD, from: 'FLEXFARM_NATS_PASSWORD' };
  if (!settings.tokenFile && env.FLEXFARM_NATS_TOKEN !== undefined) settings.token = { value: env.FLEXFARM_NATS_TOKEN, from: 'FLEXFARM_NATS_TOKEN' };
  return settings;
}

/** Usage lines, laid out as the commands' other flags. */
export function natsUsage(): string[] {
  return [
    '  --nats URL           NATS server with JetStream (FLEXFARM_NATS, default nats://127.0.0.1:4222)',
    '  --nats-user NAME     NATS user (FLEXFARM_NATS_USER), with --nats-password-file FILE',
    '                       (FLEXFARM_NATS_PASSWORD_FILE; or the password itself in FLEXFARM_NATS_PASSWORD)',
    '  --nats-token-file FILE  NATS server token (FLEXFARM_NATS_TOKEN_FILE; or FLEXFARM_NATS_TOKEN)',
    '  --nats-nkey FILE     NATS nkey user seed (FLEXFARM_NATS_NKEY)',
    '  --nats-creds FILE    NATS .creds file, user JWT and seed (FLEXFARM_NATS_CREDS)',
    '  --nats-tls-ca FILE   speak TLS to NATS, verifying the server against this CA (FLEXFARM_NATS_TLS_CA)',
    '  --nats-tls-cert FILE, --nats-tls-key FILE  client certificate for a NATS server that verifies',
    '                       clients (FLEXFARM_NATS_TLS_CERT, FLEXFARM_NATS_TLS_KEY)',
  ];
}
