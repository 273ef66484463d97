// The yardstick an agent attaches to its results (contracts/yardstick.ts): once per workload it
// serves, the unscheduled reference's timing (the backend times it anyway, to check candidates)
// and the vendor library's at that shape where the backend offers one. Worked out on the first
// candidate of a workload, then the same for all its results; a failure to time either is said,
// never a failed candidate.
import type { Backend } from '../contracts/backend.ts';
import { LIMITS } from '../contracts/messages/limits.ts';
import type { TimingProtocol } from '../contracts/result.ts';
import type { Yardstick } from '../contracts/yardstick.ts';
import { defineFromKey } from '../tensor/ops/registry.ts';

const clip = (text: string, chars: number): string => (text.length <= chars ? text : `${text.slice(0, chars - 1)}…`);

export class YardstickTimer {
  private readonly cache = new Map<string, Promise<Yardstick>>();

  constructor(private readonly backend: Backend, private readonly log?: (line: string) => void) {}

  of(workload: string, protocol: TimingProtocol): Promise<Yardstick> {
    let y = this.cache.get(workload);
    if (!y) {
      y = this.time(workload, protocol);
      this.cache.set(workload, y);
    }
    return y;
  }

  private async time(workload: string, protocol: TimingProtocol): Promise<Yardstick> {
    let def;
    try { def = defineFromKey(workload); } catch { return {}; }
    const out: Yardstick = {};
    try {
      const ref = await this.backend.reference(def, protocol);
      if (Number.isFinite(ref.seconds) && ref.seconds > 0) out.referenceSeconds = ref.seconds;
    } catch (err) {
      this.log?.(`reference of ${workload} not timed: ${(err as Error).message}`);
    }
    if (!this.backend.library) {
      out.libraryMissing = `the ${this.backend.kind} backend knows no vendor library`;
      return out;
    }
    try {
      const lib = await this.backend.library(def, protocol);
      if ('missing' in lib) out.libraryMissing = lib.missing;
      else if (!(lib.seconds > 0 && lib.seconds <= LIMITS.maxSeconds)) out.libraryMissing = `${lib.library} gave no usable time (${lib.seconds} s)`;
      else out.library = { name: clip(lib.library, LIMITS.libraryNameChars), seconds: lib.seconds };
    } catch (err) {
      out.libraryMissing = `library timing failed: ${(err as Error).message}`;
    }
    // Within the wire's bounds: a yardstick the coordinator refuses would cost every result it rides on.
    if (out.libraryMissing !== undefined) out.libraryMissing = clip(out.libraryMissing, LIMITS.errorMessageChars);
    if (out.library) this.log?.(`${out.library.name} at ${workload}: ${(out.library.seconds * 1e3).toFixed(3)} ms`);
    return out;
  }
}
