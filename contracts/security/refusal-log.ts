// Log lines for refused calls, at most one per interval: a client retrying with a wrong token must
// not flood the log (the metric counts every one).
import type { AuthRefusal } from './auth-refusals.ts';

export function throttledRefusalLog(log: (line: string) => void, everyMs = 10_000): (refusal: AuthRefusal) => void {
  let last = -Infinity;
  let skipped = 0;
  return (r) => {
    const now = Date.now();
    if (now - last < everyMs) { skipped++; return; }
    last = now;
    log(`refused ${r.method} from ${r.peer} (${r.reason}): ${r.message}${skipped ? `; ${skipped} more refused since the last such line` : ''}`);
    skipped = 0;
  };
}
