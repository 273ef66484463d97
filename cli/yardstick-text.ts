// A best kernel against its yardstick in one line, as `tune`, `best` and `campaign get` print
// it: speedup over the unscheduled reference, ours ÷ the vendor library (named, with its figure
// measured on that device) and the fraction of the device's FP32 peak (with where it comes from).

export interface YardstickFigures {
  speedup: number | null;
  library: { name: string; gflops: number | null } | null;
  ofLibrary: number | null;
  libraryMissing?: string;
  peak: { gflops: number; source: string } | null;
  ofPeak: number | null;
}

const ratio = (r: number) => (r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(1) : r.toFixed(2));
const gflops = (g: number | null) => (g === null ? '?' : g >= 100 ? g.toFixed(0) : g.toFixed(1));

/** Its parts, or an empty list when the log or the agent knows none of them. */
export function yardstickParts(y: YardstickFigures): string[] {
  const parts: string[] = [];
  if (y.speedup !== null) parts.push(`${ratio(y.speedup)}x the reference`);
  if (y.library && y.ofLibrary !== null) parts.push(`${ratio(y.ofLibrary)}x ${y.library.name} (${gflops(y.library.gflops)} GFLOP/s on this device)`);
  else if (y.libraryMissing) parts.push(`no library figure (${y.libraryMissing})`);
  if (y.peak && y.ofPeak !== null) {
    parts.push(`${(100 * y.ofPeak).toFixed(y.ofPeak >= 0.1 ? 0 : 1)}% of FP32 peak (${gflops(y.peak.gflops)} GFLOP/s, ${y.peak.source}` +
      `${y.ofPeak > 1 ? '; above it: the peak was measured while the host was busy' : ''})`);
  }
  return parts;
}
