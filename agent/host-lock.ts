// Timing runs exclusively on a host: compiles may overlap each other, but never a timing run.
// A readers–writer lock with writer preference (timing waits for running compiles to finish,
// and no new compile starts while a timing run waits).

export class HostLock {
  private compiles = 0;
  private timing = false;
  private waitingTimers = 0;
  private waiters: (() => void)[] = [];

  async compile<T>(fn: () => Promise<T>): Promise<T> {
    while (this.timing || this.waitingTimers > 0) await this.wait();
    this.compiles++;
    try { return await fn(); } finally { this.compiles--; this.wake(); }
  }

  async time<T>(fn: () => Promise<T>): Promise<T> {
    this.waitingTimers++;
    while (this.timing || this.compiles > 0) await this.wait();
    this.waitingTimers--;
    this.timing = true;
    try { return await fn(); } finally { this.timing = false; this.wake(); }
  }

  private wait(): Promise<void> { return new Promise((resolve) => this.waiters.push(resolve)); }
  private wake(): void { const w = this.waiters; this.waiters = []; w.forEach((f) => f()); }
}
