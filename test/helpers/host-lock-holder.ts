// A second process on the host for the host-lock tests: takes the host-wide timing or compile
// lock in DIR, says "held" on stdout, then releases it when a line arrives on stdin ("release"),
// or, with "crash", dies by SIGKILL while holding it (as a crashed agent would).
//   node --import tsx test/helpers/host-lock-holder.ts DIR timing|compile [crash]
import { createInterface } from 'node:readline';
import { HostFileLock } from '../../agent/host-file-lock.ts';

const [dir, kind, crash] = process.argv.slice(2);
const lock = new HostFileLock(dir);
const release = kind === 'timing' ? await lock.acquireTiming() : await lock.acquireCompile();
process.stdout.write('held\n');
if (crash === 'crash') process.kill(process.pid, 'SIGKILL');
const lines = createInterface({ input: process.stdin });
for await (const _ of lines) break;
release();
process.stdout.write('released\n');
process.exit(0);
