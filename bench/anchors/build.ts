// Compile the anchor programs (C sources in this folder) with gcc, the one C harness
// (contracts/c-harness/ff-harness.h) on the include path. Their shared input values come
// from tensor/data.ts, written as ff-input-value.h into the build folder, so anchors and
// flexfarm's kernels multiply exactly the same numbers.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from '../../agent/child-process.ts';
import { HARNESS_INCLUDE_DIR } from '../../contracts/c-harness/harness-source.ts';
import { INPUT_VALUE_C } from '../../tensor/data.ts';

export const ANCHOR_SOURCE_DIR = dirname(fileURLToPath(import.meta.url));
/** Same optimisation level and target as flexfarm's CPU kernels; OpenMP comes from the libraries. */
export const ANCHOR_FLAGS = ['-O3', '-march=native', '-std=gnu11', '-Wall'];
const BUILD_TIMEOUT_MS = 120_000;

export class AnchorBuildError extends Error {
  override name = 'AnchorBuildError';
}

export interface BuildOptions {
  /** Binaries, probes and the generated header go here. */
  buildDir: string;
  compiler?: string;
  /** Where the anchor C sources and headers are (default: this folder; tests build altered copies). */
  sourceDir?: string;
}

/** Build `bench/anchors/<program>.c` linked with `libs`; returns the binary's path. */
export async function buildAnchor(program: string, libs: string[], options: BuildOptions): Promise<string> {
  const source = join(options.sourceDir ?? ANCHOR_SOURCE_DIR, `${program}.c`);
  return compile(source, program, libs, options);
}

/** Whether a small program using a library compiles and links: the library's "installed" test. */
export async function linksWith(probeSource: string, libs: string[], name: string, options: BuildOptions): Promise<boolean> {
  mkdirSync(options.buildDir, { recursive: true });
  const source = join(options.buildDir, `probe-${name}.c`);
  writeFileSync(source, probeSource);
  try {
    await compile(source, `probe-${name}`, libs, options);
    return true;
  } catch (err) {
    if (err instanceof AnchorBuildError) return false;
    throw err;
  }
}

async function compile(source: string, output: string, libs: string[], options: BuildOptions): Promise<string> {
  mkdirSync(options.buildDir, { recursive: true });
  writeFileSync(join(options.buildDir, 'ff-input-value.h'), `#include <stdint.h>\n${INPUT_VALUE_C}\n`);
  const binary = join(options.buildDir, output);
  const compiler = options.compiler ?? 'gcc';
  const args = [...ANCHOR_FLAGS, `-I${options.buildDir}`, `-I${options.sourceDir ?? ANCHOR_SOURCE_DIR}`, `-I${HARNESS_INCLUDE_DIR}`, source, '-o', binary, ...libs, '-lm'];
  let outcome;
  try {
    outcome = await runChild(compiler, args, { timeoutMs: BUILD_TIMEOUT_MS, maxOutputBytes: 64 * 1024 });
  } catch (err) {
    throw new AnchorBuildError(`cannot run ${compiler}: ${(err as Error).message}`);
  }
  if (outcome.timedOut) throw new AnchorBuildError(`${compiler} took longer than ${BUILD_TIMEOUT_MS} ms on ${source}`);
  if (outcome.code !== 0) {
    const log = (outcome.stderr || outcome.stdout).trim().split('\n').filter((l) => /error/i.test(l)).slice(0, 4).join('\n');
    throw new AnchorBuildError(`${compiler} failed on ${source}${log ? `:\n${log}` : ''}`);
  }
  return binary;
}
