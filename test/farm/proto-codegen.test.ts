// The committed TypeScript beside proto/**/*.proto is what `npm run proto` generates from them now.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { REPO } from './farm-processes.ts';

const hasProtoc = spawnSync('protoc', ['--version']).status === 0;

/** The header names the protoc version; a different local protoc must not fail the comparison. */
const withoutVersions = (text: string) => text.replace(/^\/\/ +protoc +v.*$/m, '// protoc (version)');

test.skipIf(!hasProtoc)('generated code is up to date with the .proto files (run `npm run proto` after editing them)', () => {
  const out = mkdtempSync(join(tmpdir(), 'flexfarm-proto-'));
  try {
    execFileSync(process.execPath, [join(REPO, 'scripts', 'gen-proto.mjs'), '--out', out], { cwd: REPO, stdio: 'pipe' });
    const files = ['flexfarm/v1/common.ts', 'flexfarm/v1/agent.ts', 'flexfarm/v1/coordinator.ts', 'grpc/health/v1/health.ts'];
    for (const file of files) {
      const fresh = readFileSync(join(out, file), 'utf8');
      const committed = readFileSync(join(REPO, 'proto', file), 'utf8');
      expect(withoutVersions(committed), `proto/${file} differs from a fresh run; run \`npm run proto\``).toBe(withoutVersions(fresh));
    }
    // Every .proto has its generated file (a new .proto without committed code fails here).
    const listed = execFileSync('find', [join(REPO, 'proto'), '-name', '*.proto'], { encoding: 'utf8' }).trim().split('\n').length;
    expect(files.length).toBe(listed);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
