// Reading the PEM files of TLS: each is checked when it is loaded, so a wrong file is refused at
// start-up with its name and why, not later as an opaque handshake failure.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SecurityConfigError } from './security-error.ts';

/** A setting and where it came from (a flag or an environment variable), for messages. */
export interface Sourced {
  value: string;
  /** `--tls-cert`, `FLEXFARM_TLS_CERT`, … */
  from: string;
}

export function readSecretFile(file: Sourced): Buffer {
  try {
    return readFileSync(file.value);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a folder' : e.message;
    throw new SecurityConfigError(`${file.from} ${file.value}: cannot read it: ${why}`, { cause: err });
  }
}

/** A certificate (chain) in PEM, valid now; the first certificate is returned, parsed. */
export function readCertificate(file: Sourced, what = 'certificate'): { pem: Buffer; first: X509Certificate } {
  const pem = readSecretFile(file);
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new SecurityConfigError(`${file.from} ${file.value}: not a PEM ${what} (no BEGIN CERTIFICATE line)`);
  let first: X509Certificate;
  try {
    first = new X509Certificate(pem);
  } catch (err) {
    throw new SecurityConfigError(`${file.from} ${file.value}: cannot parse the ${what}: ${(err as Error).message}`, { cause: err });
  }
  const now = Date.now();
  if (Date.parse(first.validTo) < now) throw new SecurityConfigError(`${file.from} ${file.value}: the ${what} expired on ${first.validTo}`);
  if (Date.parse(first.validFrom) > now) throw new SecurityConfigError(`${file.from} ${file.value}: the ${what} is not valid before ${first.validFrom}`);
  return { pem, first };
}

/** An unencrypted private key in PEM that belongs to `cert`. */
export function readPrivateKey(file: Sourced, cert: { first: X509Certificate; from: string }): Buffer {
  const pem = readSecretFile(file);
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new SecurityConfigError(`${file.from} ${file.value}: not an unencrypted PEM private key (${(err as Error).message})`, { cause: err });
  }
  if (!cert.first.checkPrivateKey(key)) throw new SecurityConfigError(`${file.from} ${file.value}: this key does not belong to the certificate of ${cert.from}`);
  return pem;
}
