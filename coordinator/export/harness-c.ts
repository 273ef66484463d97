// main.c of an exported kernel: allocate the inputs (the same deterministic values the tuner
// used), run the unscheduled reference and the tuned kernel, check the output, then time the
// tuned kernel with TVM's protocol and print the median. Needs nothing but libc, libm, OpenMP.
import type { ComputeDef } from '../../tensor/compute.ts';
import { INPUT_VALUE_C, tolerance } from '../../tensor/data.ts';
import { prepareName, referenceName, tunedName } from './c-sources.ts';

/** Exit status of the harness when the tuned kernel disagrees with the reference. */
export const EXPORT_WRONG_ANSWER_EXIT = 3;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** A C string literal of the UTF-8 bytes: printable ASCII kept, everything else octal-escaped
 *  ('?' too, so no trigraph can form). */
export function cString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (byte >= 0x20 && byte < 0x7f && ch !== '?') out += ch;
    else out += `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}

export interface HarnessFigures {
  /** The measurement in the tuning log, printed next to the new one. */
  recordedSeconds: number;
  recordedWhere: string;
  simulated: boolean;
}

export function renderExportHarness(def: ComputeDef, figures: HarnessFigures): string {
  const tensors = [...def.inputs, def.output];
  const args = tensors.map((t) => t.name).join(', ');
  const refArgs = [...def.inputs.map((t) => t.name), 'ff_ref'].join(', ');
  const out = def.output.name, outSize = `${size(def.output.shape)}L`;
  const { atol, rtol } = tolerance(def.reduce.reduce((n, a) => n * a.extent, 1));
  const recorded = `${figures.simulated ? 'SIMULATED estimate (sim target, not a device measurement)' : 'measured'} ${figures.recordedWhere}`;
  return `/* Harness for ${def.key}, exported by flexfarm. Build and run: make run */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kernel.h"

#define FLOPS ((double)${def.flops})
#define RECORDED_SECONDS ${figures.recordedSeconds.toPrecision(9)}
static const char recorded_where[] = ${cString(recorded)};

${INPUT_VALUE_C}

static float* ff_alloc(long n) {
  void* p = NULL;
  if (posix_memalign(&p, 64, (size_t)n * sizeof(float) + 64) != 0) {
    fprintf(stderr, "cannot allocate %ld floats\\n", n);
    exit(4);
  }
  return (float*)p;
}

static double ff_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int ff_cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  int repeat = 5, check = 1;
  double min_repeat_ms = 100;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--min-repeat-ms") && i + 1 < argc) min_repeat_ms = atof(argv[++i]);
    else if (!strcmp(argv[i], "--no-check")) check = 0;
    else { fprintf(stderr, "usage: %s [--repeat N] [--min-repeat-ms MS] [--no-check]\\n", argv[0]); return 2; }
  }
  if (repeat < 1) repeat = 1;
${tensors.map((t) => `  float* ${t.name} = ff_alloc(${size(t.shape)}L);`).join('\n')}
${def.inputs.map((t, i) => `  for (long i = 0; i < ${size(t.shape)}L; ++i) ${t.name}[i] = ff_input_value(${i}, i);`).join('\n')}
  /* NaN first, so an element the kernel never writes fails the check. */
  for (long i = 0; i < ${outSize}; ++i) ${out}[i] = NAN;

  printf("${def.key}\\n");
  ${prepareName(def)}(${args});  /* lays out the constant inputs once, untimed */
  ${tunedName(def)}(${args});  /* first run: the one checked */
  if (check) {
    float* ff_ref = ff_alloc(${outSize});
    double start = ff_now();
    ${referenceName(def)}(${refArgs});
    double ref_seconds = ff_now() - start;
    double max_err = 0;
    for (long i = 0; i < ${outSize}; ++i) {
      double err = fabs((double)${out}[i] - (double)ff_ref[i]);
      if (!(err <= ${atol} + ${rtol} * fabs((double)ff_ref[i]))) {
        printf("WRONG ANSWER: output element %ld is %g, the reference gives %g (tolerance ${atol} + ${rtol}*|ref|)\\n",
               i, (double)${out}[i], (double)ff_ref[i]);
        return ${EXPORT_WRONG_ANSWER_EXIT};
      }
      if (err > max_err) max_err = err;
    }
    printf("correct: all %ld outputs match the unscheduled reference (max abs error %g)\\n", ${outSize}, max_err);
    printf("reference: %.6g s (unscheduled kernel, one run)\\n", ref_seconds);
    free(ff_ref);
  }

  /* number: runs per repeat, raised until one repeat lasts min_repeat_ms; the calibration passes
   * are discarded and also warm the caches and wake the idle cores. */
  long number = 1;
  for (int pass = 0; pass < 3; ++pass) {
    for (;;) {
      double start = ff_now();
      for (long j = 0; j < number; ++j) ${tunedName(def)}(${args});
      double took = ff_now() - start;
      if (took >= min_repeat_ms / 1000.0 || number >= 1000000) break;
      long next = took > 0 ? (long)ceil(number * (min_repeat_ms / 1000.0) / took * 1.1) : number * 10;
      number = next > number * 10 ? number * 10 : (next > number ? next : number + 1);
    }
  }
  double* seconds = (double*)malloc(sizeof(double) * (size_t)repeat);
  for (int r = 0; r < repeat; ++r) {
    double start = ff_now();
    for (long j = 0; j < number; ++j) ${tunedName(def)}(${args});
    seconds[r] = (ff_now() - start) / (double)number;
  }
  qsort(seconds, (size_t)repeat, sizeof(double), ff_cmp);
  double median = repeat % 2 ? seconds[repeat / 2] : 0.5 * (seconds[repeat / 2 - 1] + seconds[repeat / 2]);
  printf("median: %.6g s per run (%d repeats of %ld runs), %.2f GFLOP/s\\n", median, repeat, number, FLOPS / median / 1e9);
  printf("recorded: %.6g s, %.2f GFLOP/s (%s)\\n", RECORDED_SECONDS, FLOPS / RECORDED_SECONDS / 1e9, recorded_where);
  free(seconds);
  return 0;
}
`;
}
