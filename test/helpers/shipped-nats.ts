// A real nats-server started with the shipped configuration (deploy/nats-server.conf) as a lab
// installs it: its /etc/nats/ files in a temporary folder instead (the host certificate and key
// from a throwaway lab CA, the passwords file), its store there too, on 127.0.0.1 and a free port.
// Only those paths, the address and the port differ from the shipped file; the users, roles and
// permissions are its own. The agents it knows are the shipped example's.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabPki } from './lab-ca.ts';
import { startNatsServer, type NatsServer } from './nats-server.ts';

const SHIPPED = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'nats-server.conf');

/** The agents of the shipped configuration (its example users). */
export const SHIPPED_AGENTS = ['gpu-host-gpu-7070', 'cpu-host-cpu-7070'] as const;

export interface ShippedNats extends NatsServer {
  dir: string;
  /** The password of each user (coordinator and the agents), and a file holding it. */
  password(user: string): string;
  passwordFile(user: string): string;
}

const variableOf = (user: string) => `${user.replace(/-/g, '_').toUpperCase()}_PASSWORD`;

export async function startShippedNats(pki: LabPki): Promise<ShippedNats> {
  const dir = mkdtempSync(join(tmpdir(), 'flexfarm-shipped-nats-'));
  const storeDir = join(dir, 'store');
  mkdirSync(join(dir, 'tls'));
  copyFileSync(pki.serverCert, join(dir, 'tls', 'host.crt'));
  copyFileSync(pki.serverKey, join(dir, 'tls', 'host.key'));
  const shipped = readFileSync(SHIPPED, 'utf8');
  writeFileSync(join(dir, 'nats-server.conf'), shipped.replaceAll('/etc/nats/', `${dir}/`).replaceAll('/var/lib/nats', storeDir));
  const users = ['coordinator', ...SHIPPED_AGENTS];
  const passwords = new Map(users.map((u, i) => [u, `pw-${u}-${i}-0123456789abcdef`]));
  writeFileSync(join(dir, 'nats-passwords.conf'), users.map((u) => `${variableOf(u)}: "${passwords.get(u)}"\n`).join(''));
  for (const u of users) writeFileSync(join(dir, `${u}.password`), `${passwords.get(u)}\n`, { mode: 0o600 });
  const server = await startNatsServer({ configFile: join(dir, 'nats-server.conf'), storeDir: dir });
  const known = (user: string) => {
    if (!passwords.has(user)) throw new Error(`the shipped configuration has no user '${user}'`);
    return user;
  };
  return Object.assign(server, {
    dir,
    password: (user: string) => passwords.get(known(user))!,
    passwordFile: (user: string) => join(dir, `${known(user)}.password`),
  });
}
