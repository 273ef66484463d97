// Loading the credentials (contracts/security/): every bad file or combination is refused at start
// with the setting and the file named; the listen policy beyond loopback; the token's shape.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadGrpcSecurity, NO_SECURITY, type SecuritySettings } from '../../contracts/security/grpc-security.ts';
import { isLoopbackHost, listenDecision } from '../../contracts/security/listen-policy.ts';
import { sameToken, tokenOfBearer } from '../../contracts/security/token.ts';
import { makeLabPki, type LabPki } from '../helpers/lab-ca.ts';

let pki: LabPki;
beforeAll(() => { pki = makeLabPki(); });
afterAll(() => pki.dispose());

const at = (value: string, from: string) => ({ value, from });
const server = (extra: SecuritySettings = {}): SecuritySettings => ({ tlsCert: at(pki.serverCert, '--tls-cert'), tlsKey: at(pki.serverKey, '--tls-key'), ...extra });

describe('loading', () => {
  test('TLS, mTLS and a token file load; the token loses its trailing newline', () => {
    const sec = loadGrpcSecurity(server({ tlsCa: at(pki.ca, '--tls-ca'), mtls: { from: '--mtls' }, tokenFile: at(pki.tokenFile, '--token-file') }));
    expect(sec.identity?.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(sec.mtls).toBe(true);
    expect(sec.token).toBe(pki.token);
  });

  test('a missing file is named with the setting it came from', () => {
    expect(() => loadGrpcSecurity(server({ tlsCa: at(join(pki.dir, 'nope.crt'), 'FLEXFARM_TLS_CA') })))
      .toThrow(`FLEXFARM_TLS_CA ${join(pki.dir, 'nope.crt')}: cannot read it: no such file`);
  });

  test('a key in place of a certificate, and a key of another certificate, are refused', () => {
    expect(() => loadGrpcSecurity({ tlsCert: at(pki.serverKey, '--tls-cert'), tlsKey: at(pki.serverKey, '--tls-key') }))
      .toThrow(/--tls-cert .*server\.key: not a PEM certificate/);
    expect(() => loadGrpcSecurity({ tlsCert: at(pki.serverCert, '--tls-cert'), tlsKey: at(pki.clientKey, '--tls-key') }))
      .toThrow(/--tls-key .*client\.key: this key does not belong to the certificate of --tls-cert/);
    expect(() => loadGrpcSecurity({ tlsCert: at(pki.serverCert, '--tls-cert'), tlsKey: at(pki.serverCert, '--tls-key') }))
      .toThrow(/--tls-key .*: not an unencrypted PEM private key/);
  });

  test('a certificate without its key, mTLS without a CA or without TLS, are refused', () => {
    expect(() => loadGrpcSecurity({ tlsCert: at(pki.serverCert, '--tls-cert') })).toThrow('--tls-cert is given without the key (--tls-key FILE or FLEXFARM_TLS_KEY)');
    expect(() => loadGrpcSecurity({ tlsKey: at(pki.serverKey, 'FLEXFARM_TLS_KEY') })).toThrow('FLEXFARM_TLS_KEY is given without the certificate');
    expect(() => loadGrpcSecurity(server({ mtls: { from: '--mtls' } }))).toThrow('--mtls needs the CA that signs client certificates');
    expect(() => loadGrpcSecurity({ tlsCa: at(pki.ca, '--tls-ca'), mtls: { from: 'FLEXFARM_MTLS' } })).toThrow('FLEXFARM_MTLS needs TLS');
  });

  test('a short, empty or spaced token is refused, saying how to make one', () => {
    expect(() => loadGrpcSecurity({ token: at('short', 'FLEXFARM_TOKEN') })).toThrow('FLEXFARM_TOKEN: a token is at least 16 printable characters without spaces (got 5); make one with: openssl rand -hex 32');
    expect(() => loadGrpcSecurity({ token: at('has a space in it, long enough', 'FLEXFARM_TOKEN') })).toThrow(/without spaces/);
    const empty = join(pki.dir, 'empty-token');
    writeFileSync(empty, '\n');
    expect(() => loadGrpcSecurity({ tokenFile: at(empty, '--token-file') })).toThrow(`--token-file ${empty}: the token is empty`);
  });

  test('tokens compare whole; the header must be "Bearer TOKEN"', () => {
    expect(sameToken(pki.token, pki.token)).toBe(true);
    expect(sameToken(pki.token, `${pki.token}x`)).toBe(false);
    expect(tokenOfBearer(`Bearer ${pki.token}`)).toBe(pki.token);
    expect(tokenOfBearer(pki.token)).toBeNull();
  });
});

describe('listening beyond loopback', () => {
  test('loopback names and addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '[::1]', '::1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '[::]', '10.0.0.5', 'lab-host', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });

  test('on loopback anything goes', () => {
    expect(listenDecision('127.0.0.1:7000', NO_SECURITY, false)).toEqual({});
  });

  test('without credentials: refused with the reason and what to give, in one line; --insecure allows it with a warning', () => {
    const d = listenDecision('0.0.0.0:7000', NO_SECURITY, false);
    expect(d.refused).toBe('refusing to listen on 0.0.0.0:7000: no TLS and no client authentication: anyone who can reach the port can call it; '
      + 'give --tls-cert and --tls-key with --token-file or --mtls (README "Security"), listen on 127.0.0.1, or add --insecure to accept the risk');
    expect(d.refused).not.toContain('\n');
    expect(listenDecision('0.0.0.0:7000', NO_SECURITY, true)).toEqual({ warning: 'listening on 0.0.0.0:7000 with no TLS and no client authentication: anyone who can reach the port can call it (--insecure)' });
  });

  test('a token without TLS, or TLS without client authentication, is not enough; TLS with a token or mTLS is', () => {
    const tls = loadGrpcSecurity(server());
    expect(listenDecision('10.0.0.5:7070', { mtls: false, token: pki.token }, false).refused).toContain('no TLS: the token would cross the network in clear');
    expect(listenDecision('10.0.0.5:7070', tls, false).refused).toContain('TLS alone authenticates no client');
    expect(listenDecision('10.0.0.5:7070', { ...tls, token: pki.token }, false)).toEqual({});
    expect(listenDecision('[::]:7070', loadGrpcSecurity(server({ tlsCa: at(pki.ca, '--tls-ca'), mtls: { from: '--mtls' } })), false)).toEqual({});
  });
});
