#!/usr/bin/env node
// Makes sure what `npm start`, `npm test` and `npm run bench:cpu` need is installed, installing
// what is missing. Plain Node with no dependencies: it runs before `npm install` has ever run.
//
//   node scripts/ensure-setup.mjs [--for-tests] [--for-bench] [--dry-run]
//
// npm packages: `npm install` (which follows package-lock.json) when node_modules is missing or
// does not match package-lock.json. Debian packages: installed with apt-get when running as root, otherwise
// the exact command is printed and the script exits non-zero. Fast (well under a second) and silent
// apart from one line when everything is present.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

const OPENMP_PROGRAM = `#include <omp.h>
int main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }
`;
const OPENBLAS_PROGRAM = `#include <cblas.h>
int main(void) { float a = 1, b = 1, c = 0;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1.f, &a, 1, &b, 1, 0.f, &c, 1);
  return c == 1.f ? 0 : 1; }
`;
const ONEDNN_PROGRAM = `#include <dnnl.h>
int main(void) { return dnnl_version()->major > 0 ? 0 : 1; }
`;

/** What each mode needs: a check that proves it is usable, and the Debian packages that provide it. */
const REQUIREMENTS = [
  {
    what: 'gcc with OpenMP',
    modes: ['start', 'tests', 'bench'],
    packages: ['gcc', 'libc6-dev', 'libgomp1'],
    isPresent: () => compilesAndLinks(OPENMP_PROGRAM, ['-fopenmp']),
  },
  {
    what: 'nats-server',
    modes: ['tests'],
    packages: ['nats-server'],
    isPresent: () => hasCommand('nats-server'),
  },
  {
    what: 'prometheus and promtool',
    modes: ['tests'],
    packages: ['prometheus'],
    isPresent: () => hasCommand('prometheus') && hasCommand('promtool'),
  },
  {
    what: 'protoc with the protobuf well-known types',
    modes: ['tests'],
    packages: ['protobuf-compiler', 'libprotobuf-dev'],
    isPresent: () => hasCommand('protoc') && existsSync('/usr/include/google/protobuf/timestamp.proto'),
  },
  {
    what: 'chromium',
    modes: ['tests'],
    packages: ['chromium'],
    isPresent: () => hasCommand('chromium'),
  },
  {
    what: 'OpenBLAS',
    modes: ['bench'],
    packages: ['libopenblas-dev'],
    isPresent: () => compilesAndLinks(OPENBLAS_PROGRAM, ['-lopenblas']),
  },
  {
    what: 'oneDNN',
    modes: ['bench'],
    packages: ['libdnnl-dev'],
    isPresent: () => compilesAndLinks(ONEDNN_PROGRAM, ['-ldnnl']),
  },
];

const FLAG_MODES = { '--for-tests': 'tests', '--for-bench': 'bench' };

function log(line) {
  console.log(`setup: ${line}`);
}

function fail(line, exitCode = 1) {
  console.error(`setup: ${line}`);
  process.exit(exitCode);
}

function parseArgs(argv) {
  const modes = new Set(['start']);
  let dryRun = false;
  for (const arg of argv) {
    if (arg === '--dry-run') dryRun = true;
    else if (arg in FLAG_MODES) modes.add(FLAG_MODES[arg]);
    else fail(`unknown argument '${arg}' (expected --for-tests, --for-bench or --dry-run)`, 2);
  }
  return { modes, dryRun };
}

// /usr/sbin is searched too: Debian puts nats-server there, outside a normal user's PATH.
function hasCommand(name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  return dirs.some((dir) => {
    if (!dir) return false;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function compilesAndLinks(source, flags) {
  const dir = mkdtempSync(join(tmpdir(), 'flexfarm-setup-'));
  try {
    const sourcePath = join(dir, 'check.c');
    writeFileSync(sourcePath, source);
    const result = spawnSync('gcc', [sourcePath, ...flags, '-o', join(dir, 'check')], { stdio: 'ignore' });
    return result.status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function mtimeMs(path) {
  return statSync(path).mtimeMs;
}

/**
 * Why node_modules must be (re)installed, or null when it is up to date. A package.json newer than
 * the install is only stale when the dependencies differ, so editing a script reinstalls nothing.
 */
function npmInstallReason() {
  const packageJson = join(repoRoot, 'package.json');
  const lockPath = join(repoRoot, 'package-lock.json');
  const installedLockPath = join(repoRoot, 'node_modules', '.package-lock.json');
  if (!existsSync(installedLockPath)) return 'node_modules is missing';
  const installedAt = mtimeMs(installedLockPath);
  const hasLock = existsSync(lockPath);
  const touched = mtimeMs(packageJson) > installedAt || (hasLock && mtimeMs(lockPath) > installedAt);
  if (!touched) return null;
  if (!hasLock) return 'package.json changed since the last install';

  const lock = readJson(lockPath);
  const manifest = readJson(packageJson);
  const lockRoot = lock.packages?.[''] ?? {};
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    if (JSON.stringify(manifest[field] ?? {}) !== JSON.stringify(lockRoot[field] ?? {})) {
      return `package.json ${field} differ from package-lock.json`;
    }
  }
  const installed = readJson(installedLockPath).packages ?? {};
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (path === '') continue;
    const present = installed[path];
    // Optional packages for other platforms (esbuild's, rolldown's) are never installed.
    if (!present && entry.optional) continue;
    if (!present || present.version !== entry.version) return `${path.replace(/^node_modules\//, '')} is not installed at ${entry.version}`;
  }
  for (const path of Object.keys(installed)) {
    if (!(path in lock.packages)) return `${path.replace(/^node_modules\//, '')} is installed but not in package-lock.json`;
  }
  return null;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: repoRoot, ...options });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) fail(`'${[command, ...args].join(' ')}' failed (exit ${result.status ?? result.signal})`);
}

function ensureNpmPackages(dryRun) {
  const reason = npmInstallReason();
  if (!reason) return false;
  // `npm install`, not `npm ci`: it installs the lock's versions all the same, but tolerates an
  // optional dependency the registry does not serve (vite's napi-windows-process-start-time 404s
  // on the registry this project is built against, and `npm ci` then refuses the whole lock).
  const args = ['install', '--no-audit', '--no-fund'];
  log(`${reason}: running npm ${args.join(' ')}`);
  if (!dryRun) run('npm', args);
  return true;
}

function ensureDebianPackages(modes, dryRun) {
  const needed = REQUIREMENTS.filter((req) => req.modes.some((mode) => modes.has(mode)));
  const missing = needed.filter((req) => !req.isPresent());
  if (missing.length === 0) return needed;

  const packages = [...new Set(missing.flatMap((req) => req.packages))];
  log(`missing: ${missing.map((req) => req.what).join(', ')}`);
  if (!hasCommand('apt-get')) {
    fail(`no apt-get on this machine: install the equivalents of the Debian packages ${packages.join(' ')}`);
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    fail(`install them with:\n  sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}`);
  }
  log(`installing Debian packages: ${packages.join(' ')}`);
  if (dryRun) return needed;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update'], { env });
  run('apt-get', ['install', '-y', ...packages], { env });
  const stillMissing = missing.filter((req) => !req.isPresent());
  if (stillMissing.length > 0) {
    fail(`still missing after apt-get install: ${stillMissing.map((req) => req.what).join(', ')}`);
  }
  return needed;
}

const { modes, dryRun } = parseArgs(process.argv.slice(2));
const npmChanged = ensureNpmPackages(dryRun);
const checked = ensureDebianPackages(modes, dryRun);
if (dryRun) log('dry run: nothing was installed');
else log(`ready: npm packages${npmChanged ? ' (just installed)' : ''}, ${checked.map((req) => req.what).join(', ')}`);
