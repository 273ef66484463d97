// The valid measurements kept sorted as they arrive (fastest first, earlier arrival first among
// equals), so that a long search asks for its best points without sorting thousands every round.

export interface RankedEntry {
  key: string;
  seconds: number | null;
  order: number;
}

export class RankedMeasurements<T extends RankedEntry> {
  private readonly sorted: T[] = [];

  get size(): number { return this.sorted.length; }

  /** The measurement of `m.key` is now `m`: the previous one (if any) leaves, `m` enters if valid. */
  set(m: T, previous?: T): void {
    if (previous && previous.seconds !== null) {
      const at = this.sorted.indexOf(previous);
      if (at >= 0) this.sorted.splice(at, 1);
    }
    if (m.seconds === null) return;
    let lo = 0, hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(this.sorted[mid], m)) lo = mid + 1;
      else hi = mid;
    }
    this.sorted.splice(lo, 0, m);
  }

  /** The `count` fastest (all when omitted), fastest first; a copy. */
  top(count?: number): T[] {
    return this.sorted.slice(0, count);
  }

  first(): T | null { return this.sorted[0] ?? null; }
}

const before = (a: RankedEntry, b: RankedEntry) => a.seconds! < b.seconds! || (a.seconds === b.seconds && a.order < b.order);
