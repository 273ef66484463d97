// The host-wide half of the timing lock: every flexfarm process on a host (a cpu agent, a gpu
// agent whose harness runs host code too, a `tune`, a `verify`) times one candidate at a time, and
// no compile runs while one is timed. A readers–writer lock in a directory:
//   <dir>/timing.lock     the one timer (lock-file.ts: owner pid and start time, stale when it is gone)
//   <dir>/compiles/PID-START-N   one file per running compile
// The timer takes timing.lock, then waits until no live compile file is left; a compile registers
// its file, then looks for a live timer and steps back if there is one (both sides write before
// they read, so one of two that start together always sees the other). Files of dead processes
// are removed by whoever finds them, so a crash never blocks the host.
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { breakStale, ownerAlive, readOwner, releaseIfOwned, selfOwner, tryCreate, unlinkQuiet, type LockOwner } from './lock-file.ts';

export interface HostFileLockOptions {
  /** How often a waiter looks again (default 20 ms). */
  pollMs?: number;
}

export class HostFileLock {
  private readonly timingPath: string;
  private readonly compilesDir: string;
  private readonly pollMs: number;
  private prepared = false;
  private compileSeq = 0;

  constructor(readonly dir: string, options: HostFileLockOptions = {}) {
    this.timingPath = join(dir, 'timing.lock');
    this.compilesDir = join(dir, 'compiles');
    this.pollMs = options.pollMs ?? 20;
  }

  /** Waits until this process is the host's one timer and no compile runs; returns the release. */
  async acquireTiming(): Promise<() => void> {
    this.prepare();
    while (!tryCreate(this.timingPath)) {
      if (!this.liveTimer()) continue; // it was stale (now removed) or just released: try again at once
      await sleep(this.pollMs);
    }
    const release = () => releaseIfOwned(this.timingPath);
    try {
      while (this.liveCompiles() > 0) await sleep(this.pollMs);
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }

  /** Waits until no process times on this host, and registers a compile; returns the release. */
  async acquireCompile(): Promise<() => void> {
    this.prepare();
    const owner = selfOwner();
    for (;;) {
      while (this.liveTimer()) await sleep(this.pollMs);
      const path = join(this.compilesDir, `${owner.pid}-${owner.start ?? '-'}-${this.compileSeq++}`);
      writeFileSync(path, '', { flag: 'wx', mode: 0o666 });
      if (!this.liveTimer()) return () => unlinkQuiet(path);
      unlinkQuiet(path); // a timer came first: let it time
    }
  }

  /** True when a live process holds the timing lock; a stale lock is removed on the way. */
  private liveTimer(): boolean {
    const owner = readOwner(this.timingPath);
    if (!owner) return false;
    if (ownerAlive(owner)) return true;
    breakStale(this.timingPath, owner);
    return false;
  }

  /** Compiles of live processes; files of dead ones are removed. */
  private liveCompiles(): number {
    let live = 0;
    for (const name of readdirSync(this.compilesDir)) {
      if (ownerAlive(compileOwner(name))) live++;
      else unlinkQuiet(join(this.compilesDir, name));
    }
    return live;
  }

  private prepare(): void {
    if (this.prepared) return;
    for (const d of [this.dir, this.compilesDir]) {
      mkdirSync(d, { recursive: true });
      // Shared by every user's flexfarm on the host: anyone may remove a dead process's file.
      try { chmodSync(d, 0o777); } catch { /* another user's directory: it was opened up by its creator */ }
    }
    this.prepared = true;
  }
}

function compileOwner(name: string): LockOwner {
  const [pid, start] = name.split('-');
  return { pid: /^\d+$/.test(pid ?? '') ? Number(pid) : -1, start: start && start !== '-' ? start : null };
}
