// Compile a source once: binaries are cached by a hash of the source, the compiler command and
// its version, so re-measuring a config (or re-running a search) does not rebuild it.
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FlexfarmError } from '../contracts/errors.ts';
import { runChild } from './child-process.ts';
import { publishPhase } from './phase-timing.ts';

export class CompileError extends FlexfarmError {
  override name = 'CompileError';
  readonly code = 'COMPILE';
  constructor(message: string, readonly log: string) { super(message); }
}
export class BuildTimeoutError extends FlexfarmError {
  override name = 'BuildTimeoutError';
  readonly code = 'BUILD_TIMEOUT';
}

export interface CompilerSpec {
  /** e.g. 'gcc' or 'nvcc'. */
  command: string;
  /** Flags before the source; `-o <binary>` and the source path are added. */
  flags: string[];
  /** Flags after the source (libraries). */
  libs?: string[];
  /** Source file extension: '.c', '.cu', '.cpp'. */
  extension: string;
  /** Version string of the compiler, part of the cache key. */
  version: string;
}

export async function compileCached(source: string, spec: CompilerSpec, cacheDir: string, timeoutMs: number): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify([spec.command, spec.flags, spec.libs, spec.version])).update(source).digest('hex').slice(0, 24);
  const dir = join(cacheDir, 'bin');
  const binary = join(dir, hash);
  if (await exists(binary)) return binary;
  await mkdir(dir, { recursive: true });
  const src = join(dir, `${hash}${spec.extension}`);
  await writeFile(src, source);
  const tmp = `${binary}.${process.pid}.${Date.now()}.tmp`;
  const started = performance.now();
  const out = await runChild(spec.command, [...spec.flags, src, '-o', tmp, ...(spec.libs ?? [])], { timeoutMs, maxOutputBytes: 64 * 1024 });
  // Only real compiler runs are timed (cache hits would crowd the histogram near zero).
  publishPhase({ phase: 'compile', seconds: (performance.now() - started) / 1000, outcome: out.timedOut ? 'timeout' : out.code === 0 ? 'ok' : 'error' });
  if (out.timedOut) {
    await rm(tmp, { force: true });
    throw new BuildTimeoutError(`${spec.command} took longer than ${timeoutMs} ms`);
  }
  if (out.code !== 0) {
    await rm(tmp, { force: true });
    const log = (out.stderr || out.stdout).trim();
    throw new CompileError(`${spec.command} failed: ${firstLines(log, 6)}`, log);
  }
  await rename(tmp, binary); // atomic: a concurrent reader never sees a half-written binary
  return binary;
}

async function exists(path: string): Promise<boolean> {
  try { await stat(path); return true; } catch { return false; }
}

function firstLines(text: string, n: number): string {
  const lines = text.split('\n').filter((l) => /error|fatal/i.test(l));
  return (lines.length ? lines : text.split('\n')).slice(0, n).join('\n');
}
