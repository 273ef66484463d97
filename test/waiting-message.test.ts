// A target with work left and no agent of its kind up says so: the message's wording
// (waiting-message.ts), which targets are marked waiting (stalls.ts markWaiting), and when the
// farm tells of it (WaitingTracker: at once on a change, then a refresh each second).
import { expect, test } from 'vitest';
import type { AgentHeartbeat } from '../contracts/bus.ts';
import type { TargetKind } from '../contracts/result.ts';
import type { CampaignSnapshot, TargetSnapshot } from '../coordinator/campaign.ts';
import { AgentRegistry } from '../coordinator/farm/registry.ts';
import { markWaiting, WAITING_REFRESH_MS, WaitingTracker } from '../coordinator/farm/stalls.ts';
import { formatAgo, waitingMessage } from '../coordinator/farm/waiting-message.ts';

test('the message names the kind, the agent lost and how long ago, and what is queued', () => {
  expect(waitingMessage({ kind: 'cpu', lost: [{ name: 'vm-cpu-7070', lostAgoMs: 20_400 }], queued: 8, inFlight: 0 }))
    .toBe('waiting: no cpu agent up — vm-cpu-7070 lost 20 s ago; 8 queued');
});

test('several lost agents: the most recent first, at most three named, the rest counted', () => {
  const lost = [
    { name: 'old', lostAgoMs: 7_200_000 }, { name: 'new', lostAgoMs: 1_000 }, { name: 'mid', lostAgoMs: 90_000 },
    { name: 'older', lostAgoMs: 9_000_000 }, { name: 'oldest', lostAgoMs: 90_000_000 },
  ];
  expect(waitingMessage({ kind: 'gpu', lost, queued: 3, inFlight: 1 }))
    .toBe('waiting: no gpu agent up — new lost 1 s ago, mid lost 1 min ago, old lost 2.0 h ago, 2 more lost earlier; 3 queued, 1 in flight');
});

test('no agent of the kind known (a coordinator just restarted): says none was seen', () => {
  expect(waitingMessage({ kind: 'fpga', lost: [], queued: 0, inFlight: 0 }))
    .toBe('waiting: no fpga agent up — none seen since the coordinator started; 0 queued');
});

test('ages are rounded down, in the unit a person reads', () => {
  expect([0, 999, 59_999, 60_000, 3_599_999, 3_600_000, 9_000_000, 86_399_999, 86_400_000 * 3, -5, Number.NaN].map(formatAgo)).toEqual([
    '0 s ago', '0 s ago', '59 s ago', '1 min ago', '59 min ago', '1.0 h ago', '2.5 h ago', '23.9 h ago', '3 d ago', '0 s ago', '0 s ago',
  ]);
});

// ---- which targets wait ----------------------------------------------------------------------

function heartbeat(name: string, kind: TargetKind, extra: Partial<AgentHeartbeat> = {}): AgentHeartbeat {
  return {
    name, address: `127.0.0.1:${name.length + 9000}`, capacity: 4, maxBatch: 4, held: [], startedAt: 't0', intervalMs: 100,
    load: { queued: 2, measuring: 2, unpublished: 0 },
    device: { kind, name, model: 'm', cores: 1, memoryBytes: 1, toolchain: 'x', limits: {} }, ...extra,
  } as AgentHeartbeat;
}

function registry(): AgentRegistry {
  return new AgentRegistry({ lostAfterMs: 1_000, clientFor: () => ({ close() {} }) as never });
}

function target(kind: TargetKind, state: TargetSnapshot['state'] = 'running', queued = 8): TargetSnapshot {
  return { target: kind, state, budget: 40, measured: 10, valid: 10, best: null, queued, inFlight: 0 };
}

function snapshot(targets: TargetSnapshot[], state: CampaignSnapshot['state'] = 'running'): CampaignSnapshot {
  return { id: 'c1', state, op: 'gemm', shape: {}, workload: 'w', explorer: 'random', seed: 1, targets, createdAt: '' };
}

test('only a running target whose kind has no agent up waits; the campaign message joins theirs', () => {
  const agents = registry();
  agents.heartbeat(heartbeat('vm-cpu-7070', 'cpu'), 'heartbeat');
  agents.heartbeat(heartbeat('sim-1', 'sim'), 'heartbeat');
  const cpu = agents.get('vm-cpu-7070')!;
  agents.markLost(cpu, 'test');
  const now = cpu.lostAtMs! + 20_000;
  const marked = markWaiting(snapshot([target('cpu'), target('sim'), target('gpu', 'done')]), agents, now);
  expect(marked.targets.map((t) => t.state)).toEqual(['waiting', 'running', 'done']);
  expect(marked.targets[0].message).toBe('waiting: no cpu agent up — vm-cpu-7070 lost 20 s ago; 8 queued');
  expect(marked.message).toBe(marked.targets[0].message);
  expect(marked.targets[1].message).toBeUndefined();
  // An ended campaign never waits.
  expect(markWaiting(snapshot([target('cpu', 'cancelled')], 'cancelled'), agents, now).targets[0].state).toBe('cancelled');
  // Back: a new agent of the kind clears it.
  agents.heartbeat(heartbeat('vm-cpu-2', 'cpu'), 'heartbeat');
  const back = markWaiting(snapshot([target('cpu')]), agents, now);
  expect(back.targets[0].state).toBe('running');
  expect(back.message).toBeUndefined();
});

test('an agent that shut down cleanly counts as lost from the moment it said so', () => {
  const agents = registry();
  agents.heartbeat(heartbeat('a', 'sim'), 'heartbeat');
  agents.heartbeat(heartbeat('a', 'sim', { leaving: true }), 'heartbeat');
  const lostAt = agents.get('a')!.lostAtMs!;
  expect(markWaiting(snapshot([target('sim', 'running', 2)]), agents, lostAt + 3_500).message).toBe('waiting: no sim agent up — a lost 3 s ago; 2 queued');
});

test('the tracker tells of a change at once, then refreshes once a second while the same targets wait', () => {
  const tracker = new WaitingTracker();
  const waiting = (kinds: TargetKind[]) => snapshot(kinds.map((k) => ({ ...target(k), state: 'waiting' as const, message: `waiting: ${k}` })));
  expect(tracker.check(snapshot([target('cpu')]), 0)).toBeNull();
  expect(tracker.tracks('c1')).toBe(false);
  const started = tracker.check(waiting(['cpu']), 100);
  expect(started).toMatchObject({ kind: 'changed', cleared: [] });
  expect(started?.kind === 'changed' && started.started.map((t) => t.target)).toEqual(['cpu']);
  expect(tracker.tracks('c1')).toBe(true);
  expect(tracker.check(waiting(['cpu']), 100 + WAITING_REFRESH_MS - 1)).toBeNull();
  expect(tracker.check(waiting(['cpu']), 100 + WAITING_REFRESH_MS)).toEqual({ kind: 'refresh' });
  expect(tracker.check(waiting(['cpu', 'sim']), 1_200)).toMatchObject({ kind: 'changed', cleared: [] });
  expect(tracker.check(waiting(['sim']), 1_300)).toMatchObject({ kind: 'changed', cleared: ['cpu'] });
  expect(tracker.check(snapshot([target('sim')]), 1_400)).toMatchObject({ kind: 'changed', started: [], cleared: ['sim'] });
  expect(tracker.tracks('c1')).toBe(false);
  expect(tracker.check(snapshot([target('sim')]), 9_000)).toBeNull();
});
