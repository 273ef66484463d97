// A throwaway lab PKI made with the real openssl, in a temporary folder: the lab CA, a server
// certificate for 127.0.0.1, a client certificate, and a second CA with a client certificate of
// its own (a stranger's). The same commands as README "Security"; nothing here is committed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LabPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A CA the servers do not trust, and a client certificate it signed. */
  otherCa: string;
  otherClientCert: string;
  otherClientKey: string;
  /** A file holding the lab token (with a trailing newline, as `openssl rand -hex 32 >` writes it). */
  tokenFile: string;
  token: string;
  dispose(): void;
}

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`]);
}

function makeCert(dir: string, name: string, ca: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
}

export function makeLabPki(): LabPki {
  const dir = mkdtempSync(join(tmpdir(), 'flexfarm-pki-'));
  const both = 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n';
  makeCa(dir, 'lab-ca');
  makeCert(dir, 'server', 'lab-ca', `${both}subjectAltName=IP:127.0.0.1,DNS:localhost\n`);
  makeCert(dir, 'client', 'lab-ca', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  makeCa(dir, 'other-ca');
  makeCert(dir, 'stranger', 'other-ca', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  const token = 'lab-token-0123456789abcdef0123456789abcdef';
  writeFileSync(join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  const f = (n: string) => join(dir, n);
  return {
    dir, ca: f('lab-ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key'),
    otherCa: f('other-ca.crt'), otherClientCert: f('stranger.crt'), otherClientKey: f('stranger.key'), tokenFile: f('token'), token,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
