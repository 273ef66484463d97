// Which measurements the cost model is trained on once there are more than it can fit cheaply:
// the fastest (the region the search is refining), the most recent (where it is now) and an even
// spread over the rest ranked by speed, failures last (so the model still knows what is slow and
// what fails). Training cost then stays bounded however long the search runs.
import type { Measured } from './batch-explorer.ts';

/** Shares of the sample: the fastest, then the most recent; the rest is the spread. */
const BEST_SHARE = 0.25;
const RECENT_SHARE = 0.5;

/** At most `max` of `arrivals` (every measurement, in arrival order), in arrival order; all of
 *  them when they fit. `ranked`: the valid ones, fastest first. */
export function trainingSample(arrivals: readonly Measured[], ranked: readonly Measured[], max: number): Measured[] {
  if (arrivals.length <= max) return [...arrivals];
  const chosen = new Set<Measured>();
  for (const m of ranked.slice(0, Math.floor(max * BEST_SHARE))) chosen.add(m);
  const recent = Math.floor(max * RECENT_SHARE);
  for (let k = arrivals.length - 1, taken = 0; k >= 0 && taken < recent; k--) {
    if (chosen.has(arrivals[k])) continue;
    chosen.add(arrivals[k]);
    taken++;
  }
  const rest = [...ranked, ...arrivals.filter((m) => m.seconds === null)].filter((m) => !chosen.has(m));
  const spread = max - chosen.size;
  for (let k = 0; k < spread && rest.length; k++) chosen.add(rest[Math.floor((k * rest.length) / spread)]);
  return arrivals.filter((m) => chosen.has(m));
}
