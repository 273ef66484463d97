// What a kernel is judged against on the device that measured it, for one workload: the
// unscheduled reference and the vendor library at that shape, timed once by the agent, and the
// device's FP32 peak (measured at start-up on a CPU, a spec figure elsewhere: DeviceInfo).
// An agent attaches it to its results (MeasureResult.yardstick); the coordinator keeps it in the
// tuning log as `reference` and `library` lines.

export interface Yardstick {
  /** Median seconds of the unscheduled reference kernel on this device. */
  referenceSeconds?: number;
  /** The vendor library at this shape on this device, when one is installed and computes the op. */
  library?: { name: string; seconds: number };
  /** Why there is no library figure (not installed, no anchor computes the op, it failed). */
  libraryMissing?: string;
}

/** A yardstick as figures against one kernel of `flops` taking `seconds`; null where unknown. */
export interface YardstickRatios {
  /** Reference seconds ÷ ours. */
  speedup: number | null;
  /** Ours ÷ the library, in GFLOP/s (above 1: faster than the library). */
  ofLibrary: number | null;
  /** Ours ÷ the device's FP32 peak, in GFLOP/s. */
  ofPeak: number | null;
}

export function yardstickRatios(y: Yardstick | undefined, peakGflops: number | undefined, flops: number | null, seconds: number): YardstickRatios {
  const ok = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x) && x > 0;
  return {
    speedup: ok(y?.referenceSeconds) ? y.referenceSeconds / seconds : null,
    ofLibrary: ok(y?.library?.seconds) ? y.library.seconds / seconds : null,
    ofPeak: ok(peakGflops) && flops !== null && flops > 0 ? flops / seconds / 1e9 / peakGflops : null,
  };
}
