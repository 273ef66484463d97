// The yardsticks the coordinator knows, per workload and device (keys.ts deviceKey): the
// unscheduled reference's and the vendor library's timings that agents attach to their results
// (contracts/yardstick.ts), and those the tuning log holds (`reference` and `library` lines).
// The latest figure of each kind wins, as in `best`.
import type { Yardstick } from '../contracts/yardstick.ts';
import { deviceKey } from './keys.ts';
import type { LibraryRecord, ReferenceRecord } from './records.ts';

export class YardstickBook {
  private readonly entries = new Map<string, Yardstick>();

  static fromLog(references: readonly ReferenceRecord[], libraries: readonly LibraryRecord[]): YardstickBook {
    const book = new YardstickBook();
    for (const r of references) if (r.median > 0) book.note(r.workload, deviceKey(r), { referenceSeconds: r.median });
    for (const l of libraries) if (l.median > 0) book.note(l.workload, deviceKey(l), { library: { name: l.library, seconds: l.median } });
    return book;
  }

  get(workload: string, device: string): Yardstick | undefined {
    return this.entries.get(`${workload}#${device}`);
  }

  /** Adds what `y` says; returns the parts that were not known yet (what a log should get). */
  note(workload: string, device: string, y: Yardstick): Yardstick {
    const key = `${workload}#${device}`;
    const known = this.entries.get(key) ?? {};
    const fresh: Yardstick = {};
    if (y.referenceSeconds !== undefined && known.referenceSeconds === undefined) fresh.referenceSeconds = y.referenceSeconds;
    if (y.library && !known.library) fresh.library = y.library;
    if (y.libraryMissing && !known.library && known.libraryMissing === undefined) fresh.libraryMissing = y.libraryMissing;
    this.entries.set(key, {
      ...known, ...(y.referenceSeconds !== undefined ? { referenceSeconds: y.referenceSeconds } : {}),
      ...(y.library ? { library: y.library, libraryMissing: undefined } : {}),
      ...(y.libraryMissing && !known.library && !y.library ? { libraryMissing: y.libraryMissing } : {}),
    });
    return fresh;
  }
}
