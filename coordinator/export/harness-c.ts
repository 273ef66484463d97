// main.c of an exported kernel: allocate the inputs (the same deterministic values the tuner
// used), run the unscheduled reference and the tuned kernel, check the output, then time the
// tuned kernel with TVM's protocol and print the median. Needs nothing but libc, libm, OpenMP: the
// one C harness (contracts/c-harness/ff-harness.h) is inlined, not included.
import { HARNESS_C, HARNESS_EXIT } from '../../contracts/c-harness/harness-source.ts';
import type { ComputeDef } from '../../tensor/compute.ts';
import { INPUT_VALUE_C, tolerance } from '../../tensor/data.ts';
import { prepareName, referenceName, tunedName } from './c-sources.ts';

/** Exit status of the harness when the tuned kernel disagrees with the reference. */
export const EXPORT_WRONG_ANSWER_EXIT = HARNESS_EXIT.WRONG_ANSWER;

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
${HARNESS_C}
#include "kernel.h"

#define FLOPS ((double)${def.flops})
#define RECORDED_SECONDS ${figures.recordedSeconds.toPrecision(9)}
static const char recorded_where[] = ${cString(recorded)};

${INPUT_VALUE_C}

static float* ff_alloc(long n) {
  float* p = ff_try_alloc(n);
  if (!p) { fprintf(stderr, "cannot allocate %ld floats\\n", n); exit(FF_EXIT_NO_MEMORY); }
  return p;
}

/* The tuned kernel as the harness's run function: ctx holds the tensors in parameter order. */
static void ff_run(void* ctx) {
  float** t = (float**)ctx;
  ${tunedName(def)}(${tensors.map((_, i) => `t[${i}]`).join(', ')});
}

int main(int argc, char** argv) {
  int check = 1;
  ff_harness_options o = ff_harness_defaults(5, 100);
  o.passes = 3;
  o.agree = -1;  /* three calibration passes, each also warming caches and waking idle cores */
  for (int i = 1; i < argc; ++i) {
    if (ff_harness_flag(&o, FF_FLAG_REPEAT | FF_FLAG_MIN_REPEAT_MS, argc, argv, &i)) continue;
    if (!strcmp(argv[i], "--no-check")) check = 0;
    else ff_usage(argv[0], "[--repeat N] [--min-repeat-ms MS] [--no-check]");
  }
  ff_harness_flags_done(&o);
${tensors.map((t) => `  float* ${t.name} = ff_alloc(${size(t.shape)}L);`).join('\n')}
${def.inputs.map((t, i) => `  for (long i = 0; i < ${size(t.shape)}L; ++i) ${t.name}[i] = ff_input_value(${i}, i);`).join('\n')}
  /* NaN first, so an element the kernel never writes fails the check. */
  for (long i = 0; i < ${outSize}; ++i) ${out}[i] = NAN;
  float* tensors[] = { ${args} };
  ff_wall wall = { ff_run, tensors };

  printf("${def.key}\\n");
  ${prepareName(def)}(${args});  /* lays out the constant inputs once, untimed */
  ${tunedName(def)}(${args});  /* first run: the one checked */
  if (check) {
    float* ff_ref = ff_alloc(${outSize});
    double start = ff_now();
    ${referenceName(def)}(${refArgs});
    double ref_seconds = ff_now() - start;
    double max_err = 0;
    long bad = ff_mismatch(${out}, ff_ref, ${outSize}, ${atol}, ${rtol}, &max_err);
    if (bad >= 0) {
      printf("WRONG ANSWER: output element %ld is %g, the reference gives %g (tolerance ${atol} + ${rtol}*|ref|)\\n",
             bad, (double)${out}[bad], (double)ff_ref[bad]);
      return ${EXPORT_WRONG_ANSWER_EXIT};
    }
    printf("correct: all %ld outputs match the unscheduled reference (max abs error %g)\\n", ${outSize}, max_err);
    printf("reference: %.6g s (unscheduled kernel, one run)\\n", ref_seconds);
    free(ff_ref);
  }

  ff_timing timing = ff_measure(ff_wall_timer, &wall, &o);
  double median = ff_median(&timing);
  printf("median: %.6g s per run (%d repeats of %ld runs), %.2f GFLOP/s\\n", median, timing.count, timing.number, FLOPS / median / 1e9);
  printf("recorded: %.6g s, %.2f GFLOP/s (%s)\\n", RECORDED_SECONDS, FLOPS / RECORDED_SECONDS / 1e9, recorded_where);
  free(timing.seconds);
  return 0;
}
`;
}
