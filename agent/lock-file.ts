// Lock files owned by a process. The file names its owner: the pid and the process's start time
// (from /proc, where there is one), so a recycled pid is not taken for the owner. A lock is created
// atomically with its content (written to a private file, then hard-linked into place; the link
// fails when the name exists), so nobody ever reads a half-written lock. An owner that is gone
// (crashed, killed -9) leaves a stale file, which the next taker removes under a guard file, so
// two takers that both saw the same stale owner cannot remove each other's fresh lock.
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';

export interface LockOwner {
  pid: number;
  /** Start time of the process in clock ticks since boot (/proc/PID/stat field 22); null where unknown. */
  start: string | null;
}

/** The start time of a process, or null (no /proc, or no such process). */
export function processStart(pid: number | 'self'): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 of the whole line
  } catch {
    return null;
  }
}

let self: LockOwner | undefined;
export function selfOwner(): LockOwner {
  self ??= { pid: process.pid, start: processStart('self') };
  return self;
}

export function ownerText(owner: LockOwner): string {
  return `${owner.pid} ${owner.start ?? '-'}\n`;
}

/** Parses `PID START`; a file that says anything else names no live owner. */
export function parseOwner(text: string): LockOwner {
  const [pid, start] = text.trim().split(/\s+/);
  const n = /^\d+$/.test(pid ?? '') ? Number(pid) : -1;
  return { pid: n, start: start && start !== '-' ? start : null };
}

/** The owner a lock file names; null when there is no such file. */
export function readOwner(path: string): LockOwner | null {
  try {
    return parseOwner(readFileSync(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export function sameOwner(a: LockOwner, b: LockOwner): boolean {
  return a.pid === b.pid && a.start === b.start;
}

/** True while the owner's process runs (a process of another user counts: it cannot be signalled). */
export function ownerAlive(owner: LockOwner): boolean {
  if (!(owner.pid > 0)) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.start === null) return true;
  const start = processStart(owner.pid);
  return start === null || start === owner.start; // another start time: the pid was recycled
}

let tmpCounter = 0;
/** Creates the lock file naming `owner`; false when it exists already. */
export function tryCreate(path: string, owner: LockOwner = selfOwner()): boolean {
  const tmp = `${path}.${process.pid}.${tmpCounter++}.tmp`;
  writeFileSync(tmp, ownerText(owner), { mode: 0o666 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkQuiet(tmp);
  }
}

/** Removes the lock if it still names `seen`, a dead owner; the caller then tries to create it again. */
export function breakStale(path: string, seen: LockOwner): void {
  const guard = `${path}.break`;
  if (!tryCreate(guard)) {
    // Someone else is breaking it; unless that breaker died inside, which leaves its guard.
    const breaker = readOwner(guard);
    if (breaker && !ownerAlive(breaker)) unlinkQuiet(guard);
    return;
  }
  try {
    const now = readOwner(path);
    if (now && sameOwner(now, seen)) unlinkQuiet(path);
  } finally {
    unlinkQuiet(guard);
  }
}

/** Removes the lock only if it names `owner` (releasing never removes another's lock). */
export function releaseIfOwned(path: string, owner: LockOwner = selfOwner()): void {
  const now = readOwner(path);
  if (now && sameOwner(now, owner)) unlinkQuiet(path);
}

export function unlinkQuiet(path: string): void {
  try { unlinkSync(path); } catch { /* already gone */ }
}
