// Timing runs exclusively on a host: compiles may overlap each other, but never a timing run.
// Two layers: a readers–writer lock with writer preference inside this process (timing waits for
// running compiles to finish, and no new compile starts while a timing run waits), and the same
// lock across every process of the host (host-file-lock.ts), so that two agents on one machine
// never time at once. The host-wide layer lives in a directory, by default under os.tmpdir();
// `dir: null` keeps the lock within this process (tests of the in-process layer only).
import os from 'node:os';
import { join } from 'node:path';
import { HostFileLock } from './host-file-lock.ts';

/** Where every flexfarm process of this host meets to take turns timing. */
export const DEFAULT_HOST_LOCK_DIR = join(os.tmpdir(), 'flexfarm-host-lock');

export interface HostLockOptions {
  /** Directory of the host-wide lock (default DEFAULT_HOST_LOCK_DIR); null: this process only. */
  dir?: string | null;
}

export class HostLock {
  private compiles = 0;
  private timing = false;
  private waitingTimers = 0;
  private waiters: (() => void)[] = [];
  private readonly host: HostFileLock | null;

  constructor(options: HostLockOptions = {}) {
    const dir = options.dir === undefined ? DEFAULT_HOST_LOCK_DIR : options.dir;
    this.host = dir === null ? null : new HostFileLock(dir);
  }

  async compile<T>(fn: () => Promise<T>): Promise<T> {
    while (this.timing || this.waitingTimers > 0) await this.wait();
    this.compiles++;
    try {
      const release = await this.host?.acquireCompile();
      try { return await fn(); } finally { release?.(); }
    } finally { this.compiles--; this.wake(); }
  }

  async time<T>(fn: () => Promise<T>): Promise<T> {
    this.waitingTimers++;
    while (this.timing || this.compiles > 0) await this.wait();
    this.waitingTimers--;
    this.timing = true;
    try {
      const release = await this.host?.acquireTiming();
      try { return await fn(); } finally { release?.(); }
    } finally { this.timing = false; this.wake(); }
  }

  private wait(): Promise<void> { return new Promise((resolve) => this.waiters.push(resolve)); }
  private wake(): void { const w = this.waiters; this.waiters = []; w.forEach((f) => f()); }
}
