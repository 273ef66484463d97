// Why the dispatcher sent work back to its queue (or forgot reclaimed work): a cause from a closed
// set and the agent it concerns, so observers (metrics) read the cause instead of parsing words.
export const REQUEUE_CAUSES = ['agent_lost', 'call_failed', 'deadline'] as const;
export type RequeueCause = (typeof REQUEUE_CAUSES)[number];

export interface RequeueReason {
  cause: RequeueCause;
  /** The agent the work was on. */
  agent: string;
  /** agent_lost: what the registry saw ('restarted', 'no heartbeat for 3100 ms', …). */
  detail?: string;
}
