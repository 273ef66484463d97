#!/usr/bin/env node
// Runs the vitest suite and ends with one line CI can read: `N passed, N failed[, N skipped]`.
// Extra arguments go to vitest (`npm test -- test/ops.test.ts` runs one file).
// Exits non-zero when a test or a test file failed, when vitest itself failed (an unhandled error or
// a crash, counted as one failure), or when no test ran.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function vitestEntry() {
  const require = createRequire(join(repoRoot, 'package.json'));
  const manifestPath = require.resolve('vitest/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin.vitest;
  return join(dirname(manifestPath), bin);
}

/** The processes below pid (Linux /proc), so that a cancel reaches every one. */
function descendantPids(pid) {
  const childrenOf = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // stat is "pid (comm) state ppid ...", and comm may contain spaces or parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!childrenOf.has(parent)) childrenOf.set(parent, []);
      childrenOf.get(parent).push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  const found = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of childrenOf.get(queue.shift()) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Runs vitest with inherited stdio; resolves with its exit code (1 when killed by a signal). */
function runVitest(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [vitestEntry(), 'run', ...args], { cwd: repoRoot, stdio: 'inherit' });
    // A signal sent to this process alone (a CI cancel) would leave vitest's workers and the servers
    // they started running: pass it to the whole tree, then report what ran.
    const forward = (signal) => {
      for (const pid of [child.pid, ...descendantPids(child.pid)]) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      }
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', (error) => {
      console.error(`run-tests: could not start vitest: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const SKIPPED_STATUSES = new Set(['skipped', 'pending', 'todo', 'disabled']);

/**
 * Counts tests from vitest's JSON report. A file that failed without a failing test (an import
 * error, a failing beforeAll) counts as one failure, so a broken file is never reported as passing.
 */
function countResults(report) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const file of report.testResults ?? []) {
    let failedInFile = 0;
    for (const test of file.assertionResults ?? []) {
      if (test.status === 'passed') counts.passed += 1;
      else if (test.status === 'failed') failedInFile += 1;
      else if (SKIPPED_STATUSES.has(test.status)) counts.skipped += 1;
    }
    if (file.status === 'failed' && failedInFile === 0) {
      failedInFile = 1;
      const why = file.message ? firstLine(file.message) : 'a hook or an unhandled error, see above';
      console.log(`run-tests: ${relative(repoRoot, file.name)} failed outside any test: ${why}`);
    }
    counts.failed += failedInFile;
  }
  return counts;
}

function firstLine(text) {
  return text.split('\n').find((line) => line.trim() !== '') ?? text;
}

function readReport(path) {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    console.log(`run-tests: vitest's JSON report is unreadable: ${error.message}`);
    return null;
  }
}

const reportDir = mkdtempSync(join(tmpdir(), 'flexfarm-tests-'));
const reportPath = join(reportDir, 'vitest-report.json');
let exitCode;
try {
  const vitestExitCode = await runVitest([
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${reportPath}`,
    ...process.argv.slice(2),
  ]);
  const report = readReport(reportPath);
  const counts = report ? countResults(report) : { passed: 0, failed: 0, skipped: 0 };
  const ran = counts.passed + counts.failed > 0;
  if (report && !ran) {
    console.log('run-tests: no test ran');
  } else if (vitestExitCode !== 0 && counts.failed === 0) {
    // An unhandled error or a crash: the summary line must not read "0 failed" for a failed run.
    counts.failed = 1;
    const what = report ? 'an error outside the tests' : 'vitest wrote no report';
    console.log(`run-tests: vitest exited with code ${vitestExitCode} (${what}, see above), counted as 1 failure`);
  }
  exitCode = vitestExitCode !== 0 || counts.failed > 0 || !ran ? 1 : 0;
  const skipped = counts.skipped > 0 ? `, ${counts.skipped} skipped` : '';
  console.log(`${counts.passed} passed, ${counts.failed} failed${skipped}`);
} finally {
  rmSync(reportDir, { recursive: true, force: true });
}
process.exit(exitCode);
