// The C main() compiled with every CPU kernel (and with FPGA C simulation): allocate and fill
// inputs, run once and compare with the reference output, then time under TVM's protocol.
// It prints one JSON line; exit status 3 means a wrong answer, 4 an allocation failure.
import type { ComputeDef } from '../../../tensor/compute.ts';
import { INPUT_VALUE_C } from '../../../tensor/data.ts';

export const HARNESS_EXIT = { WRONG_ANSWER: 3, NO_MEMORY: 4, USAGE: 2 } as const;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** `prepareName`: the kernel's prepare function (packing constant inputs), called once after the
 *  inputs are filled and before the first run, untimed. */
export function renderHarness(def: ComputeDef, kernelName = 'kernel', prepareName?: string): string {
  const tensors = [...def.inputs, def.output];
  const alloc = tensors.map((t) => `  float* ${t.name} = ff_alloc(${size(t.shape)}L);`);
  const fill = def.inputs.map((t, i) => `  for (long i = 0; i < ${size(t.shape)}L; ++i) ${t.name}[i] = ff_input_value(${i}, i);`);
  const args = tensors.map((t) => t.name).join(', ');
  const call = `${kernelName}(${args})`;
  const out = def.output.name, outSize = `${size(def.output.shape)}L`;
  return `
/* ---- harness: inputs, correctness check, timing (TVM protocol) ---- */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

${INPUT_VALUE_C}

static float* ff_alloc(long n) {
  void* p = NULL;
  if (posix_memalign(&p, 64, (size_t)n * sizeof(float) + 64) != 0) {
    printf("{\\"ok\\":false,\\"code\\":\\"RUNTIME\\",\\"message\\":\\"cannot allocate %ld floats\\"}\\n", n);
    exit(${HARNESS_EXIT.NO_MEMORY});
  }
  return (float*)p;
}

static double ff_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char** argv) {
  const char* ref_path = NULL; const char* write_path = NULL;
  double atol = 1e-5, rtol = 1e-4, min_repeat_ms = 50, max_ms = 0; int repeat = 3, timing = 1;
  const double started = ff_now();
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--ref") && i + 1 < argc) ref_path = argv[++i];
    else if (!strcmp(argv[i], "--write") && i + 1 < argc) write_path = argv[++i];
    else if (!strcmp(argv[i], "--atol") && i + 1 < argc) atol = atof(argv[++i]);
    else if (!strcmp(argv[i], "--rtol") && i + 1 < argc) rtol = atof(argv[++i]);
    else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--min-repeat-ms") && i + 1 < argc) min_repeat_ms = atof(argv[++i]);
    else if (!strcmp(argv[i], "--max-ms") && i + 1 < argc) max_ms = atof(argv[++i]);
    else if (!strcmp(argv[i], "--no-time")) timing = 0;
    else { fprintf(stderr, "usage: %s [--ref F] [--write F] [--atol X] [--rtol X] [--repeat N] [--min-repeat-ms MS] [--max-ms MS] [--no-time]\\n", argv[0]); return ${HARNESS_EXIT.USAGE}; }
  }
  if (repeat < 1) repeat = 1;
${alloc.join('\n')}
${fill.join('\n')}
  /* NaN everywhere first, so an element the kernel never writes fails the check. */
  for (long i = 0; i < ${outSize}; ++i) ${out}[i] = NAN;

${prepareName ? `  ${prepareName}(${args});  /* lays out the constant inputs once, untimed */
` : ''}
  ${call};  /* warm-up run, also the one checked */

  double max_err = 0;
  if (ref_path) {
    float* ref = ff_alloc(${outSize});
    FILE* f = fopen(ref_path, "rb");
    if (!f || fread(ref, sizeof(float), (size_t)${outSize}, f) != (size_t)${outSize}) {
      printf("{\\"ok\\":false,\\"code\\":\\"RUNTIME\\",\\"message\\":\\"cannot read reference output %s\\"}\\n", ref_path);
      return 1;
    }
    fclose(f);
    for (long i = 0; i < ${outSize}; ++i) {
      double err = fabs((double)${out}[i] - (double)ref[i]);
      if (!(err <= atol + rtol * fabs((double)ref[i]))) {
        printf("{\\"ok\\":false,\\"code\\":\\"WRONG_ANSWER\\",\\"message\\":\\"output element %ld is %g, reference %g (tolerance %g + %g*|ref|)\\"}\\n",
               i, (double)${out}[i], (double)ref[i], atol, rtol);
        return ${HARNESS_EXIT.WRONG_ANSWER};
      }
      if (err > max_err) max_err = err;
    }
  }
  if (write_path) {
    FILE* f = fopen(write_path, "wb");
    if (!f || fwrite(${out}, sizeof(float), (size_t)${outSize}, f) != (size_t)${outSize}) {
      printf("{\\"ok\\":false,\\"code\\":\\"RUNTIME\\",\\"message\\":\\"cannot write output %s\\"}\\n", write_path);
      return 1;
    }
    fclose(f);
  }

  /* number: raised until one repeat lasts min_repeat_ms. Calibration runs are discarded and go on
   * until two passes agree within 15%: the first runs after start-up are slow (idle cores waking,
   * caches and TLB cold), and a single warm-up run does not absorb that. */
  /* --max-ms: a wall-clock budget. On a host whose cores are shared, thread wake-ups can slow a
   * kernel many times over; calibration then stops at half the budget and repeats at the budget,
   * so a slow phase yields fewer runs rather than a timeout. */
  const double budget_s = max_ms > 0 ? max_ms / 1000.0 : 1e30;
  long number = 1;
  double previous = 0;
  for (int pass = 0; timing && pass < 6 && ff_now() - started < budget_s / 2; ++pass) {
    double want = min_repeat_ms / 1000.0, took = 0;
    for (;;) {
      double start = ff_now();
      for (long j = 0; j < number; ++j) ${call};
      took = ff_now() - start;
      if (took >= want || number >= 1000000 || ff_now() - started >= budget_s / 2) break;
      long next = took > 0 ? (long)ceil(number * want / took * 1.1) : number * 10;
      number = next > number * 10 ? number * 10 : (next > number ? next : number + 1);
    }
    double per_run = took / (double)number;
    if (pass > 0 && fabs(per_run - previous) <= 0.15 * per_run) break;
    previous = per_run;
  }
  printf("{\\"ok\\":true,\\"maxAbsErr\\":%g,\\"number\\":%ld,\\"seconds\\":[", max_err, timing ? number : 0);
  for (int r = 0; timing && r < repeat && (r == 0 || ff_now() - started < budget_s); ++r) {
    double start = ff_now();
    long done = 0;
    while (done < number) {
      ${call};
      ++done;
      if (ff_now() - started >= budget_s) break;
    }
    printf("%s%.9g", r ? "," : "", (ff_now() - start) / (double)done);
  }
  printf("]}\\n");
  return 0;
}
`;
}
