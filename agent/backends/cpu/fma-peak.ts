// The host CPU's FP32 peak, measured: a short microbenchmark of independent vector FMA chains
// on one core, times the kernels' timing threads (a burst on one core finds a quiet moment on a
// shared host far more often than one on every core at once) (12 accumulators of the kernels' vector width, enough to cover the FMA
// units' latency), compiled with the kernels' own flags, the best of ten bursts of about 20 ms
// (short bursts catch the quiet moments of a shared host). What it reports is what this host
// sustains, not a datasheet figure: a host busy throughout measures lower.
import { compileCached, type CompilerSpec } from '../../compile-cache.ts';
import { runChild } from '../../child-process.ts';

const CHAINS = 12;

export function fmaPeakSource(vectorWidth: number): string {
  return `/* FP32 peak: ${CHAINS} independent FMA chains of ${vectorWidth} lanes per thread */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <omp.h>
typedef float vf __attribute__((vector_size(${vectorWidth * 4})));
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static float run(long iters) {
  float sink = 0;
  #pragma omp parallel reduction(+:sink)
  {
    vf acc[${CHAINS}], a, b;
    for (int i = 0; i < ${vectorWidth}; i++) { a[i] = 0.999999f + 1e-9f * i; b[i] = 1e-6f; }
    for (int k = 0; k < ${CHAINS}; k++) for (int i = 0; i < ${vectorWidth}; i++) acc[k][i] = (float)(k + i + omp_get_thread_num());
    for (long n = 0; n < iters; n++) {
      for (int k = 0; k < ${CHAINS}; k++) acc[k] = acc[k] * a + b;
    }
    for (int k = 0; k < ${CHAINS}; k++) for (int i = 0; i < ${vectorWidth}; i++) sink += acc[k][i];
  }
  return sink;
}
int main(int argc, char **argv) {
  double target = argc > 1 ? atof(argv[1]) : 0.02;
  long iters = 1 << 14;
  double t = 0;
  float sink = 0;
  for (;;) {
    double t0 = now(); sink += run(iters); t = now() - t0;
    if (t >= target || iters > (1L << 40)) break;
    iters = t > 1e-4 ? (long)(iters * target / t * 1.1) + 1 : iters * 8;
  }
  double best = t;
  for (int r = 0; r < 9; r++) { double t0 = now(); sink += run(iters); double dt = now() - t0; if (dt < best) best = dt; }
  int threads = omp_get_max_threads();
  printf("{\\"gflops\\":%.3f,\\"threads\\":%d,\\"seconds\\":%.6f,\\"sink\\":%g}\\n",
    (double)threads * iters * ${CHAINS} * ${vectorWidth} * 2 / best / 1e9, threads, best, (double)(sink != sink));
  return 0;
}
`;
}

export interface PeakOptions {
  compiler: CompilerSpec;
  cacheDir: string;
  threads: number;
  vectorWidth: number;
  /** The ISA its vectors are (for the source text). */
  isa: string;
  timeoutMs?: number;
}

/** Measures the peak; throws when the benchmark cannot be built or run. */
export async function measureFmaPeak(options: PeakOptions): Promise<{ gflops: number; source: string }> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const binary = await compileCached(fmaPeakSource(options.vectorWidth), options.compiler, options.cacheDir, timeoutMs);
  const outcome = await runChild(binary, ['0.02'], { timeoutMs, env: { ...process.env, OMP_NUM_THREADS: '1' } });
  const report = JSON.parse(outcome.stdout.trim().split('\n').pop() || '{}') as { gflops?: number; threads?: number };
  if (outcome.code !== 0 || !(report.gflops! > 0)) throw new Error(`FMA microbenchmark failed (exit ${outcome.code}): ${outcome.stderr.trim().slice(-200)}`);
  return {
    gflops: report.gflops! * options.threads,
    source: `measured: FMA microbenchmark at start-up, ${Number(report.gflops!.toPrecision(4))} GFLOP/s on one core (${options.vectorWidth}-lane ${options.isa} vectors) × ${options.threads} threads`,
  };
}
