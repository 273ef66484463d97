// Targets that cannot progress. A running target whose device kind has no agent up is `waiting`,
// with a message naming the agents of that kind that were lost (waiting-message.ts). It is worked
// out whenever a snapshot is taken and never persisted, so it clears as soon as an agent of the
// kind is up again, and a restarted coordinator works it out afresh.
import type { TargetKind } from '../../contracts/result.ts';
import type { CampaignSnapshot, TargetSnapshot } from '../campaign.ts';
import type { AgentRegistry } from './registry.ts';
import { waitingMessage } from './waiting-message.ts';

/** Watchers of a waiting campaign get a fresh snapshot this often, so "lost N s ago" stays true. */
export const WAITING_REFRESH_MS = 1_000;

/** The snapshot with its running targets that have no agent up marked waiting, and their messages
 *  joined into the campaign's message. */
export function markWaiting(snapshot: CampaignSnapshot, registry: AgentRegistry, nowMs = Date.now()): CampaignSnapshot {
  if (snapshot.state !== 'running') return snapshot;
  const messages: string[] = [];
  const targets = snapshot.targets.map((t): TargetSnapshot => {
    if (t.state !== 'running' || registry.anyUp(t.target)) return t;
    const lost = registry.list().filter((a) => a.kind === t.target && a.state === 'lost')
      .map((a) => ({ name: a.name, lostAgoMs: nowMs - (a.lostAtMs ?? a.lastSeenMs) }));
    const message = waitingMessage({ kind: t.target, lost, queued: t.queued, inFlight: t.inFlight });
    messages.push(message);
    return { ...t, state: 'waiting', message };
  });
  if (!messages.length) return snapshot;
  return { ...snapshot, targets, message: [snapshot.message, ...messages].filter(Boolean).join('; ') };
}

/** What changed since a campaign was last checked. */
export type WaitingChange =
  /** Targets started or stopped waiting: say so at once (log, observers, watchers). */
  | { kind: 'changed'; started: TargetSnapshot[]; cleared: TargetKind[] }
  /** The same targets still wait and a refresh is due (watchers only). */
  | { kind: 'refresh' }
  | null;

/** Remembers which targets of each campaign were waiting when last checked. */
export class WaitingTracker {
  private readonly last = new Map<string, { targets: Set<TargetKind>; toldMs: number }>();

  /** True when the campaign had waiting targets at its last check (it must be checked again). */
  tracks(campaignId: string): boolean { return this.last.has(campaignId); }

  check(snapshot: CampaignSnapshot, nowMs = Date.now()): WaitingChange {
    const waiting = snapshot.targets.filter((t) => t.state === 'waiting');
    const before = this.last.get(snapshot.id)?.targets ?? new Set<TargetKind>();
    const now = new Set(waiting.map((t) => t.target));
    const started = waiting.filter((t) => !before.has(t.target));
    const cleared = [...before].filter((k) => !now.has(k));
    if (!now.size) this.last.delete(snapshot.id);
    if (started.length || cleared.length) {
      if (now.size) this.last.set(snapshot.id, { targets: now, toldMs: nowMs });
      return { kind: 'changed', started, cleared };
    }
    const entry = this.last.get(snapshot.id);
    if (!entry || nowMs - entry.toldMs < WAITING_REFRESH_MS) return null;
    entry.toldMs = nowMs;
    return { kind: 'refresh' };
  }

  forget(campaignId: string): void { this.last.delete(campaignId); }
}
