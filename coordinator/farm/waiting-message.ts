// What a campaign target says while it cannot progress: no agent of its kind is up, which agents
// of that kind were lost and how long ago, and how much of its work waits. Pure (the farm passes
// the agents and counts), so every wording is unit-tested (test/waiting-message.test.ts).

export interface LostAgent {
  name: string;
  /** Milliseconds since the coordinator marked it lost. */
  lostAgoMs: number;
}

export interface Waiting {
  kind: string;
  /** Agents of the kind that the coordinator knew and lost, in any order. */
  lost: readonly LostAgent[];
  queued: number;
  inFlight: number;
}

/** Lost agents named in a message; older losses are counted, not named. */
export const NAMED_LOST_AGENTS = 3;

/** "waiting: no cpu agent up — vm-cpu-7070 lost 20 s ago; 8 queued" */
export function waitingMessage(w: Waiting): string {
  const lost = [...w.lost].sort((a, b) => a.lostAgoMs - b.lostAgoMs);
  const named = lost.slice(0, NAMED_LOST_AGENTS).map((a) => `${a.name} lost ${formatAgo(a.lostAgoMs)}`);
  if (lost.length > NAMED_LOST_AGENTS) named.push(`${lost.length - NAMED_LOST_AGENTS} more lost earlier`);
  // After a coordinator restart, campaigns resume before any agent has sent a heartbeat.
  const why = named.length ? named.join(', ') : 'none seen since the coordinator started';
  const work = `${w.queued} queued${w.inFlight ? `, ${w.inFlight} in flight` : ''}`;
  return `waiting: no ${w.kind} agent up — ${why}; ${work}`;
}

/** "0 s ago", "59 s ago", "3 min ago", "2.5 h ago", "4 d ago" (rounded down: never later than it was). */
export function formatAgo(ms: number): string {
  const s = Math.max(0, Number.isFinite(ms) ? ms : 0) / 1000;
  if (s < 60) return `${Math.floor(s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${(Math.floor(s / 360) / 10).toFixed(1)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}
