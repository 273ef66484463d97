// Every measurement of recent campaigns as chart points for the live page: filled from the
// tuning log at start (campaigns resumed after a restart keep their history) and by the farm's
// `applied` hook. Bounded: the most recent campaigns only, and past a cap per campaign only the
// points that improve a target's best are kept (the best-so-far curve stays exact).
import type { MeasureResult, TargetKind } from '../../contracts/result.ts';

/** One measurement as the page draws it (short keys: thousands travel at once). */
export interface MeasurementPoint {
  /** Campaign id. */
  c: string;
  /** Device class. */
  t: TargetKind;
  /** 1-based index of the measurement within its campaign and device class. */
  n: number;
  /** Median seconds; null for a failure. */
  s: number | null;
  /** GFLOP/s; null for a failure. */
  g: number | null;
  /** Error code of a failure, else null. */
  e: string | null;
  /** Agent that measured it ('' when read back from the log). */
  a: string;
  /** When it was measured, ms since the epoch (the result's `at`): the page's wall-clock axis.
   *  Null when the result carries no readable time. */
  w: number | null;
}

export interface MeasurementStoreOptions {
  maxCampaigns?: number;
  maxPointsPerCampaign?: number;
}

interface CampaignPoints {
  points: MeasurementPoint[];
  counts: Map<TargetKind, number>;
  best: Map<TargetKind, number>;
}

export class MeasurementStore {
  private readonly campaigns = new Map<string, CampaignPoints>();
  private readonly maxCampaigns: number;
  private readonly maxPoints: number;

  constructor(options: MeasurementStoreOptions = {}) {
    this.maxCampaigns = options.maxCampaigns ?? 50;
    this.maxPoints = options.maxPointsPerCampaign ?? 200_000;
  }

  /** Adds a result of a campaign; `flops` of its workload gives GFLOP/s. Returns the point, or null if not kept. */
  add(campaign: string, result: MeasureResult, agent: string, flops: number): MeasurementPoint | null {
    let entry = this.campaigns.get(campaign);
    if (!entry) {
      entry = { points: [], counts: new Map(), best: new Map() };
      this.campaigns.set(campaign, entry);
      if (this.campaigns.size > this.maxCampaigns) this.campaigns.delete(this.campaigns.keys().next().value!);
    }
    const n = (entry.counts.get(result.target) ?? 0) + 1;
    entry.counts.set(result.target, n);
    const valid = !result.error && result.median !== null && Number.isFinite(result.median) && result.median > 0;
    const seconds = valid ? result.median! : null;
    const point: MeasurementPoint = {
      c: campaign, t: result.target, n, s: seconds, g: seconds !== null && flops > 0 ? flops / seconds / 1e9 : null,
      e: result.error ? result.error.code : valid ? null : 'UNKNOWN', a: agent, w: measuredAt(result),
    };
    const best = entry.best.get(result.target);
    const improves = seconds !== null && (best === undefined || seconds < best);
    if (improves) entry.best.set(result.target, seconds!);
    if (entry.points.length >= this.maxPoints && !improves) return null;
    entry.points.push(point);
    return point;
  }

  points(campaign: string): MeasurementPoint[] {
    return this.campaigns.get(campaign)?.points ?? [];
  }

  has(campaign: string): boolean { return this.campaigns.has(campaign); }
}

function measuredAt(result: MeasureResult): number | null {
  const ms = typeof result.at === 'string' ? Date.parse(result.at) : NaN;
  return Number.isFinite(ms) ? ms : null;
}
