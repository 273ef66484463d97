// The farm takes one observer; metrics and the live page each have theirs. This calls every hook
// of every observer, in order.
import type { FarmObserver } from '../farm/farm.ts';

type Hook = keyof FarmObserver;
const HOOKS: readonly Hook[] = ['applied', 'remeasured', 'duplicate', 'campaignChanged', 'dispatched', 'requeued', 'dropped', 'forgotten', 'messageDropped'];

export function combineObservers(...observers: FarmObserver[]): FarmObserver {
  const combined: Record<string, (...args: unknown[]) => void> = {};
  for (const hook of HOOKS) {
    const fns = observers.map((o) => o[hook]).filter((f): f is NonNullable<typeof f> => typeof f === 'function') as ((...args: unknown[]) => void)[];
    if (fns.length) combined[hook] = (...args: unknown[]) => { for (const f of fns) f(...args); };
  }
  return combined as FarmObserver;
}
