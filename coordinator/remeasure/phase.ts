// A campaign target's re-measuring, after its search: the plan's slots are issued in order as
// candidates (each measured in a fresh process, like any candidate), their results collected, and
// once every slot has a result (or was given up: its agent lost, its device gone) the winner is
// the config with the best re-measured figure. Slots already in the tuning log (a coordinator
// restarted mid-way) are not measured again.
import type { MeasureResult } from '../../contracts/result.ts';
import { configKey } from '../keys.ts';
import { chooseBest, type ChosenBest } from './figures.ts';
import type { RemeasureConfig, RemeasurePlan, RemeasureSlot } from './plan.ts';

/** A re-measurement as the log keeps it: the result and its round. */
export interface RemeasureResult {
  result: MeasureResult;
  round: number;
}

export interface IssuedSlot {
  slot: RemeasureSlot;
  config: RemeasureConfig;
}

export class RemeasurePhase {
  /** Slots not yet issued, in order. */
  private readonly open: RemeasureSlot[];
  private readonly issued = new Map<string, RemeasureSlot>();
  private readonly results: RemeasureResult[] = [];
  private given = 0;

  /** `done`: re-measurements of this campaign already in the log. */
  constructor(readonly plan: RemeasurePlan, done: readonly RemeasureResult[] = []) {
    const doneKeys = new Set(done.map((d) => `${configKey(d.result.config)}#${d.round}`));
    this.open = plan.slots.filter((s) => !doneKeys.has(`${plan.configs[s.index].key}#${s.round}`));
    const planned = new Set(plan.configs.map((c) => c.key));
    this.results.push(...done.filter((d) => planned.has(configKey(d.result.config))));
  }

  /** Up to `n` slots to issue now, each under the candidate id `newId` gives it. */
  take(n: number, newId: () => string): (IssuedSlot & { candidateId: string })[] {
    return this.open.splice(0, Math.max(0, n)).map((slot) => {
      const candidateId = newId();
      this.issued.set(candidateId, slot);
      return { slot, config: this.plan.configs[slot.index], candidateId };
    });
  }

  /** The slot a candidate id was issued for; for an id this phase did not issue (issued before a
   *  restart, reported by an agent), the first open slot of the same config is claimed for it. */
  slotFor(candidateId: string, config?: MeasureResult['config']): IssuedSlot | undefined {
    let slot = this.issued.get(candidateId);
    if (!slot && config) {
      const key = configKey(config);
      const i = this.open.findIndex((s) => this.plan.configs[s.index].key === key);
      if (i >= 0) {
        [slot] = this.open.splice(i, 1);
        this.issued.set(candidateId, slot);
      }
    }
    return slot ? { slot, config: this.plan.configs[slot.index] } : undefined;
  }

  /** Takes the result of an issued slot; false when the id is none of this phase's. */
  complete(result: MeasureResult): boolean {
    const slot = this.issued.get(result.candidateId);
    if (!slot) return false;
    this.issued.delete(result.candidateId);
    this.results.push({ result, round: slot.round });
    return true;
  }

  /** The slot will never have a result (refused, or its agent lost after a restart). */
  forget(candidateId: string): void {
    if (this.issued.delete(candidateId)) this.given++;
  }

  /** Issued, result not yet in. */
  get pending(): number { return this.issued.size; }

  get finished(): boolean { return this.open.length === 0 && this.issued.size === 0; }

  progress(): { done: number; total: number } {
    const total = this.plan.slots.length;
    return { done: Math.min(total, this.results.length + this.given), total };
  }

  /** The winner over the search results it was planned from, by re-measured figure. */
  winner<T extends MeasureResult>(search: readonly T[]): ChosenBest<T> | null {
    return chooseBest(search, this.results.map((r) => r.result));
  }
}
