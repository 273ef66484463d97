// Progress of a farm campaign for `flexfarm campaign watch`: a bar rewritten in place on a
// terminal (measured/budget over every target, valid, best so far per target, rate, ETA), plain
// periodic lines otherwise (logs, pipes, and --json, where stdout carries the final result). A
// target waiting for an agent of its kind says so, with the coordinator's message, at once.
import type * as pb from '../proto/flexfarm/v1/coordinator.ts';
import { bar, formatDuration, formatSeconds } from './progress.ts';

export interface CampaignProgressWriter {
  update(campaign: pb.Campaign): void;
  finish(): void;
}

export interface CampaignProgressOptions {
  /** Plain lines even on a terminal (--json). */
  forcePlain?: boolean;
  /** Plain mode: at most one line per this interval (state changes are always printed). */
  intervalMs?: number;
  nowMs?: () => number;
}

const PLAIN_INTERVAL_MS = 5_000;
/** The rate (and so the ETA) is what arrived over this last stretch: a stall, or a campaign
 *  joined midway, does not skew it for the rest of the watch. */
const RATE_WINDOW_MS = 60_000;

export function campaignProgressWriter(stream: NodeJS.WriteStream, options: CampaignProgressOptions = {}): CampaignProgressWriter {
  const interactive = Boolean(stream.isTTY) && !options.forcePlain;
  const now = options.nowMs ?? Date.now;
  const intervalMs = options.intervalMs ?? PLAIN_INTERVAL_MS;
  /** (time, measured) when the count changed, oldest first; the newest always kept. */
  const samples: { atMs: number; measured: number }[] = [];
  let last: pb.Campaign | null = null;
  let lastPlainMs = -Infinity, lastDrawMs = -Infinity, lastState = '', lastLength = 0, lastChangeMs = 0;

  const rateAt = (t: number): number | null => {
    while (samples.length > 1 && samples[0].atMs < t - RATE_WINDOW_MS) samples.shift();
    const oldest = samples[0], newest = samples[samples.length - 1];
    const elapsedS = (t - oldest.atMs) / 1000;
    return elapsedS > 0.5 ? (newest.measured - oldest.measured) / elapsedS : null;
  };

  const render = (c: pb.Campaign, t: number, tick: boolean) => {
    const totals = totalsOf(c);
    let line = progressLine(c, totals, rateAt(t));
    const quietS = (t - lastChangeMs) / 1000;
    if (c.state === 'running' && quietS >= intervalMs / 1000) line += `  (no result for ${Math.round(quietS)} s)`;
    // While it runs, the coordinator's message says why targets wait (empty when none does).
    if (c.state === 'running' && c.message) line += `  ${c.message}`;
    if (interactive) {
      // Events come per result (thousands a second on a big farm): redraw at most 10 times a second.
      const changed = stateOf(c) !== lastState;
      if (!tick && t - lastDrawMs < 100 && !changed) return;
      // A target starts or stops waiting: said on a line of its own above the bar, which the
      // terminal's width may cut.
      if (changed && lastState && c.state === 'running') {
        stream.write(`\r${(c.message || `${c.id}: every target has an agent up again`).padEnd(lastLength)}\n`);
        lastLength = 0;
      }
      lastDrawMs = t;
      lastState = stateOf(c);
      // A pseudo-terminal without a size reports 0 columns.
      const width = Math.max(40, (stream.columns || 120) - 1);
      const text = `${bar(totals.budget ? totals.measured / totals.budget : 0)} ${line}`.slice(0, width);
      stream.write(`\r${text.padEnd(lastLength)}`);
      lastLength = text.length;
      return;
    }
    // A tick may come a little early: it still counts as the interval's line.
    if (t - lastPlainMs >= intervalMs - (tick ? 250 : 0) || stateOf(c) !== lastState) {
      stream.write(`${c.id} ${c.state}: ${line}\n`);
      lastPlainMs = t;
      lastState = stateOf(c);
    }
  };

  // While nothing arrives, the last state is said again every interval, with how long it has
  // been quiet: a stalled campaign is never a silent one. The check runs each second, so a line
  // printed off the beat (a state change) still has the next one within the interval.
  const timer = setInterval(() => { if (last) render(last, now(), true); }, Math.min(1_000, intervalMs));
  timer.unref();
  return {
    update(c) {
      const t = now();
      const measured = totalsOf(c).measured;
      if (!samples.length || samples[samples.length - 1].measured !== measured) {
        samples.push({ atMs: t, measured });
        lastChangeMs = t;
      }
      last = c;
      render(c, t, false);
    },
    finish() {
      clearInterval(timer);
      if (interactive && lastLength) stream.write('\n');
    },
  };
}

/** What a line is printed at once for: the campaign's state and which targets wait. */
function stateOf(c: pb.Campaign): string {
  return [c.state, ...c.targets.filter((t) => t.state === 'waiting').map((t) => t.target)].join(' ');
}

interface Totals { measured: number; budget: number; valid: number }

function totalsOf(c: pb.Campaign): Totals {
  let measured = 0, budget = 0, valid = 0;
  for (const t of c.targets) {
    measured += t.measured;
    // A target its explorer stopped early will not spend the rest of its budget.
    budget += t.stopReason ? t.measured : t.budget;
    valid += t.valid;
  }
  return { measured, budget, valid };
}

/** "[45/200] valid 40  cpu best 1.230 ms (12.3 GFLOP/s) | sim …  12.5/s  ETA 13s" */
export function progressLine(c: pb.Campaign, totals: Totals, ratePerS: number | null): string {
  const targets = c.targets.map((t) => {
    const best = t.best ? `best ${formatSeconds(t.best.seconds)} (${t.best.gflops.toFixed(1)} GFLOP/s)` : 'no valid yet';
    const again = t.remeasureTotal ? ` re-measured ${t.remeasureDone}/${t.remeasureTotal}` : '';
    const waiting = t.state === 'waiting' ? ' waiting' : '';
    return `${t.target}${waiting} ${t.measured}/${t.budget}${again} ${best}`;
  });
  const left = totals.budget - totals.measured;
  const eta = c.state !== 'running' ? 'done' : ratePerS && ratePerS > 0 ? `ETA ${formatDuration(left / ratePerS)}` : 'ETA ?';
  const rate = ratePerS === null ? '?/s' : `${ratePerS.toFixed(ratePerS < 10 ? 2 : 1)}/s`;
  return `[${totals.measured}/${totals.budget}] valid ${totals.valid}  ${targets.join(' | ')}  ${rate}  ${eta}`;
}
