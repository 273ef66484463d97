/* The one C harness of flexfarm: flag parsing, TVM's calibrate-and-repeat timing loop, the
 * reference check, the median and the JSON report. Inlined by the TypeScript renderers into the
 * CPU and CUDA measurement programs and the exported kernel's main.c (contracts/c-harness/
 * harness-source.ts), #included by the bench anchors. C99 and C++ alike: the CUDA harness and the
 * FPGA C simulation compile it as C++.
 *
 * What a program brings: its own buffers and kernel call, wrapped as an ff_timer_fn (wall clock
 * around a run function here, CUDA events in the CUDA harness), and its own usage text. */
#ifndef FF_HARNESS_H
#define FF_HARNESS_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Exit statuses; contracts/c-harness/harness-source.ts mirrors them as HARNESS_EXIT. */
#define FF_EXIT_FAILED 1
#define FF_EXIT_USAGE 2
#define FF_EXIT_WRONG_ANSWER 3
#define FF_EXIT_NO_MEMORY 4

/* "No deadline": far beyond any clock reading, so every comparison with it is false. */
#define FF_FOREVER 1e300

static inline double ff_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* One JSON failure line on stdout, then exit. Escapes nothing: callers format only their own
 * messages, file paths and numbers. */
static inline void ff_fail_json(const char* code, int status, const char* format, ...) {
  va_list args;
  va_start(args, format);
  printf("{\"ok\":false,\"code\":\"%s\",\"message\":\"", code);
  vprintf(format, args);
  printf("\"}\n");
  va_end(args);
  fflush(stdout);
  exit(status);
}

/* 64-byte aligned, with slack so vector loads past the end stay inside the block; NULL on failure. */
static inline float* ff_try_alloc(long n) {
  void* p = NULL;
  return posix_memalign(&p, 64, (size_t)n * sizeof(float) + 64) == 0 ? (float*)p : NULL;
}

/* `where` finishes the message ("" or " on the host"). */
static inline float* ff_alloc_or_fail(long n, const char* where) {
  float* p = ff_try_alloc(n);
  if (!p) ff_fail_json("RUNTIME", FF_EXIT_NO_MEMORY, "cannot allocate %ld floats%s", n, where);
  return p;
}

/* ---- flags ---- */

enum {
  FF_FLAG_REF = 1, FF_FLAG_WRITE = 2, FF_FLAG_ATOL = 4, FF_FLAG_RTOL = 8, FF_FLAG_REPEAT = 16,
  FF_FLAG_MIN_REPEAT_MS = 32, FF_FLAG_MAX_MS = 64, FF_FLAG_NO_TIME = 128,
  FF_FLAGS_MEASURE = 255 /* every flag: the protocol the agents speak (agent/measure.ts) */
};

typedef struct {
  const char* ref_path;   /* --ref: the reference output to compare the first run with */
  const char* write_path; /* --write: where to write the first run's output */
  double atol, rtol;
  int repeat;             /* timed repeats */
  double min_repeat_ms;   /* `number` is raised until one repeat lasts this long */
  double max_ms;          /* wall-clock budget (0: none); see ff_measure */
  int timing;             /* 0 after --no-time: check only */
  int passes;             /* calibration passes at most */
  double agree;           /* calibration ends when two passes agree within this share; < 0: never early */
  double started;         /* ff_now() when the program started, for the budget */
} ff_harness_options;

static inline ff_harness_options ff_harness_defaults(int repeat, double min_repeat_ms) {
  ff_harness_options o;
  memset(&o, 0, sizeof o);
  o.atol = 1e-5; o.rtol = 1e-4;
  o.repeat = repeat; o.min_repeat_ms = min_repeat_ms;
  o.timing = 1; o.passes = 6; o.agree = 0.15;
  o.started = ff_now();
  return o;
}

/* Reads argv[*i] (and its value) when it is one of the `accepted` flags; 0 when it is not, so the
 * caller can try its own flags and then print its usage. */
static inline int ff_harness_flag(ff_harness_options* o, unsigned accepted, int argc, char** argv, int* i) {
  const char* a = argv[*i];
  const int value = *i + 1 < argc;
  if ((accepted & FF_FLAG_NO_TIME) && !strcmp(a, "--no-time")) { o->timing = 0; return 1; }
  if (!value) return 0;
  const char* v = argv[*i + 1];
  if ((accepted & FF_FLAG_REF) && !strcmp(a, "--ref")) o->ref_path = v;
  else if ((accepted & FF_FLAG_WRITE) && !strcmp(a, "--write")) o->write_path = v;
  else if ((accepted & FF_FLAG_ATOL) && !strcmp(a, "--atol")) o->atol = atof(v);
  else if ((accepted & FF_FLAG_RTOL) && !strcmp(a, "--rtol")) o->rtol = atof(v);
  else if ((accepted & FF_FLAG_REPEAT) && !strcmp(a, "--repeat")) o->repeat = atoi(v);
  else if ((accepted & FF_FLAG_MIN_REPEAT_MS) && !strcmp(a, "--min-repeat-ms")) o->min_repeat_ms = atof(v);
  else if ((accepted & FF_FLAG_MAX_MS) && !strcmp(a, "--max-ms")) o->max_ms = atof(v);
  else return 0;
  ++*i;
  return 1;
}

/* Call after the last flag. */
static inline void ff_harness_flags_done(ff_harness_options* o) {
  if (o->repeat < 1) o->repeat = 1;
}

static inline void ff_usage(const char* program, const char* flags) {
  fprintf(stderr, "usage: %s %s\n", program, flags);
  exit(FF_EXIT_USAGE);
}

/* The measurement programs' command line (CPU, FPGA C simulation, CUDA): every flag, nothing else. */
static inline ff_harness_options ff_measure_options(int argc, char** argv) {
  ff_harness_options o = ff_harness_defaults(3, 50);
  for (int i = 1; i < argc; ++i) {
    if (!ff_harness_flag(&o, FF_FLAGS_MEASURE, argc, argv, &i))
      ff_usage(argv[0], "[--ref F] [--write F] [--atol X] [--rtol X] [--repeat N] [--min-repeat-ms MS] [--max-ms MS] [--no-time]");
  }
  ff_harness_flags_done(&o);
  return o;
}

/* ---- correctness ---- */

/* The index of the first element of `got` outside atol + rtol*|want| of `want` (NaN never is
 * inside), or -1; *max_err: the largest error before it. */
static inline long ff_mismatch(const float* got, const float* want, long n, double atol, double rtol, double* max_err) {
  for (long i = 0; i < n; ++i) {
    double err = fabs((double)got[i] - (double)want[i]);
    if (!(err <= atol + rtol * fabs((double)want[i]))) return i;
    if (err > *max_err) *max_err = err;
  }
  return -1;
}

/* --ref: compares the first run's output with the reference file; a mismatch is WRONG_ANSWER JSON
 * and exit 3, an unreadable file RUNTIME and exit 1. Returns the largest absolute error. */
static inline double ff_check_reference(const float* out, long n, const ff_harness_options* o) {
  double max_err = 0;
  if (!o->ref_path) return max_err;
  float* ref = ff_alloc_or_fail(n, "");
  FILE* f = fopen(o->ref_path, "rb");
  if (!f || fread(ref, sizeof(float), (size_t)n, f) != (size_t)n)
    ff_fail_json("RUNTIME", FF_EXIT_FAILED, "cannot read reference output %s", o->ref_path);
  fclose(f);
  long bad = ff_mismatch(out, ref, n, o->atol, o->rtol, &max_err);
  if (bad >= 0)
    ff_fail_json("WRONG_ANSWER", FF_EXIT_WRONG_ANSWER, "output element %ld is %g, reference %g (tolerance %g + %g*|ref|)",
                 bad, (double)out[bad], (double)ref[bad], o->atol, o->rtol);
  free(ref);
  return max_err;
}

/* --write: the first run's output, raw floats. */
static inline void ff_write_output(const float* out, long n, const ff_harness_options* o) {
  if (!o->write_path) return;
  FILE* f = fopen(o->write_path, "wb");
  if (!f || fwrite(out, sizeof(float), (size_t)n, f) != (size_t)n)
    ff_fail_json("RUNTIME", FF_EXIT_FAILED, "cannot write output %s", o->write_path);
  fclose(f);
}

/* ---- timing (TVM's protocol) ---- */

/* Seconds per run over `number` runs; it may stop early, once ff_now() passes `deadline`. */
typedef double (*ff_timer_fn)(void* ctx, long number, double deadline);

typedef void (*ff_run_fn)(void* ctx);

/* The wall-clock timer around a run function (CPU kernels, anchors): ctx is an ff_wall. */
typedef struct { ff_run_fn run; void* ctx; } ff_wall;

static inline double ff_wall_timer(void* wall, long number, double deadline) {
  const ff_wall* w = (const ff_wall*)wall;
  double start = ff_now();
  long done = 0;
  if (deadline >= FF_FOREVER) {
    for (; done < number; ++done) w->run(w->ctx);
  } else {
    /* one clock reading per run: a slow phase ends the repeat at the deadline */
    while (done < number) {
      w->run(w->ctx);
      ++done;
      if (ff_now() >= deadline) break;
    }
  }
  return (ff_now() - start) / (double)done;
}

typedef struct {
  long number;      /* runs per repeat (0 without timing) */
  int count;        /* repeats made */
  double* seconds;  /* seconds per run, one per repeat */
} ff_timing;

/* `number` is raised until one repeat lasts min_repeat_ms. Calibration runs are discarded and go
 * on until two passes agree within `agree`: the first runs after start-up are slow (idle cores
 * waking, caches and TLB cold, GPU clocks ramping), and one warm-up run does not absorb that.
 * --max-ms: a wall-clock budget. On a host whose cores are shared, thread wake-ups can slow a
 * kernel many times over; calibration then stops at half the budget and repeats at the budget,
 * so a slow phase yields fewer runs rather than a timeout. The caller has made (and checked) the
 * warm-up run. */
static inline ff_timing ff_measure(ff_timer_fn timer, void* ctx, const ff_harness_options* o) {
  const double budget_s = o->max_ms > 0 ? o->max_ms / 1000.0 : FF_FOREVER;
  const double half = o->max_ms > 0 ? o->started + budget_s / 2 : FF_FOREVER;
  const double end = o->max_ms > 0 ? o->started + budget_s : FF_FOREVER;
  long number = 1;
  double previous = 0;
  for (int pass = 0; o->timing && pass < o->passes && ff_now() < half; ++pass) {
    double want = o->min_repeat_ms / 1000.0, per_run = 0;
    for (;;) {
      per_run = timer(ctx, number, FF_FOREVER);
      double took = per_run * (double)number;
      if (took >= want || number >= 1000000 || ff_now() >= half) break;
      long next = took > 0 ? (long)ceil(number * want / took * 1.1) : number * 10;
      number = next > number * 10 ? number * 10 : (next > number ? next : number + 1);
    }
    if (o->agree >= 0 && pass > 0 && fabs(per_run - previous) <= o->agree * per_run) break;
    previous = per_run;
  }
  ff_timing t;
  t.number = o->timing ? number : 0;
  t.count = 0;
  t.seconds = (double*)malloc(sizeof(double) * (size_t)o->repeat);
  for (int r = 0; o->timing && r < o->repeat && (r == 0 || ff_now() < end); ++r)
    t.seconds[t.count++] = timer(ctx, number, end);
  return t;
}

static inline int ff_compare_doubles(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

/* Sorts the repeats and returns their median. */
static inline double ff_median(ff_timing* t) {
  const int n = t->count;
  if (n == 0) return 0;
  qsort(t->seconds, (size_t)n, sizeof(double), ff_compare_doubles);
  return n % 2 ? t->seconds[n / 2] : 0.5 * (t->seconds[n / 2 - 1] + t->seconds[n / 2]);
}

/* The success line: {"ok":true,<fields>"maxAbsErr":X,"number":N,"seconds":[...]}; `fields` is
 * "" or further members, each followed by a comma. */
static inline void ff_report(const char* fields, double max_err, const ff_timing* t) {
  printf("{\"ok\":true,%s\"maxAbsErr\":%g,\"number\":%ld,\"seconds\":[", fields, max_err, t->number);
  for (int r = 0; r < t->count; ++r) printf("%s%.9g", r ? "," : "", t->seconds[r]);
  printf("]}\n");
}

#endif
