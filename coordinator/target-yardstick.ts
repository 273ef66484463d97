// A campaign target's best against its device's yardstick: the unscheduled reference and the
// vendor library timed by that device's agent (yardstick-book.ts) and the device's FP32 peak
// (DeviceInfo.peakGflops, with where it comes from). Worked out whenever a snapshot is taken.
import { targetSpec } from '../contracts/targets.ts';
import { yardstickRatios } from '../contracts/yardstick.ts';
import type { CampaignSnapshot } from './campaign.ts';
import { deviceKey } from './keys.ts';
import type { YardstickBook } from './yardstick-book.ts';

export interface TargetYardstick {
  /** The device the figures are of (the best's): its model. */
  device: string;
  /** The device is the sim landscape: every figure here is simulated. */
  simulated: boolean;
  reference?: { seconds: number; gflops: number };
  library?: { name: string; seconds: number; gflops: number };
  /** Why there is no library figure. */
  libraryMissing?: string;
  peak?: { gflops: number; source: string };
  /** The best: reference ÷ ours; ours ÷ library (GFLOP/s); ours ÷ peak. Null where unknown. */
  speedup: number | null;
  ofLibrary: number | null;
  ofPeak: number | null;
}

/** The snapshot with each target that has a best given its yardstick; `flops` of the workload. */
export function markYardsticks(snapshot: CampaignSnapshot, book: YardstickBook, flops: number): CampaignSnapshot {
  return {
    ...snapshot,
    targets: snapshot.targets.map((plain) => {
      // The page and the CLI mark a simulated target's figures as such (contracts/targets.ts).
      const t = targetSpec(plain.target)?.simulated ? { ...plain, simulated: true as const } : plain;
      const device = t.best?.device;
      if (!t.best || !device) return t;
      const y = book.get(snapshot.workload, deviceKey({ target: t.target, device }));
      const gflops = (seconds: number) => flops / seconds / 1e9;
      const ratios = yardstickRatios(y, device.peakGflops, flops, t.best.seconds);
      const yardstick: TargetYardstick = {
        device: device.model, simulated: Boolean(targetSpec(t.target)?.simulated),
        ...(y?.referenceSeconds ? { reference: { seconds: y.referenceSeconds, gflops: gflops(y.referenceSeconds) } } : {}),
        ...(y?.library ? { library: { name: y.library.name, seconds: y.library.seconds, gflops: gflops(y.library.seconds) } } : {}),
        ...(y?.libraryMissing && !y.library ? { libraryMissing: y.libraryMissing } : {}),
        ...(device.peakGflops ? { peak: { gflops: device.peakGflops, source: device.peakSource ?? 'reported by the agent' } } : {}),
        ...ratios,
      };
      return { ...t, yardstick };
    }),
  };
}
