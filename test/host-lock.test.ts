// One timer per host: the timing lock holds across processes (another process holding it keeps
// this one from timing, and from compiling), compiles overlap each other, and a holder that died
// (SIGKILL, a recycled pid) never blocks the host.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { HostLock } from '../agent/host-lock.ts';
import { ownerAlive, processStart, readOwner } from '../agent/lock-file.ts';

const repo = join(import.meta.dirname, '..');
const dirs: string[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function lockDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'flexfarm-host-lock-'));
  dirs.push(d);
  return join(d, 'lock');
}

/** Starts a holder process and resolves once it holds the lock (or has died holding it). */
async function holder(dir: string, kind: 'timing' | 'compile', crash = false): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/host-lock-holder.ts', dir, kind, ...(crash ? ['crash'] : [])], { cwd: repo });
  children.push(child);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('held')) resolve(); });
    child.on('exit', () => (out.includes('held') ? resolve() : reject(new Error(`holder exited before holding the lock: ${out}`))));
  });
  if (crash) await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.on('exit', resolve)));
  return child;
}

function release(child: ChildProcessWithoutNullStreams): Promise<void> {
  child.stdin.write('release\n');
  return new Promise((resolve) => child.on('exit', () => resolve()));
}

/** Starts `fn` under the lock and reports whether it has begun. */
function track(run: (fn: () => Promise<void>) => Promise<void>) {
  const state = { started: false };
  const done = run(async () => { state.started = true; });
  return { state, done };
}

describe('host-wide timing lock', () => {
  it('another process timing keeps this one from timing and from compiling until it releases', async () => {
    const dir = lockDir();
    const other = await holder(dir, 'timing');
    const lock = new HostLock({ dir });
    const timing = track((fn) => lock.time(fn));
    const other2 = new HostLock({ dir });
    const compile = track((fn) => other2.compile(fn));
    await sleep(400); // many polls: a lock that let either through would have by now
    expect(timing.state.started).toBe(false);
    expect(compile.state.started).toBe(false);
    await release(other);
    await Promise.all([timing.done, compile.done]);
    expect(timing.state.started && compile.state.started).toBe(true);
    expect(existsSync(join(dir, 'timing.lock'))).toBe(false);
  });

  it('compiles in two processes overlap; a timer waits for the other process compile to end', async () => {
    const dir = lockDir();
    const other = await holder(dir, 'compile');
    const lock = new HostLock({ dir });
    await lock.compile(async () => { /* runs while the other process compiles */ });
    const timing = track((fn) => new HostLock({ dir }).time(fn));
    await sleep(400);
    expect(timing.state.started).toBe(false);
    await release(other);
    await timing.done;
    expect(timing.state.started).toBe(true);
    expect(readdirSync(join(dir, 'compiles'))).toEqual([]);
  });

  it('a timer killed while holding the lock does not block the host: its stale lock is removed', async () => {
    const dir = lockDir();
    const dead = await holder(dir, 'timing', true);
    expect(dead.signalCode).toBe('SIGKILL');
    const stale = readOwner(join(dir, 'timing.lock'));
    expect(stale?.pid).toBe(dead.pid);
    expect(ownerAlive(stale!)).toBe(false);
    let ran = false;
    await new HostLock({ dir }).time(async () => {
      ran = true;
      expect(readOwner(join(dir, 'timing.lock'))?.pid).toBe(process.pid);
    });
    expect(ran).toBe(true);
    expect(existsSync(join(dir, 'timing.lock'))).toBe(false);
  });

  it('a compile killed while registered does not keep timers waiting', async () => {
    const dir = lockDir();
    await holder(dir, 'compile', true);
    expect(readdirSync(join(dir, 'compiles'))).toHaveLength(1);
    await new HostLock({ dir }).time(async () => {});
    expect(readdirSync(join(dir, 'compiles'))).toEqual([]);
  });

  it('a lock naming a live pid with another start time (a recycled pid) is stale', async () => {
    const dir = lockDir();
    mkdirSync(dir, { recursive: true });
    const start = processStart('self');
    expect(start).not.toBeNull(); // Linux: /proc is there
    writeFileSync(join(dir, 'timing.lock'), `${process.pid} 1${start}\n`);
    expect(ownerAlive(readOwner(join(dir, 'timing.lock'))!)).toBe(false);
    await new HostLock({ dir }).time(async () => {});
    expect(existsSync(join(dir, 'timing.lock'))).toBe(false);
  });

  it('within one process, timing still excludes compiles and other timers', async () => {
    const lock = new HostLock({ dir: lockDir() });
    const events: string[] = [];
    let releaseTimer!: () => void;
    const timer = lock.time(() => new Promise<void>((resolve) => { events.push('time'); releaseTimer = resolve; }));
    await sleep(100);
    const compile = lock.compile(async () => { events.push('compile'); });
    const second = lock.time(async () => { events.push('time2'); });
    await sleep(200);
    expect(events).toEqual(['time']);
    releaseTimer();
    await Promise.all([timer, compile, second]);
    expect(events.slice(1).sort()).toEqual(['compile', 'time2']);
  });
});
