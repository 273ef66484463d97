// The dispatcher explains a requeue in words that name the agent; a metric label must come from a
// small fixed set, so the words are mapped to one of these.
export const REDISPATCH_REASONS = ['agent_lost', 'call_failed', 'deadline', 'other'] as const;
export type RedispatchReason = (typeof REDISPATCH_REASONS)[number];

export function redispatchReason(text: string): RedispatchReason {
  if (text.startsWith('deadline')) return 'deadline';
  if (text.startsWith('Measure on')) return 'call_failed';
  if (text.startsWith('agent ')) return 'agent_lost';
  return 'other';
}
