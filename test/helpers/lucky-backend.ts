// A stub landscape where the first measurement of every config is lucky: the sim backend's figure
// scaled by a factor from 0.6 to 1 (fixed per config), later measurements the sim's own. The
// winner's curse, made deterministic: the search's best is whichever config was luckiest.
import { createHash } from 'node:crypto';
import { SimBackend } from '../../agent/backends/sim/sim-backend.ts';
import type { Backend, ReferenceTiming } from '../../contracts/backend.ts';
import { median, type Candidate, type DeviceInfo, type MeasureResult, type TimingProtocol } from '../../contracts/result.ts';
import { timingSpread } from '../../contracts/timing-spread.ts';
import { configKey } from '../../coordinator/keys.ts';
import type { ComputeDef } from '../../tensor/compute.ts';
import type { Config } from '../../tensor/templates/template.ts';

export class LuckyBackend implements Backend {
  readonly inner = new SimBackend();
  readonly kind = this.inner.kind;
  readonly template = this.inner.template;
  readonly limits = this.inner.limits;
  private readonly seen = new Set<string>();

  /** The factor of a config's first measurement. */
  static luck(config: Config): number {
    const h = createHash('sha256').update(configKey(config)).digest().readUInt32LE(0);
    return 0.6 + 0.4 * (h / 2 ** 32);
  }

  describe(): DeviceInfo { return this.inner.describe(); }

  async measure(candidate: Candidate, protocol: TimingProtocol): Promise<MeasureResult> {
    const r = await this.inner.measure(candidate, protocol);
    const key = configKey(candidate.config);
    if (r.error || this.seen.has(key)) return r;
    this.seen.add(key);
    const seconds = r.seconds.map((s) => s * LuckyBackend.luck(candidate.config));
    return { ...r, seconds, median: median(seconds), spread: timingSpread(seconds) };
  }

  /** What every measurement after the first gives. */
  trueSeconds(def: ComputeDef, config: Config, protocol: TimingProtocol): number {
    return median(this.inner.seconds(def, config, protocol.repeat))!;
  }

  reference(def: ComputeDef, protocol: TimingProtocol): Promise<ReferenceTiming> { return this.inner.reference(def, protocol); }
  source(def: ComputeDef, config: Config): string { return this.inner.source(def, config); }
}
