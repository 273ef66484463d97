// `campaign watch`'s plain lines: one at least every interval while nothing arrives, saying how long
// it has been quiet; the rate and ETA come from the last minute, so a stall does not stay in them.
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { campaignProgressWriter } from '../cli/campaign-progress.ts';
import type * as pb from '../proto/flexfarm/v1/coordinator.ts';

beforeEach(() => { vi.useFakeTimers({ now: 0 }); });
afterEach(() => { vi.useRealTimers(); });

function campaign(measured: number): pb.Campaign {
  return {
    id: 'c1', state: 'running', targets: [{ target: 'cpu', budget: 100, measured, valid: measured, queued: 4, inFlight: 0 }],
  } as unknown as pb.Campaign;
}

function writer() {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => { lines.push(s); return true; } } as unknown as NodeJS.WriteStream;
  return { lines, progress: campaignProgressWriter(stream, { nowMs: () => Date.now() }) };
}

test('a quiet campaign still gets a line every 5 s, saying for how long nothing arrived', () => {
  const { lines, progress } = writer();
  progress.update(campaign(10));
  expect(lines).toHaveLength(1);
  vi.advanceTimersByTime(45_000);
  expect(lines.length).toBeGreaterThanOrEqual(9);
  expect(lines.at(-1)).toMatch(/\[10\/100\].*\(no result for 45 s\)\n$/);
  progress.finish();
  vi.advanceTimersByTime(20_000);
  expect(lines.length).toBeLessThanOrEqual(10); // nothing after finish
});

test('the ETA comes from the last minute, not from the whole watch with its stall', () => {
  const { lines, progress } = writer();
  progress.update(campaign(0));
  vi.advanceTimersByTime(120_000); // stalled for two minutes
  expect(lines.at(-1)).toMatch(/ETA \?/);
  for (let i = 1; i <= 10; i++) {
    vi.advanceTimersByTime(1_000);
    progress.update(campaign(i * 2)); // then 2 a second
  }
  vi.advanceTimersByTime(5_000);
  const line = lines.at(-1)!;
  const rate = Number(/ (\d+\.\d+)\/s /.exec(line)![1]);
  // Averaged over the whole watch it would be 20 / 135 s = 0.15/s; over the last minute about 1.3/s.
  expect(rate).toBeGreaterThan(1);
  progress.finish();
});

function waiting(measured: number, message: string): pb.Campaign {
  const c = campaign(measured);
  return { ...c, message, targets: c.targets.map((t) => ({ ...t, state: 'waiting', message })) } as pb.Campaign;
}

test('a target that starts or stops waiting for an agent gets a line at once, with the coordinator\'s message', () => {
  const { lines, progress } = writer();
  progress.update({ ...campaign(10), targets: campaign(10).targets.map((t) => ({ ...t, state: 'running' })) } as pb.Campaign);
  vi.advanceTimersByTime(1_000);
  const message = 'waiting: no cpu agent up — vm-cpu-7070 lost 1 s ago; 4 queued';
  progress.update(waiting(10, message));
  expect(lines).toHaveLength(2); // not held back to the 5 s interval
  expect(lines[1]).toBe(`c1 running: [10/100] valid 10  cpu waiting 10/100 no valid yet  0.00/s  ETA ?  ${message}\n`);
  // Still waiting: the periodic line repeats the (refreshed) message after the quiet time.
  progress.update(waiting(10, message.replace('1 s', '5 s')));
  vi.advanceTimersByTime(5_000);
  expect(lines.at(-1)).toMatch(/cpu waiting 10\/100 .*\(no result for 6 s\) {2}waiting: no cpu agent up — vm-cpu-7070 lost 5 s ago; 4 queued\n$/);
  const before = lines.length;
  progress.update({ ...campaign(11), targets: campaign(11).targets.map((t) => ({ ...t, state: 'running' })) } as pb.Campaign);
  expect(lines).toHaveLength(before + 1);
  expect(lines.at(-1)).not.toContain('waiting');
  progress.finish();
});

test('on a terminal, waiting is said on a line of its own above the bar', () => {
  const out: string[] = [];
  const stream = { isTTY: true, columns: 80, write: (s: string) => { out.push(s); return true; } } as unknown as NodeJS.WriteStream;
  const progress = campaignProgressWriter(stream, { nowMs: () => Date.now() });
  progress.update({ ...campaign(10), targets: campaign(10).targets.map((t) => ({ ...t, state: 'running' })) } as pb.Campaign);
  const message = 'waiting: no cpu agent up — vm-cpu-7070 lost 0 s ago; 4 queued';
  progress.update(waiting(10, message));
  expect(out.join('')).toContain(`\r${message}`);
  expect(out.join('')).toMatch(new RegExp(`${message} *\\n\\r\\[`));
  progress.update({ ...campaign(12), targets: campaign(12).targets.map((t) => ({ ...t, state: 'running' })) } as pb.Campaign);
  expect(out.join('')).toContain('c1: every target has an agent up again');
  progress.finish();
});
