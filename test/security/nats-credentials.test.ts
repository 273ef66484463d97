// NATS credentials as the coordinator and agents read them (cli/nats-flags.ts,
// contracts/security/nats-security.ts): one kind at a time, secrets from files or the
// environment only, each file checked at start with the setting and the file named; an nkey seed
// file against a real nats-server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from 'nats';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { NatsBus } from '../../contracts/bus-nats.ts';
import { loadNatsSecurity } from '../../contracts/security/nats-security.ts';
import { readNatsConnection } from '../../cli/nats-flags.ts';
import { makeLabPki, type LabPki } from '../helpers/lab-ca.ts';
import { startNatsServer } from '../helpers/nats-server.ts';
import { cli } from '../farm/farm-processes.ts';

let dir: string;
let pki: LabPki;
const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text, { mode: 0o600 }); return p; };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flexfarm-nats-creds-'));
  pki = makeLabPki();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  pki?.dispose();
});

test('a user with its password from a file or the environment; a token from a file; none by default', () => {
  const pw = file('pw', 'secret-password\n');
  expect(readNatsConnection({ 'nats-user': 'agent-1', 'nats-password-file': pw }, {}).security.connect).toEqual({ user: 'agent-1', pass: 'secret-password' });
  expect(readNatsConnection({}, { FLEXFARM_NATS_USER: 'agent-1', FLEXFARM_NATS_PASSWORD: 'from-env' }).security).toMatchObject({ connect: { user: 'agent-1', pass: 'from-env' }, description: "user 'agent-1'" });
  // a flag wins over its variable; a password file over the password itself
  expect(readNatsConnection({ 'nats-user': 'b' }, { FLEXFARM_NATS_USER: 'a', FLEXFARM_NATS_PASSWORD_FILE: pw, FLEXFARM_NATS_PASSWORD: 'x' }).security.connect).toEqual({ user: 'b', pass: 'secret-password' });
  // an agent's user is its name unless one is given
  expect(readNatsConnection({ 'nats-password-file': pw }, {}, 'gpu-1').security.connect).toEqual({ user: 'gpu-1', pass: 'secret-password' });
  expect(readNatsConnection({ 'nats-token-file': file('tok', 'the-token\n') }, {}).security.connect).toEqual({ token: 'the-token' });
  expect(readNatsConnection({}, {})).toEqual({ url: 'nats://127.0.0.1:4222', security: { connect: {}, description: 'no credentials', tls: false } });
  const tls = readNatsConnection({ 'nats-tls-ca': pki.ca, 'nats-tls-cert': pki.clientCert, 'nats-tls-key': pki.clientKey }, {}).security;
  expect(tls.tls).toBe(true);
  expect(Object.keys(tls.connect.tls!).sort()).toEqual(['ca', 'cert', 'key']);
});

test('credentials that cannot be used are refused at start, naming the setting and the file', () => {
  const pw = file('pw2', 'p\n');
  const refused = (values: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => () => readNatsConnection(values, env);
  expect(refused({ 'nats-user': 'a' })).toThrow("--nats-user a: no password for it (--nats-password-file FILE, or FLEXFARM_NATS_PASSWORD)");
  expect(refused({ 'nats-password-file': pw })).toThrow('--nats-password-file is given without the user it is for');
  expect(refused({ 'nats-user': 'a', 'nats-password-file': pw, 'nats-token-file': pw })).toThrow('--nats-user and --nats-token-file: give one NATS credential, not a user and a token');
  expect(refused({ 'nats-user': 'a', 'nats-password-file': join(dir, 'missing') })).toThrow(`--nats-password-file ${join(dir, 'missing')}: cannot read it: no such file`);
  expect(refused({ 'nats-user': 'a', 'nats-password-file': file('empty', '\n') })).toThrow(`--nats-password-file ${join(dir, 'empty')}: the password is empty`);
  expect(refused({ 'nats-nkey': file('nk', 'not a seed') })).toThrow(`--nats-nkey ${join(dir, 'nk')}: no nkey user seed in it`);
  expect(refused({ 'nats-creds': file('creds', 'nothing') })).toThrow(`--nats-creds ${join(dir, 'creds')}: not a NATS .creds file`);
  expect(refused({ 'nats-tls-cert': pki.clientCert, 'nats-tls-key': pki.clientKey })).toThrow('--nats-tls-cert needs the CA that signed the NATS server\'s certificate');
  expect(refused({ 'nats-tls-ca': pki.ca, 'nats-tls-cert': pki.clientCert })).toThrow('--nats-tls-cert is given without its key');
  expect(refused({ 'nats-tls-ca': pki.clientKey })).toThrow(`--nats-tls-ca ${pki.clientKey}: not a PEM CA certificate`);
  expect(refused({ 'nats-tls-ca': pki.ca, 'nats-tls-cert': pki.clientCert, 'nats-tls-key': pki.serverKey })).toThrow('this key does not belong to the certificate of --nats-tls-cert');
  // a URL with credentials on the command line would show them in ps; in the environment it is accepted alone
  expect(refused({ nats: 'nats://agent:secret@10.0.0.1:4222' })).toThrow('--nats: the URL carries credentials (user:password@), which ps shows to every user');
  expect(readNatsConnection({}, { FLEXFARM_NATS: 'nats://agent:secret@10.0.0.1:4222' }).url).toBe('nats://agent:secret@10.0.0.1:4222');
  expect(refused({ 'nats-user': 'a', 'nats-password-file': pw }, { FLEXFARM_NATS: 'nats://agent:secret@10.0.0.1:4222' })).toThrow('keep one');
});

test('an nkey seed file connects to a server that knows its public key; another seed is refused', async () => {
  const user = nkeys.createUser();
  const seedFile = file('user.nk', `${new TextDecoder().decode(user.getSeed())}\n`);
  const stranger = file('stranger.nk', new TextDecoder().decode(nkeys.createUser().getSeed()));
  const server = await startNatsServer({ config: `authorization { users: [ { nkey: "${user.getPublicKey()}" } ] }\n` });
  try {
    const security = loadNatsSecurity({ nkeyFile: { value: seedFile, from: '--nats-nkey' } });
    expect(security.description).toBe(`the nkey of ${seedFile}`);
    const bus = await NatsBus.connect({ servers: server.url, security });
    await bus.close();
    await expect(NatsBus.connect({ servers: server.url, security: loadNatsSecurity({ nkeyFile: { value: stranger, from: '--nats-nkey' } }) }))
      .rejects.toThrow(/refused the nkey of .*stranger\.nk: .*Authorization Violation/i);
  } finally {
    await server.dispose();
  }
});

test('a NATS password or token on the command line is refused with where it goes', async () => {
  const r = await cli(['agent', '--device', 'sim', '--nats-password', 'x']);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/a password is never taken on the command line, where ps shows it: --nats-password-file FILE or FLEXFARM_NATS_PASSWORD/);
  const t = await cli(['coordinator', '--records', join(dir, 'r.jsonl'), '--nats-token', 'x']);
  expect(t.stderr).toMatch(/a token is never taken on the command line, where ps shows it: --nats-token-file FILE or FLEXFARM_NATS_TOKEN/);
}, 30_000);
