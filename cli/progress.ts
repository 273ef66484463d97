// Progress of a tuning run on the command line: a bar rewritten in place on a terminal, plain
// periodic lines otherwise (logs, pipes, --json where stdout carries the result).
import type { TuneProgress } from '../coordinator/tune.ts';

export interface ProgressWriter {
  update(p: TuneProgress): void;
  finish(): void;
}

const PLAIN_INTERVAL_MS = 5000;

export function progressWriter(stream: NodeJS.WriteStream, options: { forcePlain?: boolean } = {}): ProgressWriter {
  const interactive = Boolean(stream.isTTY) && !options.forcePlain;
  let lastPlain = 0, lastLine = '';
  return {
    update(p) {
      const line = describe(p);
      if (interactive) {
        const fraction = p.remeasure ? p.remeasure.done / Math.max(1, p.remeasure.total) : p.measured / p.budget;
        stream.write(`\r${bar(fraction)} ${line}`.padEnd(lastLine.length + 2));
        lastLine = line;
        return;
      }
      const now = Date.now();
      const edge = p.remeasure ? p.remeasure.done <= 1 || p.remeasure.done === p.remeasure.total : p.measured === p.budget || p.measured === 1;
      if ((now - lastPlain >= PLAIN_INTERVAL_MS || edge) && line !== lastLine) {
        stream.write(`${line}\n`);
        lastPlain = now;
        lastLine = line;
      }
    },
    finish() { if (interactive && lastLine) stream.write('\n'); },
  };
}

function describe(p: TuneProgress): string {
  if (p.remeasure) return `re-measuring the best configs in fresh processes: ${p.remeasure.done}/${p.remeasure.total}`;
  const rate = p.measured / Math.max(p.elapsedMs / 1000, 1e-3);
  const etaS = rate > 0 ? (p.budget - p.measured) / rate : Infinity;
  const best = p.best ? `best ${formatSeconds(p.best.seconds)} (${p.best.gflops.toFixed(1)} GFLOP/s)` : 'no valid schedule yet';
  const last = p.last?.error ? `  last: ${p.last.error.code}` : '';
  return `[${p.measured}/${p.budget}] valid ${p.valid}  ${best}  ${rate.toFixed(2)}/s  ETA ${formatDuration(etaS)}${last}`;
}

export function bar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

export function formatSeconds(s: number): string {
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(2)} us`;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.ceil(s)}s`;
  return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
}
