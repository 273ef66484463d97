// Issue 15, item 7, the short version of `npm run bench:soak`: sim agents in two host processes, a
// coordinator process and a real nats-server; an agent host SIGKILLed, the coordinator SIGKILLed
// and restarted, nats-server restarted, while campaigns run. No result is lost or logged twice.
import { spawn } from 'node:child_process';
import { expect, test } from 'vitest';
import { REPO } from './farm-processes.ts';

test('a farm under faults loses no result and logs none twice', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/soak.ts', '--agents', '10', '--hosts', '2', '--candidates', '2000',
    '--campaigns', '2', '--fault-every-s', '2', '--json'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
    child.once('exit', (c) => { clearTimeout(timer); resolve(c); });
  });
  expect(code, stderr).toBe(0);
  const summary = JSON.parse(stdout) as { lost: number; duplicated: number; logged: number; faults: Record<string, number>; rssMiB: { mib: number }[] };
  expect(summary.lost).toBe(0);
  expect(summary.duplicated).toBe(0);
  expect(summary.logged).toBe(2000);
  expect(summary.faults.agentHostsKilled).toBeGreaterThanOrEqual(1);
  expect(summary.faults.coordinatorRestarts).toBeGreaterThanOrEqual(1);
  expect(summary.faults.natsRestarts).toBeGreaterThanOrEqual(1);
  expect(Math.max(...summary.rssMiB.map((r) => r.mib))).toBeLessThan(1_024);
}, 120_000);
