// One fuzzing surface's run: a fast-check property checked `runs` times, each run bounded in time
// (a run that takes longer is a hang, reported as a failure with its input). The suite runs a few
// hundred per surface (FLEXFARM_FUZZ_RUNS overrides); `npm run bench:fuzz` runs >= 10,000.
import fc from 'fast-check';

export interface FuzzOutcome {
  surface: string;
  /** Generated inputs checked. */
  runs: number;
  seconds: number;
}

export interface FuzzSurface {
  name: string;
  /** Checks `runs` generated inputs; throws (with the counterexample) when the property fails. */
  run(runs: number, options?: FuzzOptions): Promise<FuzzOutcome>;
}

export interface FuzzOptions {
  seed?: number;
}

/** Runs per surface in the test suite. */
export function suiteRuns(fallback = 200): number {
  const n = Number(process.env.FLEXFARM_FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** Longest a single generated input may take before it counts as a hang. */
export const RUN_TIMEOUT_MS = 10_000;

/** fc.assert over an async property, counting the runs and failing any run that hangs. */
export async function checkProperty<T>(
  surface: string, arbitrary: fc.Arbitrary<T>, predicate: (input: T) => Promise<void> | void, runs: number, options: FuzzOptions = {},
): Promise<FuzzOutcome> {
  const started = performance.now();
  let count = 0;
  const out = await fc.check(fc.asyncProperty(arbitrary, async (input) => {
    count++;
    const began = performance.now();
    await withTimeout(Promise.resolve().then(() => predicate(input)), RUN_TIMEOUT_MS, `${surface}: one input took over ${RUN_TIMEOUT_MS} ms (a hang)`);
    // A synchronous hang blocks the timer above: it is caught here once it ends (or by the test's timeout).
    const tookMs = performance.now() - began;
    if (tookMs > RUN_TIMEOUT_MS) throw new Error(`${surface}: one input took ${Math.round(tookMs)} ms (a hang)`);
  }), { numRuns: runs, seed: options.seed, endOnFailure: true });
  if (out.failed) {
    const error = out.errorInstance as Error | undefined;
    throw new Error(`${surface}: failed at run ${out.numRuns} (seed ${out.seed}): ${String(error?.message ?? error).slice(0, 1_500)}\n` +
      `input: ${fc.stringify(out.counterexample?.[0]).slice(0, 1_500)}`, { cause: error });
  }
  return { surface, runs: count, seconds: (performance.now() - started) / 1000 };
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
