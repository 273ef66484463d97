// The bearer token: read from a file or taken from the environment (never from the command line,
// where `ps` shows it), checked for a usable shape, and compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readSecretFile, type Sourced } from './pem-files.ts';
import { SecurityConfigError } from './security-error.ts';

export const MIN_TOKEN_LENGTH = 16;
/** Printable ASCII without spaces: it travels as an HTTP/2 header value. */
const TOKEN_SHAPE = /^[\x21-\x7e]+$/;

/** The token in a file (a trailing newline is not part of it). */
export function readTokenFile(file: Sourced): string {
  return checkToken(readSecretFile(file).toString('utf8').replace(/\s+$/, ''), `${file.from} ${file.value}`);
}

export function checkToken(token: string, from: string): string {
  if (!token) throw new SecurityConfigError(`${from}: the token is empty`);
  if (!TOKEN_SHAPE.test(token) || token.length < MIN_TOKEN_LENGTH) {
    throw new SecurityConfigError(`${from}: a token is at least ${MIN_TOKEN_LENGTH} printable characters without spaces (got ${token.length}); make one with: openssl rand -hex 32`);
  }
  return token;
}

/** Equal tokens, in time that does not depend on where they differ. */
export function sameToken(expected: string, given: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

/** The `authorization` metadata value of a token. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** The token of an `authorization` value, or null when it is not `Bearer TOKEN`. */
export function tokenOfBearer(value: string): string | null {
  const m = /^Bearer (\S+)$/i.exec(value);
  return m ? m[1] : null;
}
