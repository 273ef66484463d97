// Progress of a farm campaign for `flexfarm campaign watch`: a bar rewritten in place on a
// terminal (measured/budget over every target, valid, best so far per target, rate, ETA), plain
// periodic lines otherwise (logs, pipes, and --json, where stdout carries the final result).
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

export function campaignProgressWriter(stream: NodeJS.WriteStream, options: CampaignProgressOptions = {}): CampaignProgressWriter {
  const interactive = Boolean(stream.isTTY) && !options.forcePlain;
  const now = options.nowMs ?? Date.now;
  const intervalMs = options.intervalMs ?? PLAIN_INTERVAL_MS;
  let first: { atMs: number; measured: number } | null = null;
  let lastPlainMs = -Infinity, lastDrawMs = -Infinity, lastState = '', lastLength = 0;
  return {
    update(c) {
      const t = now();
      const totals = totalsOf(c);
      first ??= { atMs: t, measured: totals.measured };
      // The rate counts what this watch saw arrive: a campaign joined midway is not averaged over its past.
      const elapsedS = (t - first.atMs) / 1000;
      const rate = elapsedS > 0.5 ? (totals.measured - first.measured) / elapsedS : null;
      const line = progressLine(c, totals, rate);
      if (interactive) {
        // Events come per result (thousands a second on a big farm): redraw at most 10 times a second.
        if (t - lastDrawMs < 100 && c.state === lastState) return;
        lastDrawMs = t;
        lastState = c.state;
        // A pseudo-terminal without a size reports 0 columns.
        const width = Math.max(40, (stream.columns || 120) - 1);
        const text = `${bar(totals.budget ? totals.measured / totals.budget : 0)} ${line}`.slice(0, width);
        stream.write(`\r${text.padEnd(lastLength)}`);
        lastLength = text.length;
        return;
      }
      if (t - lastPlainMs >= intervalMs || c.state !== lastState) {
        stream.write(`${c.id} ${c.state}: ${line}\n`);
        lastPlainMs = t;
        lastState = c.state;
      }
    },
    finish() { if (interactive && lastLength) stream.write('\n'); },
  };
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
    return `${t.target} ${t.measured}/${t.budget}${again} ${best}`;
  });
  const left = totals.budget - totals.measured;
  const eta = c.state !== 'running' ? 'done' : ratePerS && ratePerS > 0 ? `ETA ${formatDuration(left / ratePerS)}` : 'ETA ?';
  const rate = ratePerS === null ? '?/s' : `${ratePerS.toFixed(ratePerS < 10 ? 2 : 1)}/s`;
  return `[${totals.measured}/${totals.budget}] valid ${totals.valid}  ${targets.join(' | ')}  ${rate}  ${eta}`;
}
